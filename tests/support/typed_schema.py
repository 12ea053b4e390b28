"""Hold a JSON-like value to a TypedDict at run time: every key declared, every required key present, each value of its type.

mypy checks that the stages read the facts as dpaguard/facts.py declares them; this checks that the
normaliser builds them that way, so the declaration cannot drift from what is produced.
"""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict


def problems(value: Any, expected: Any, where: str = "$") -> list[str]:
    """What in `value` does not fit the type `expected` (empty: it fits), each as `<path>: <problem>`."""
    if expected is Any:
        return []
    if is_typeddict(expected):
        return _typed_dict(value, expected, where)
    origin = get_origin(expected)
    if origin is Literal:
        return [] if any(value == option and type(value) is type(option) for option in get_args(expected)) else [
            f"{where}: {value!r} is none of {get_args(expected)}"
        ]
    if origin in (Union, types.UnionType):
        found = [problems(value, option, where) for option in get_args(expected)]
        return [] if any(not p for p in found) else [f"{where}: {value!r} is no {expected}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: {type(value).__name__}, not a list"]
        (item,) = get_args(expected)
        return [p for position, member in enumerate(value) for p in problems(member, item, f"{where}[{position}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__}, not a dict"]
        key_type, value_type = get_args(expected)
        return [
            p for key, member in value.items()
            for p in (*problems(key, key_type, f"{where} key {key!r}"), *problems(member, value_type, f"{where}[{key!r}]"))
        ]
    if expected is type(None):
        return [] if value is None else [f"{where}: {value!r} is not null"]
    if expected is int:  # a bool is an int to Python, never to the Rego that reads it
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{where}: {value!r} is not an integer"]
    if isinstance(expected, type):
        return [] if isinstance(value, expected) else [f"{where}: {type(value).__name__} {value!r}, not {expected.__name__}"]
    raise TypeError(f"{where}: cannot check against {expected!r}")


def _typed_dict(value: Any, expected: Any, where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: {type(value).__name__}, not a {expected.__name__}"]
    hints = get_type_hints(expected)
    found = [f"{where}: {key!r} is not declared by {expected.__name__}" for key in value if key not in hints]
    found += [f"{where}: required {key!r} of {expected.__name__} is missing" for key in expected.__required_keys__ if key not in value]
    for key, member in value.items():
        if key in hints:
            found += problems(member, hints[key], f"{where}.{key}")
    return found


__all__ = ["problems"]
