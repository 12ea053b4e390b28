"""What the Rego input may hold, so that every engine reads it and prints it back alike.

rego-cpp (regopy) prints strings into its JSON answer without escaping them, wraps integers
beyond int64 around, and converts the input node by node: the facts are written for the weakest
engine, and each workaround lives here, beside the others, rather than in the domain code.
"""

from __future__ import annotations

import functools
from typing import Any

from dpaguard.markers import UNPRINTABLE

# The largest integer both engines hold as it is: rego-cpp wraps integers beyond int64 around.
INT64_MAX = 2**63 - 1


# Characters rego-cpp prints unescaped into its JSON answer (the embedded engine swaps URNs holding them).
def printable(text: str) -> str:
    """Text rego-cpp can print into JSON unescaped: quotes become ', backslashes /, control characters ?."""
    return UNPRINTABLE.sub(lambda m: {'"': "'", "\\": "/"}.get(m.group(0), "?"), text)


@functools.lru_cache(maxsize=65536, typed=True)  # typed: key 1 and key True print differently
def printable_key(key: Any) -> str:
    """A property name (or any key) as printable text."""
    text = str(key)
    return printable(text) if UNPRINTABLE.search(text) else text


# Facts left out of the Rego input when empty, false or null: regopy converts input node by node, and
# most resources have no secrets, no plaintext, nothing shared. Rules test them with `not r.x` / `some _ in r.x`.
OMITTED_WHEN_EMPTY = ("read", "media_encryption", "secret_paths", "plaintext_paths", "unknown_paths", "malformed", "unknown", "env_tag", "outside_scope", "foreign", "deprecated_type", "tags_unknown", "data_category", "backup_copy", "subprocessor", "country", "taggable", "place")


def compact(fact: dict[str, Any]) -> None:
    """Leave out of a resource fact what OMITTED_WHEN_EMPTY names when empty, and what no output needs."""
    for key in OMITTED_WHEN_EMPTY:
        if key in fact and not fact[key]:
            del fact[key]
    if "deprecated_type" not in fact:
        del fact["raw_type"]
    del fact["name"]
