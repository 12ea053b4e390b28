"""Property values checked against the types of policies/dpa/properties.yaml before any rule reads them.

A rule that compares a number with a string answers by the engine's ordering of types (OPA sorts
every number before every string, rego-cpp compares them otherwise), and one that tests `== true`
passes the text "true". So a value of the wrong type never reaches the Rego: it is dropped (the
rules see the provider default) and recorded as malformed, and the controls that read the property
report the resource as undetermined (policies/rego/input_types.rego). So does a value unknown until
apply (preview): unknown_reads finds every part of a property a rule reads that holds the unknown
marker, the property itself or any item or field properties.yaml describes, at any depth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from dpaguard.model import REDACTED, UNKNOWN

INT64 = (-(2**63), 2**63)
# What a message says was found, by Python type of the (already cleaned) value.
_KINDS = {bool: "a boolean", int: "a whole number", float: "a fractional number", str: "text", list: "a list", dict: "an object"}
_EXPECTED = {"boolean": "a boolean", "integer": "a whole number", "string": "text", "list": "a list", "object": "an object"}


def whole_number(value: float) -> int | float:
    """A float that is a whole number within 64 bits as an int (30.0 is 30); any other float as it is."""
    if math.isfinite(value) and value.is_integer() and INT64[0] <= value < INT64[1]:
        return int(value)
    return value


def _kind(value: Any) -> str:
    if value == REDACTED:
        return "a secret"
    if isinstance(value, int) and not isinstance(value, bool) and not INT64[0] <= value < INT64[1]:
        return "a number beyond 64 bits"
    return _KINDS.get(type(value), type(value).__name__)


def _fits(value: Any, expected: str) -> bool:
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool) and INT64[0] <= value < INT64[1]
    if expected == "string":
        return isinstance(value, str) and value != REDACTED
    if expected == "list":
        return isinstance(value, list)
    if expected == "object":
        return isinstance(value, dict)
    return False


def _check(value: Any, schema: Mapping[str, Any], path: str, found: list[dict[str, str]]) -> Any:
    """The value with every part of the wrong type dropped (None), each recorded in `found`."""
    if value is None or value == UNKNOWN:
        return value
    expected = schema["type"]
    if not _fits(value, expected):
        found.append({"path": path, "expected": _EXPECTED[expected], "found": _kind(value)})
        return None
    if expected == "list" and "items" in schema:
        items = [_check(item, schema["items"], f"{path}[{i}]", found) for i, item in enumerate(value)]
        return [item for item in items if item is not None]
    if expected == "object" and "fields" in schema:
        checked = dict(value)
        for name, field in schema["fields"].items():
            if name in checked:
                checked[name] = _check(checked[name], field, f"{path}.{name}", found)
                if checked[name] is None:
                    del checked[name]
        return checked
    return value


def checked_props(props: dict[str, Any], types: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(props without the values of the wrong type, one entry per such value: path, expected, found, controls)."""
    if not types:
        return props, []
    malformed: list[dict[str, Any]] = []
    out = dict(props)
    for name, schema in types.items():
        if name not in out:
            continue
        found: list[dict[str, str]] = []
        value = _check(out[name], schema, name, found)
        if value is None:
            del out[name]  # null is unset to the provider, and to every rule (object.get gives the default)
        else:
            out[name] = value
        for entry in found:
            malformed.append({**entry, "controls": list(schema.get("controls", ()))})
    return out, malformed


def _unknown_parts(value: Any, schema: Mapping[str, Any], path: str, found: list[str]) -> None:
    """The paths below `path` where `value` is unknown, in the parts `schema` describes (what rules read)."""
    if value == UNKNOWN:
        found.append(path)
    elif isinstance(value, list) and "items" in schema:
        for position, item in enumerate(value):
            _unknown_parts(item, schema["items"], f"{path}[{position}]", found)
    elif isinstance(value, dict) and "fields" in schema:
        for name, field in schema["fields"].items():
            if name in value:
                _unknown_parts(value[name], field, f"{path}.{name}", found)


def unknown_reads(props: Mapping[str, Any], types: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """One entry per part of a property a rule reads that is unknown until apply: path, controls.

    A whole property, an item of a list or a field of an object that properties.yaml describes
    (`items`, `fields`): the parts rules read. A list's other contents and an object's other
    fields are read by no rule (a private network's computed endpoint ID), so an unknown there
    decides nothing.
    """
    unknown: list[dict[str, Any]] = []
    for name, schema in (types or {}).items():
        if name in props and not (schema.get("presence") and props[name] == UNKNOWN):
            found: list[str] = []
            _unknown_parts(props[name], schema, name, found)
            unknown.extend({"path": path, "controls": list(schema.get("controls", ()))} for path in found)
    return unknown
