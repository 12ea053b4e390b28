"""YAML dates that do not exist (2027-02-30) as a YAML error with a line, not a ValueError from `datetime`.

PyYAML's safe loader turns `2027-02-30` into a `datetime.date` and lets the ValueError of an
impossible day escape its error hierarchy. Every loader of dpaguard registers `checked_timestamp`
so that such a value is reported like any other malformed YAML: file, line, kind.
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


class SafeLoader(yaml.SafeLoader):
    """yaml.SafeLoader with checked dates."""


SafeLoader.add_constructor(TIMESTAMP_TAG, checked_timestamp)
