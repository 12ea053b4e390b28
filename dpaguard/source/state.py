"""Stack exports: read a `pulumi stack export` file (or `dpaguard render` output) into a Deployment, and write one.

Accepted forms, as Pulumi itself accepts them: `{"version": 3, "deployment": {...}}` (stack export),
a bare deployment `{"manifest": ..., "resources": [...]}`, and a checkpoint
`{"version": 3, "checkpoint": {"latest": {...}}}`. Secrets are emptied and sensitive-named plaintext
redacted as each resource is read. Files above a size limit are refused before parsing; large files
are parsed incrementally, one resource at a time, with repeated strings shared, so a 200 MB export
needs a few hundred MB of memory rather than several times its size.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Mapping

from dpaguard import __version__, clock
from dpaguard.inputs import MAX_CONFIG_BYTES, read_input_text
from dpaguard.source.interface import SourceError
from dpaguard.model import REDACTED, Deployment, SourceKind
from dpaguard.deployment import redact
from dpaguard.deployment.credentials import redact_credentials
from dpaguard.source.project import (
    Project,
    StackConfig,
    find_project_file,
    load_project,
    config_key_positions,
    load_stack_config,
)
from dpaguard.urn import PROVIDER_TYPE_PREFIX, is_provider_type, parse_urn, short_stack_name

DEFAULT_MAX_STATE_BYTES = 256 * 1024 * 1024
MAX_STATE_ENV = "DPAGUARD_MAX_STATE_MB"
SUPPORTED_VERSIONS = (3,)
# Below this size the whole file is parsed at once (faster, and errors carry a line number).
_STREAM_ABOVE_BYTES = 16 * 1024 * 1024
# The stack config key of the environment a stack is checked as, and the package of dpaguard's own settings.
DPAGUARD_PACKAGE = "dpaguard"
_SHARED_STRING_MAX = 256
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


def _human(size: int) -> str:
    return f"{size / 1048576:.0f} MB" if size >= 1048576 else f"{size / 1024:.1f} kB"


class _Compactor:
    """Copies parsed JSON, credentials cut out of every string, sharing one object per distinct short string (keys, URNs, tokens, regions)."""

    def __init__(self) -> None:
        self.strings: dict[str, str] = {}
        self.redacted: dict[str, str] = {}  # a string as read -> its redacted, shared copy

    def share(self, text: str) -> str:
        """The one shared copy of a short string (long ones are rarely repeated)."""
        return self.strings.setdefault(text, text) if len(text) <= _SHARED_STRING_MAX else text

    def redact(self, text: str) -> str:
        """The shared copy of `text` with its credentials cut out (redact_credentials), each short string's answer kept."""
        answer = self.redacted.get(text)
        if answer is None:
            answer = self.share(redact_credentials(text))
            if len(text) <= _SHARED_STRING_MAX:
                self.redacted[text] = answer
        return answer

    def clean(self, value: Any) -> Any:
        """A copy of any JSON value with every string, keys included, redacted and shared (see redact)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(str(k)): self.clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.clean(v) for v in value]
        return value


# The resource fields downstream stages read, with the JSON type a real export gives them.
_FIELD_TYPES: dict[str, type] = {
    "custom": bool, "id": str, "parent": str, "provider": str, "dependencies": list,
    "inputs": dict, "outputs": dict, "propertyDependencies": dict, "sourcePosition": str,
}
_KIND_NAMES = {bool: "a boolean", str: "a string", list: "a list", dict: "an object"}


def _clean_resource(raw: Any, index: int, path: Path, compact: "_Compactor") -> dict[str, Any]:
    """One resource of an export, type-checked, redacted, its strings shared."""
    share = compact.share
    if not isinstance(raw, dict) or not isinstance(raw.get("urn"), str) or not isinstance(raw.get("type"), str):
        raise SourceError(f"{path}: resource #{index} is not a Pulumi resource (needs 'urn' and 'type')")
    if parse_urn(raw["urn"]) is None:
        raise SourceError(f"{path}: resource #{index} has a malformed URN")
    for key, kind in _FIELD_TYPES.items():
        if raw.get(key) is not None and not isinstance(raw[key], kind):
            raise SourceError(f"{path}: resource #{index} ({raw['urn']}): '{key}' is not {_KIND_NAMES[kind]}")
    resource: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("inputs", "outputs") and value is not None:
            resource[share(key)] = redact.redact_properties(value, compact.redact)
        else:
            # A credential in the URN (a resource's name), the type token, the id or the source position
            # is cut out like one in a value: every output prints these.
            resource[compact.redact(key)] = compact.clean(value)
    return resource


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
                f"{self.label}: state file is above the {_human(self.limit)} limit ({_human(self.total)} read)",
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


def _spool(path: Path, limit: int) -> Path:
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


def _read_small(source: Path, label: Path, limit: int) -> tuple[dict[str, Any], list[Any]]:
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


def _stream(source: Path, label: Path, limit: int) -> tuple[dict[str, Any], Iterator[Any]]:
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


def _config_from_stack_file(stack_file: Path) -> tuple[StackConfig, Project | None]:
    """A stack config file, with its project's declarations when its Pulumi.yaml can be found above it."""
    directory = stack_file.resolve().parent
    for candidate in (directory, *list(directory.parents)[:3]):
        try:
            find_project_file(candidate)
        except SourceError:
            continue
        project = load_project(candidate)
        if project.stack_config_dir == directory:
            name = stack_file.name[len("Pulumi."):-len(".yaml")]
            return load_stack_config(project, name), project
    if not stack_file.is_file():
        raise SourceError(f"{stack_file}: stack config file not found")
    name = stack_file.name[len("Pulumi."):-len(".yaml")] if stack_file.name.startswith("Pulumi.") else stack_file.stem
    bare = Project(
        name="", root=directory, file=stack_file, main_dir=directory, stack_config_dir=directory, stacks=(name,)
    )
    renamed = directory / f"Pulumi.{name}.yaml"
    if renamed.resolve() != stack_file.resolve():
        raise SourceError(f"{stack_file}: a stack config file is named Pulumi.<stack>.yaml")
    return load_stack_config(bare, name), None


