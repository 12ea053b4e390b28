"""The control catalogue as `dpaguard controls` lists it: a text table or JSON."""

from __future__ import annotations

import json
from typing import Sequence

from dpaguard.model import ENVIRONMENTS, Control
from dpaguard.report.json import control_json as report_entry


def control_json(control: Control) -> dict[str, object]:
    """One control as `dpaguard controls` lists it: its entry in a report, and what it examines and how to fix it."""
    return {
        **report_entry(control),
        "appliesTo": list(control.applies_to),
        "description": control.description,
        "help": control.help,
    }


def render_json(controls: Sequence[Control]) -> str:
    """The catalogue as a JSON document `{"controls": [...]}`."""
    return json.dumps({"controls": [control_json(c) for c in controls]}, indent=2, ensure_ascii=False) + "\n"


def render_text(controls: Sequence[Control]) -> str:
    """The catalogue as an aligned table, one control per line."""
    header = ("ID", "CATEGORY", "CLAUSE", "SEVERITY", *(e.upper() for e in ENVIRONMENTS), "TITLE")
    rows = [header] + [
        (str(c.id), c.category, c.clause, c.severity, *(c.enforcement_for(e) for e in ENVIRONMENTS), c.title)
        for c in controls
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths)) + "  " + row[-1] for row in rows]
    lines.append(f"{len(controls)} control(s)")
    return "\n".join(line.rstrip() for line in lines) + "\n"
