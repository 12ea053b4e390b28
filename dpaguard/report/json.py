"""JSON output: the stable, documented document other tools read (docs/reports.md, "The JSON report")."""

from __future__ import annotations

import json

from dpaguard.model import Result
from dpaguard.report._shared import result_json


def render(result: Result) -> str:
    """The run as one JSON document, findings in deterministic order, ending in a newline."""
    return json.dumps(result_json(result), indent=2, ensure_ascii=False) + "\n"