def _provider_resource(resource: Mapping[str, Any]) -> bool:
    """Whether a resource is one a provider manages: it names a provider, or its type is a Scaleway or dynamic one."""
    from dpaguard.deployment.types import canonical_type, type_info

    kind = str(resource["type"])
    if resource.get("provider") or kind.startswith("pulumi-python:dynamic"):
        return True
    return kind.startswith("scaleway:") and type_info(canonical_type(kind)) is not None


def _position(value: Any) -> tuple[str, int, int] | None:
    if not isinstance(value, str) or not value.startswith("project:///") or "#" not in value:
        return None
    file, _, where = value[len("project:///"):].rpartition("#")
    line, _, column = where.partition(",")
    try:
        return file, int(line), int(column) if column else 1
    except ValueError:
        return None


def load_state(path: Path | str, *, stack_config: Path | str | None = None, max_bytes: int | None = None) -> Deployment:
    """Read a stack export (or `dpaguard render` output) into a redacted Deployment; SourceError when unusable."""
    path = Path(path)
    limit = max_state_bytes() if max_bytes is None else max_bytes
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SourceError(f"{path}: state file not found") from None
    except OSError as error:
        raise SourceError(f"{path}: cannot read state file: {error.strerror or type(error).__name__}") from None
    if stat.S_ISDIR(info.st_mode):
        raise SourceError(f"{path}: is a directory, not a stack export file")
    if stat.S_ISREG(info.st_mode) and info.st_size > limit:
        raise SourceError(
            f"{path}: state file is {_human(info.st_size)}, above the {_human(limit)} limit",
            hint=f"raise it with {MAX_STATE_ENV}=<megabytes>",
        )
    # A pipe or a device has no size to check: it is copied, within the limit, and read as a file.
    source = path if stat.S_ISREG(info.st_mode) else _spool(path, limit)
    try:
        return _load(source, path, limit, stack_config)
    finally:
        if source is not path:
            source.unlink(missing_ok=True)


