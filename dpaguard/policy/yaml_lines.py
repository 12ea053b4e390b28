"""Strict YAML for the policy files: a safe loader whose mappings remember their line, and the checks every table uses.

Every fault is a PolicyError naming the file and line (`path:line: what: problem`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Iterator

import yaml

from dpaguard.errors import PolicyError
from dpaguard.inputs import MAX_CONFIG_BYTES, read_input_text
from dpaguard.yaml_dates import TIMESTAMP_TAG, checked_timestamp, refuse_duplicate_keys


class LineDict(dict[str, Any]):
    """A YAML mapping that remembers the line it starts on."""

    line: int = 0


# libyaml's parser when PyYAML was built with it (five times faster on the catalogue); same safe constructors.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):  # type: ignore[misc]
    """A safe loader whose mappings carry their line number."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    refuse_duplicate_keys(loader, node)
    constructed = loader.construct_mapping(node, deep=True)
    mapping = LineDict({str(k): v for k, v in constructed.items()})
    if len(mapping) != len(constructed):  # `1:` and `"1":` are one key once read as text
        raise yaml.constructor.ConstructorError(None, None, "duplicate key (two keys read as the same text)", node.start_mark)
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(TIMESTAMP_TAG, checked_timestamp)


def located(path: Path, line: int | None) -> str:
    return f"{path}:{line}" if line else str(path)


def read_yaml(path: Path, *, required: bool = True) -> Any:
    if not path.exists():
        if required:
            raise PolicyError(f"{path}: missing")
        return None
    try:
        text = read_input_text(path, MAX_CONFIG_BYTES)
    except OSError as error:
        raise PolicyError(f"{path}: cannot read: {error.strerror or error.__class__.__name__}") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: cannot read (UnicodeDecodeError)") from None
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise PolicyError(f"{located(path, line)}: invalid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise PolicyError(f"{path}: invalid YAML: {error}") from None


def line_of(value: Any) -> int | None:
    return value.line if isinstance(value, LineDict) else None


def require(entry: Any, key: str, kind: type | tuple[type, ...], path: Path, what: str) -> Any:
    if not isinstance(entry, dict) or key not in entry:
        raise PolicyError(f"{located(path, line_of(entry))}: {what}: missing `{key}`")
    value = entry[key]
    if not isinstance(value, kind) or isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise PolicyError(f"{located(path, line_of(entry))}: {what}: `{key}` has the wrong type ({type(value).__name__})")
    return value


def list_of(document: Any, key: str, path: Path) -> list[Any]:
    if not isinstance(document, dict):
        raise PolicyError(f"{path}: expected a mapping at the top level")
    value = document.get(key)
    if not isinstance(value, list):
        raise PolicyError(f"{located(path, line_of(document))}: `{key}` must be a list")
    return value


def keyed_entries(document: Any, key: str, path: Path, label: str, id_field: str) -> Iterator[tuple[Any, str, str, str]]:
    """Each entry of a list with its unique id: (entry, id, `<label> <id>` for messages, `file:line`)."""
    seen: set[str] = set()
    for entry in list_of(document, key, path):
        what = f"{label} {entry.get(id_field, '?') if isinstance(entry, dict) else '?'}"
        where = located(path, line_of(entry))
        entry_id = require(entry, id_field, str, path, what)
        if entry_id in seen:
            raise PolicyError(f"{where}: {what}: duplicate {id_field}")
        seen.add(entry_id)
        yield entry, entry_id, what, where


def date_of(value: Any) -> dt.date | None:
    """A YAML date (or an ISO date string) as a date; None for anything else."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None
