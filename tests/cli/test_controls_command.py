"""`dpaguard controls` end to end on the project's own policies."""

from __future__ import annotations

import json

from support import POLICIES
from support.cli import assert_one_line_error, dpaguard


def test_controls_json_lists_the_catalogue() -> None:
    run = dpaguard("controls", "--format", "json", "--policies", POLICIES)
    assert run.returncode == 0, run.stderr
    controls = json.loads(run.stdout)["controls"]
    assert controls and len({c["id"] for c in controls}) == len(controls)
    for control in controls:
        assert set(control["enforcement"]) == {"prod", "staging", "dev"}
        assert control["clause"] and control["category"] and control["severity"] in ("critical", "high", "medium", "low")
    assert "residency" in {c["category"] for c in controls}


def test_controls_text_and_category_filter() -> None:
    everything = json.loads(dpaguard("controls", "--format", "json").stdout)["controls"]
    run = dpaguard("controls", "--category", "residency")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "CATEGORY", "CLAUSE", "SEVERITY"]
    residency = [c["id"] for c in everything if c["category"] == "residency"]
    listed = [line.split()[0] for line in lines[1:-1]]
    assert listed == residency and lines[-1] == f"{len(residency)} control(s)"


def test_unknown_category_is_a_usage_error() -> None:
    assert_one_line_error(dpaguard("controls", "--category", "astrology"), "unknown category 'astrology'")