def _load(file: Path, path: Path, limit: int, stack_config: Path | str | None) -> Deployment:
    """Parse `file` (the state file itself, or its copy), naming `path` in every message."""
    if file.stat().st_size <= _STREAM_ABOVE_BYTES:
        head, raw_resources = _read_small(file, path, limit)
        items: Any = iter(raw_resources)
    else:
        head, items = _stream(file, path, limit)
    version = head.get("version")
    if version is not None and version not in SUPPORTED_VERSIONS:
        shown = repr(version) if isinstance(version, int) else f"({_KIND_NAMES.get(type(version), 'not a number')})"
        raise SourceError(f"{path}: unsupported stack export version {shown} (dpaguard reads version 3)")
    compact = _Compactor()
    resources: list[dict[str, Any]] = []
    identities: set[tuple[str, str]] = set()
    for index, raw in enumerate(items):
        try:
            resource = _clean_resource(raw, index, path, compact)
        except RecursionError:
            raise SourceError(f"{path}: resource #{index} is nested too deeply") from None
        parsed = parse_urn(resource["urn"])
        assert parsed is not None
        identities.add((parsed[0], parsed[1]))
        if resource.get("custom") is False and _provider_resource(resource):
            # The normaliser judges custom resources only (a component holds no infrastructure of its
            # own): a provider's resource marked as a component would pass every control unexamined.
            raise SourceError(f"{path}: resource #{index} ({resource['urn']}) is a provider's resource "
                              "marked 'custom: false': refused rather than left unchecked")
        resources.append(resource)
    if not resources:
        raise SourceError(f"{path}: the stack export holds no resources (nothing to audit)")
    if len(identities) > 1:
        names = ", ".join(sorted(f"{s} ({p})" for s, p in identities))
        raise SourceError(f"{path}: resources from several stacks: {names} (export one stack per file)")
    stack, project = next(iter(identities))
    raw_block = head.get("dpaguard")
    block: dict[str, Any] = raw_block if isinstance(raw_block, dict) else {}
    if block and (block.get("stack"), block.get("project")) not in ((stack, project), (None, None)):
        raise SourceError(
            f"{path}: the dpaguard block names another stack or project than the resources' ({stack!r}, from their URNs)"
        )
    config: Mapping[str, Any]
    config_positions: Mapping[str, tuple[int, int]] = {}
    secret_keys: frozenset[str] = frozenset(str(k) for k in block.get("secretConfigKeys") or ())
    config_file = block.get("configFile")
    config_sha = block.get("configSha256")
    if stack_config is not None:
        loaded, owner = _config_from_stack_file(Path(stack_config))
        if short_stack_name(stack) != loaded.stack:
            raise SourceError(f"{stack_config}: is the config of stack '{loaded.stack}', the state is of stack '{stack}'")
        config = loaded.public()
        secret_keys = loaded.secret_keys
        config_file = owner.relative(loaded.file) if owner and loaded.file else str(stack_config)
        config_sha = loaded.sha256
        config_positions = loaded.positions
    elif isinstance(block.get("config"), dict):
        config = _without_dpaguard_settings(redact.redact_config(block["config"], secret_keys))
    else:
        config = _provider_config(resources)
    if config_file and not config_positions:
        # An export written by `dpaguard render` names its stack file: where it is at hand, findings point into it.
        config_positions = _positions_in(Path(str(config_file)))
    positions = {}
    for resource in resources:
        position = _position(resource.get("sourcePosition"))
        if position:
            positions[resource["urn"]] = position
    source: SourceKind = "program" if block.get("source") == "program" else "state"
    return Deployment(
        stack=stack,
        project=project,
        source=source,
        resources=tuple(resources),
        config=config,
        secret_config_keys=secret_keys,
        origin=str(path),
        config_file=str(config_file) if config_file else None,
        config_sha256=str(config_sha) if config_sha else None,
        source_positions=positions,
        config_positions=config_positions,
        state_manifest=dict(head.get("manifest") or {}),
    )


def _positions_in(path: Path) -> dict[str, tuple[int, int]]:
    """Where the stack config file at `path` sets each key; nothing when it cannot be read."""
    try:
        return config_key_positions(read_input_text(path, MAX_CONFIG_BYTES))
    except (OSError, UnicodeDecodeError):
        return {}


def _without_dpaguard_settings(config: dict[str, Any]) -> dict[str, Any]:
    """A config read from the state file itself, less dpaguard's own settings (`dpaguard:*`, the environment among them).

    Only a stack config (`--stack-config`), the stack's name or the CLI set them. A program (or whoever
    wrote the file) could otherwise relabel prod as dev, lower the backup minimum or state a client's
    retention period of its own choosing, and have the stack judged by its own rules.
    """
    return {key: value for key, value in config.items() if not key.startswith(f"{DPAGUARD_PACKAGE}:")}


def _provider_config(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """Without a stack config: `<package>:<key>` from the default providers' inputs, as the engine set them.

    dpaguard's own settings (`dpaguard:*`) are never taken from a provider resource: there is no
    `dpaguard` provider, so such a resource is one the program made up (to relabel its environment,
    say) and it sets nothing.
    """
    config: dict[str, Any] = {}
    for resource in resources:
        parsed = parse_urn(resource["urn"])
        if parsed is None or not is_provider_type(resource["type"]):
            continue
        if not parsed[3].startswith("default"):
            continue
        package = resource["type"][len(PROVIDER_TYPE_PREFIX):]
        if package == DPAGUARD_PACKAGE:
            continue
        for key, value in (resource.get("inputs") or {}).items():
            if key in ("version", "pluginDownloadURL"):
                continue
            config.setdefault(f"{package}:{key}", REDACTED if redact.is_secret(value) else value)
    return config


def to_export(deployment: Deployment) -> dict[str, Any]:
    """The deployment as stack-export JSON (version 3) with the `dpaguard` block; the input of load_state."""
    kind = "offline render" if deployment.source == "program" else "state"
    # The dpaguard block is written before the (possibly huge) resource list: JSON objects are unordered,
    # and this lets the incremental reader find it without a second pass.
    return {
        "version": 3,
        "dpaguard": {
            "stack": deployment.stack,
            "project": deployment.project,
            "source": deployment.source,
            "config": dict(deployment.config),
            "secretConfigKeys": sorted(deployment.secret_config_keys),
            "configFile": deployment.config_file,
            "configSha256": deployment.config_sha256,
        },
        "deployment": {
            "manifest": {
                "time": clock.now().isoformat(),
                "magic": "",
                "version": f"dpaguard {__version__} ({kind})",
            },
            "resources": [dict(r) for r in deployment.resources],
        },
    }


def export_json(deployment: Deployment) -> str:
    """to_export as indented JSON text, ending with a newline."""
    return json.dumps(to_export(deployment), indent=2, ensure_ascii=False) + "\n"
