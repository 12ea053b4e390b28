"""JSON output: the stable, documented document other tools read (docs/reports.md, "The JSON report")."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Callable

from dpaguard.model import Result
from dpaguard.report._shared import result_json

_CONTAINERS = (dict, list, tuple)


def render(result: Result) -> str:
    """The run as one JSON document, findings in deterministic order, ending in a newline."""
    pieces: list[str] = []
    _indented(result_json(result), pieces, "\n")
    return "".join(pieces) + "\n"


@lru_cache(maxsize=64)
def _flat_encoder(inner: str) -> Callable[[Any], str]:
    """Encodes one container with no non-empty container inside, its items separated by `inner`'s line break."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without json's C accelerator
        return json.JSONEncoder(ensure_ascii=False, separators=("," + inner, ": ")).encode
    # json.JSONEncoder(ensure_ascii=False, separators=...).encode without building an encoder per call;
    # no check for cycles, which a container holding no container cannot have
    encoder = make(None, _not_serializable, json.encoder.encode_basestring, None, ": ", "," + inner, False, False, True)
    return lambda value: "".join(encoder(value, 0))


def _not_serializable(value: Any) -> Any:
    return json.JSONEncoder().default(value)


def _indented(value: Any, pieces: list[str], newline: str) -> None:
    """Append the text of `json.dumps(value, indent=2, ensure_ascii=False)` at the indentation of `newline`.

    json's C encoder runs only without `indent`, and the pure-Python one took a fifth of an audit of
    4,000 resources; so a container holding only values and empty containers (a finding, mostly) is
    written by the C encoder with the line break and indentation as its item separator, and only the
    containers above them are walked here. Anything else (a key that is not text) is left to json.
    """
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        pieces.append(json.dumps(value, ensure_ascii=False))
        return
    if not value:
        pieces.append("{}" if isinstance(value, dict) else "[]")
        return
    inner = newline + "  "
    for item in items:
        if item and isinstance(item, _CONTAINERS):
            break
    else:
        text = _flat_encoder(inner)(value)
        pieces.append(text[0] + inner + text[1:-1] + newline + text[-1])
        return
    if isinstance(value, dict):
        if not all(type(key) is str for key in value):
            pieces.append(json.dumps(value, indent=2, ensure_ascii=False).replace("\n", newline))
            return
        separator = "{" + inner
        for key, item in value.items():
            pieces.append(separator + json.dumps(key, ensure_ascii=False) + ": ")
            _indented(item, pieces, inner)
            separator = "," + inner
        pieces.append(newline + "}")
    else:
        separator = "[" + inner
        for item in value:
            pieces.append(separator)
            _indented(item, pieces, inner)
            separator = "," + inner
        pieces.append(newline + "]")
