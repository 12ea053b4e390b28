"""The runner's answers to a program's lookups (data sources): those `--lookups` gives, else unknown.

Part of the child process of an offline render (`dpaguard.source._runner`, which loads this file by
its path): the standard library and the program's own `pulumi` only. dpaguard reads and checks the
`--lookups` file (`dpaguard.source.lookups`) and hands its entries over in the runner's request.

An entry answers a call when its token is the function's and each argument it names equals the
program's (a key may be written `project_id` or `projectId`: the program's are the provider's
camelCase names). A lookup no entry answers is unknown, as in a preview whose provider cannot be
reached. The output form (`get_x_output`) is wholly unknown, its applies skipped, as the SDK
makes it in a preview; the plain form (`get_x`) must return values its result type accepts, so each
of its text fields is a marker the monitor turns into the unknown value wherever it reaches a
resource, noting the lookup it came from. Either way an input built on it is unknown and the rules
that read it are undetermined (fail closed), never judged on an empty value, and the finding names
the lookup.
"""

from __future__ import annotations

import importlib
import re
import sys
from typing import Any

_markers = sys.modules["_dpaguard_render_markers"]
UNKNOWN: str = _markers.UNKNOWN
_WORD = re.compile(r"_([a-z0-9])")


def camel(key: str) -> str:
    """`project_id` -> `projectId`; a camelCase key stays as it is."""
    return _WORD.sub(lambda m: m.group(1).upper(), key)


# What stands for a field of a lookup no entry answers: text the program can handle as it would the real
# value (the SDK's result types accept only a string where a string is due), which the monitor turns into
# the unknown value wherever it reaches a resource's inputs, knowing from it which lookup it came from.
MARKER_PREFIX = f"{UNKNOWN}-lookup-"


def _field_kind(typ: Any) -> str:
    """"str", "list" or "" (anything else) for a field type of a lookup's result."""
    import collections.abc
    import typing

    from pulumi import _types

    typ = _types.unwrap_optional_type(typ) if typ is not None else typ
    if typ is str:
        return "str"
    if typing.get_origin(typ) in (list, collections.abc.Sequence, typing.Sequence):
        return "list"
    return ""


class Answers:
    """The `--lookups` entries, and the fields of each lookup's result type the program's SDK knows."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.entries = [
            (str(e["token"]), {camel(str(k)): v for k, v in (e.get("args") or {}).items()}, dict(e["result"]))
            for e in entries
        ]
        self.fields: dict[str, dict[str, str]] = {}  # token -> Pulumi name of each result field -> its kind
        self.tokens: list[str] = []  # the lookups a marker stands for, by its number

    def _match(self, token: str, args: dict[str, Any]) -> dict[str, Any] | None:
        for entry_token, wanted, result in self.entries:
            if entry_token == token and all(key in args and args[key] == value for key, value in wanted.items()):
                return result
        return None

    def marker(self, token: str) -> str:
        """The text standing for an unknown field of the lookup `token`."""
        if token not in self.tokens:
            self.tokens.append(token)
        return f"{MARKER_PREFIX}{self.tokens.index(token)}"

    def answer(self, token: str, args: Any) -> tuple[Any, bool]:
        """The result Struct for a call of `token` with `args` (a Struct), and whether an entry answered it.

        Fields a matching entry leaves out, and every field of a lookup no entry matches, are unknown.
        """
        from google.protobuf import struct_pb2

        struct_json = sys.modules["_dpaguard_render_monitor"].struct_json
        result = self._match(token, struct_json(args))
        fields = self.fields.get(token, {})
        given: dict[str, Any] = {}
        for key, value in (result or {}).items():
            given[camel(key) if camel(key) in fields else key] = value
        unknown: dict[str, Any] = {}
        for name, kind in fields.items():
            if name not in given and kind:
                unknown[name] = self.marker(token) if kind == "str" else [self.marker(token)]
        ret = struct_pb2.Struct()
        ret.update({**unknown, **given})
        return ret, result is not None

    def capture_result_types(self) -> None:
        """Learn each lookup's result fields from the type the provider's SDK passes (`typ`), before it asks the monitor.

        Every form of a lookup (`get_x`, `get_x_output`, `invoke_async`) goes through the SDK's
        `_invoke(tok, props, opts, typ, ...)`, 3.200 to the newest.
        """
        from pulumi import _types

        module: Any = importlib.import_module("pulumi.runtime.invoke")
        original = module._invoke
        fields = self.fields

        def _invoke(tok: str, props: Any, opts: Any = None, typ: Any = None, *args: Any, **kwargs: Any) -> Any:
            if typ is not None and tok not in fields:
                try:
                    fields[tok] = {name: _field_kind(t) for name, t in _types.output_type_types(typ).items()}
                except Exception:  # noqa: BLE001 a type this SDK cannot read: its fields stay empty, as before
                    fields[tok] = {}
            return original(tok, props, opts, typ, *args, **kwargs)

        module._invoke = _invoke


def _is_marker(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(MARKER_PREFIX)
    return isinstance(value, list) and len(value) == 1 and _is_marker(value[0])


def _all_unknown(value: Any) -> bool:
    """Whether a lookup's result is all markers: no `--lookups` entry answered it."""
    fields = value if isinstance(value, dict) else getattr(value, "__dict__", None)
    if not isinstance(fields, dict):
        return False
    marked = [v for v in fields.values() if v is not None]
    return bool(marked) and all(_is_marker(v) for v in marked)


def _unknown_output() -> Any:
    from pulumi import Output

    async def nothing() -> None:
        return None

    async def unknown() -> bool:
        return False

    return Output(set(), nothing(), unknown())


def unanswered_outputs_are_unknown(recorder: Any) -> None:
    """A lookup's output form (`get_x_output`) no entry answers is wholly unknown, as in a preview: its applies do not run."""
    import pulumi.runtime

    def wrapped(original: Any) -> Any:
        def invoke_output(tok: str, *args: Any, **kwargs: Any) -> Any:
            def unknown_unless_answered(value: Any) -> Any:
                if not _all_unknown(value):
                    return value
                recorder.unknown_output(tok)
                return _unknown_output()

            return original(tok, *args, **kwargs).apply(unknown_unless_answered)

        return invoke_output

    for name in ("invoke_output", "invoke_output_single"):
        original = getattr(pulumi.runtime, name, None)
        if original is not None:
            setattr(pulumi.runtime, name, wrapped(original))
