"""What every YAML loader of dpaguard refuses: dates that do not exist, keys written twice.

PyYAML's safe loader turns `2027-02-30` into a `datetime.date` and lets the ValueError of an
impossible day escape its error hierarchy. Every loader of dpaguard registers `checked_timestamp`
so that such a value is reported like any other malformed YAML: file, line, kind.

It also keeps the last of two equal keys in a mapping, silently: a reviewer reading a waiver's
first `expires:` (or a stack's first `dpaguard:environment:`) would not see the one that counts.
`refuse_duplicate_keys` makes that a YAML error at the second key's line.
"""

from __future__ import annotations

from typing import Any

import yaml

TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


def checked_timestamp(loader: Any, node: yaml.ScalarNode) -> Any:
    """The safe loader's date or datetime, or a ConstructorError at the node for a day that does not exist."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        raise yaml.constructor.ConstructorError(
            None, None, "not a date that exists (day or month out of range)", node.start_mark
        ) from None


def refuse_duplicate_keys(loader: Any, node: yaml.MappingNode) -> None:
    """A ConstructorError at the second occurrence of a key of this mapping (merge keys `<<` aside)."""
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: the safe constructor refuses it itself
            continue
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {str(key)[:80]!r} (first at line {first})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line + 1


class SafeLoader(yaml.SafeLoader):
    """yaml.SafeLoader with checked dates and keys written once."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """The mapping, or a ConstructorError at a key written twice."""
        if isinstance(node, yaml.MappingNode):
            refuse_duplicate_keys(self, node)
        return super().construct_mapping(node, deep=deep)


SafeLoader.add_constructor(TIMESTAMP_TAG, checked_timestamp)
