"""Reading a stack export's JSON within a byte limit: whole below a size, incrementally above it.

The limit counts bytes read, not the size a file claims; numbers neither reader can hold as they are
(NaN, Infinity, integers beyond 64 bits, float overflows) are refused alike; an export that names the
keys holding its resources twice (which one is the stack?) is refused by both readers. Errors name
the file and a line or a byte range, never the text around them (it may hold a secret).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from dpaguard.source.interface import SourceError

DEFAULT_MAX_STATE_BYTES = 256 * 1024 * 1024
MAX_STATE_ENV = "DPAGUARD_MAX_STATE_MB"
_MAIN_KEYS = {"deployment": "deployment.resources.item", "checkpoint": "checkpoint.latest.resources.item",
              "resources": "resources.item"}


def max_state_bytes() -> int:
    """The size limit of a state file: DPAGUARD_MAX_STATE_MB when set, else 256 MB."""
    raw = os.environ.get(MAX_STATE_ENV)
    if raw:
        try:
            megabytes = float(raw)
        except ValueError:
            megabytes = math.nan
        if not (math.isfinite(megabytes) and 0 < megabytes * 1024 * 1024 < 2**62):
            raise SourceError(f"{MAX_STATE_ENV}={raw!r} is not a positive, finite number of megabytes")
        return max(1, int(megabytes * 1024 * 1024))
    return DEFAULT_MAX_STATE_BYTES


def human_size(size: int) -> str:
    """A size as reports say it: megabytes, else kilobytes."""
    return f"{size / 1048576:.0f} MB" if size >= 1048576 else f"{size / 1024:.1f} kB"


class _Budget:
    """A binary file read within a byte limit: reading beyond `limit` bytes raises SourceError.

    The limit counts bytes read, not the size the file claims, so a pipe, a device or a file that
    grows while it is read stops at the limit too. `seen` tallies the top-level keys of a stack
    export as the bytes go by (see _KeyTally), for the streaming reader's ambiguity check.
    """

    def __init__(self, handle: BinaryIO, label: Path, limit: int, tally: "_KeyTally | None" = None) -> None:
        self.handle = handle
        self.label = label
        self.limit = limit
        self.tally = tally
        self.before = 0  # bytes read before the latest read() call
        self.total = 0

    def read(self, size: int | None = -1) -> bytes:
        """At most `size` bytes (all that remains within the limit when negative)."""
        budget = self.limit + 1 - self.total
        wanted = budget if size is None or size < 0 else min(size, budget)
        try:
            data = self.handle.read(wanted)
        except OSError as error:
            raise SourceError(f"{self.label}: cannot read state file: {error.strerror or type(error).__name__}") from None
        self.before, self.total = self.total, self.total + len(data)
        if self.total > self.limit:
            raise SourceError(
                f"{self.label}: state file is above the {human_size(self.limit)} limit ({human_size(self.total)} read)",
                hint=f"raise it with {MAX_STATE_ENV}=<megabytes>",
            )
        if self.tally is not None:
            self.tally.feed(data)
        return data


class _KeyTally:
    """Counts, in raw bytes, the quoted names of the keys that hold a stack's resources.

    A stack export names each of them once; more (or an escape that could spell one) sends the
    streaming reader to an exact check of the top-level keys, which is slower but rarely needed.
    """

    NAMES = (b'"deployment"', b'"checkpoint"', b'"resources"', b'"latest"', b"\\u")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(self.NAMES, 0)
        self.tail = b""

    def feed(self, data: bytes) -> None:
        """Count the names in the next chunk (occurrences across the chunk boundary included, once)."""
        joined = self.tail + data
        for name in self.NAMES:
            self.counts[name] += joined.count(name) - self.tail.count(name)
        self.tail = joined[-12:]

    def plain(self, main: str) -> bool:
        """Whether the counts are those of an unambiguous export whose resources are under `main`."""
        expected = {b'"deployment"': 0, b'"checkpoint"': 0, b'"resources"': 1, b'"latest"': 0, b"\\u": 0}
        if main == "deployment":
            expected[b'"deployment"'] = 1
        elif main == "checkpoint":
            expected[b'"checkpoint"'] = expected[b'"latest"'] = 1
        return self.counts == expected


@contextlib.contextmanager
def _open(source: Path, label: Path, limit: int, tally: _KeyTally | None = None) -> Iterator[_Budget]:
    try:
        handle = source.open("rb")
    except OSError as error:
        raise SourceError(f"{label}: cannot read state file: {error.strerror or type(error).__name__}") from None
    with handle:
        yield _Budget(handle, label, limit, tally)


def spool(path: Path, limit: int) -> Path:
    """Copy a pipe or device (no size to check beforehand) into a temporary file, within the limit."""
    fd, name = tempfile.mkstemp(prefix="dpaguard-state-", suffix=".json")
    copy = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, _open(path, path, limit) as reader:
            while chunk := reader.read(1 << 20):
                out.write(chunk)
    except OSError as error:
        copy.unlink(missing_ok=True)
        raise SourceError(f"{path}: cannot buffer the state file: {error.strerror or type(error).__name__}") from None
    except BaseException:
        copy.unlink(missing_ok=True)
        raise
    return copy


class _BadNumber(ValueError):
    """A number the streaming parser refuses too: NaN or Infinity, an integer beyond 64 bits, a float overflow."""


def _constant(text: str) -> Any:
    raise _BadNumber("non-standard number (NaN or Infinity)")


def _integer(text: str) -> int:
    digits = text.lstrip("-")
    value = int(text) if len(digits) <= 19 else None
    if value is None or not -(2**63) <= value < 2**63:
        raise _BadNumber("integer overflow (beyond 64 bits)")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumber("numeric (floating point) overflow")
    return value


_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|(-?(?:Infinity|NaN)|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)')


def _bad_number_line(raw: bytes) -> int | None:
    """The line of the first number the readers refuse (outside strings), for the error message."""
    for match in _TOKENS.finditer(raw):
        token = match.group(1)
        if token is None:
            continue
        text = token.decode("ascii")
        try:
            if "NaN" in text or "Infinity" in text:
                raise _BadNumber(text)
            (_float if any(c in text for c in ".eE") else _integer)(text)
        except _BadNumber:
            return raw.count(b"\n", 0, match.start()) + 1
    return None


def read_whole(source: Path, label: Path, limit: int) -> tuple[dict[str, Any], list[Any]]:
    path = label
    tally = _KeyTally()
    with _open(source, label, limit, tally) as reader:
        raw = reader.read()
    try:
        data = json.loads(raw, parse_constant=_constant, parse_int=_integer, parse_float=_float)
    except json.JSONDecodeError as error:
        # json's messages are fixed phrases, except for a quoted character after some of them
        kind = error.msg.split(":", 1)[0]
        raise SourceError(f"{path}:{error.lineno}: not valid JSON: {kind}") from None
    except _BadNumber as error:
        line = _bad_number_line(raw)
        raise SourceError(f"{path}{f':{line}' if line else ''}: not valid JSON: {error}") from None
    except UnicodeDecodeError:
        raise SourceError(f"{path}: not valid JSON: not UTF-8 text") from None
    except RecursionError:
        raise SourceError(f"{path}: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise SourceError(f"{path}: not a Pulumi stack export (expected a JSON object)")
    head = {k: data[k] for k in ("version", "dpaguard") if k in data}
    present = [k for k in _MAIN_KEYS if k in data]
    if len(present) > 1:
        raise _ambiguous(path, present)
    main = present[0] if present else None
    if main is None:
        raise SourceError(f"{path}: not a Pulumi stack export (no 'deployment' with 'resources')")
    if not tally.plain(main):
        # json keeps the last of a repeated key, the streaming reader would read both: refused alike
        _exact_keys(source, label, limit)
    container: Any = data[main]
    if main == "checkpoint":
        container = container.get("latest") if isinstance(container, dict) else None
        container = container or {}
    if main != "resources":
        if not isinstance(container, dict):
            raise SourceError(f"{path}: not a Pulumi stack export ('{main}' is not an object)")
        resources = container.get("resources")
    else:
        resources = container
    if resources is None:
        resources = []
    if not isinstance(resources, list):
        raise SourceError(f"{path}: not a Pulumi stack export ('resources' is not a list)")
    manifest = container.get("manifest") if isinstance(container, dict) else None
    if isinstance(manifest, dict):  # when and by which Pulumi the state was written: the report's scope
        head["manifest"] = {k: manifest[k] for k in ("time", "version") if isinstance(manifest.get(k), str)}
    return head, resources


def _ambiguous(path: Path, keys: list[str]) -> SourceError:
    return SourceError(f"{path}: ambiguous stack export: it holds both {' and '.join(repr(k) for k in keys)} "
                       "(which is the stack?); export one form only")


def _stream_error(path: Path, error: BaseException, reader: _Budget | None) -> SourceError:
    """A parse error of the incremental parser as a kind and a byte range, never the text around it."""
    first = str(error).split("\n", 1)[0].strip().rstrip(".")
    if isinstance(error, UnicodeDecodeError):
        kind = "not UTF-8 text"
    elif first.startswith(("parse error: ", "lexical error: ")) and first.isprintable():
        kind = first  # yajl's fixed phrase; the excerpt of the file follows on the next lines
    else:
        kind = type(error).__name__
    where = f" in bytes {reader.before}-{reader.total}" if reader is not None else ""
    return SourceError(f"{path}: not valid JSON{where}: {kind}")


def _exact_keys(source: Path, label: Path, limit: int) -> None:
    """The slow, exact check: each key holding resources appears once, where a stack export puts it."""
    import ijson

    seen: dict[str, list[str]] = {}
    reader: _Budget | None = None
    try:
        with _open(source, label, limit) as reader:
            for prefix, event, value in ijson.parse(reader, use_float=True):
                if event == "map_key" and prefix in ("", "deployment", "checkpoint", "checkpoint.latest"):
                    seen.setdefault(prefix, []).append(value)
    except SourceError:
        raise
    except Exception as error:
        raise _stream_error(label, error, reader) from None
    top = [k for k in seen.get("", []) if k in _MAIN_KEYS]
    if len(set(top)) > 1:
        raise _ambiguous(label, sorted(set(top), key=list(_MAIN_KEYS).index))
    for keys in seen.values():
        if any(keys.count(k) > 1 for k in ("deployment", "checkpoint", "latest", "resources")):
            raise SourceError(f"{label}: ambiguous stack export: a key holding the resources "
                              "(deployment, checkpoint, latest, resources) is repeated")


def stream(source: Path, label: Path, limit: int) -> tuple[dict[str, Any], Iterator[Any]]:
    import ijson  # the incremental parser is only needed for large files

    path = label
    head: dict[str, Any] = {}
    main: str | None = None
    reader: _Budget | None = None
    try:
        with _open(source, label, limit) as reader:
            events = ijson.parse(reader, use_float=True)
            prefix, event, value = next(events)
            if event != "start_map":
                raise SourceError(f"{path}: not a Pulumi stack export (expected a JSON object)")
            builder: Any = None
            building_key = ""
            for prefix, event, value in events:
                if builder is not None:
                    builder.event(event, value)
                    if prefix == building_key and event in ("end_map", "end_array"):
                        head[building_key] = builder.value
                        builder = None
                    continue
                if prefix == "" and event == "map_key":
                    if value in _MAIN_KEYS:
                        main = value
                        break
                elif prefix == "version" and event in ("number", "string"):
                    head["version"] = value
                elif prefix == "dpaguard" and event == "start_map":
                    builder = ijson.common.ObjectBuilder()
                    builder.event(event, value)
                    building_key = "dpaguard"
    except SourceError:
        raise
    except StopIteration:
        raise SourceError(f"{path}: not valid JSON: empty or truncated") from None
    except Exception as error:  # ijson reports parse errors with several exception types
        raise _stream_error(path, error, reader) from None
    if main is None:
        raise SourceError(f"{path}: not a Pulumi stack export (no 'deployment' with 'resources')")
    found_main: str = main

    def resources() -> Iterator[Any]:
        tally = _KeyTally()
        reader: _Budget | None = None
        try:
            with _open(source, label, limit, tally) as reader:
                yield from ijson.items(reader, _MAIN_KEYS[found_main], use_float=True)
        except SourceError:
            raise
        except Exception as error:
            raise _stream_error(path, error, reader) from None
        if not tally.plain(found_main):
            _exact_keys(source, label, limit)

    def tail(key: str) -> Any:
        reader: _Budget | None = None
        try:
            with _open(source, label, limit) as reader:
                for item in ijson.items(reader, key, use_float=True):
                    return item
        except SourceError:
            raise
        except Exception as error:
            raise _stream_error(path, error, reader) from None
        return None

    if "dpaguard" not in head:
        found = tail("dpaguard")
        if found is not None:
            head["dpaguard"] = found
    if "version" not in head:
        found = tail("version")
        if found is not None:
            head["version"] = found
    return head, resources()


