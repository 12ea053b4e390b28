"""One JSON form of a control: the report's `controls` (read back by --baseline) and `dpaguard controls --format json`."""

from __future__ import annotations

import json
from pathlib import Path

from dpaguard.model import ENVIRONMENTS, Result
from dpaguard.policy import load_policy
from dpaguard.ratchet import load_baseline
from dpaguard.report import catalogue
from dpaguard.report.json import render
from support import POLICIES


def test_a_report_is_read_back_as_a_baseline_with_every_control_at_its_levels(tmp_path: Path) -> None:
    policy = load_policy(POLICIES)
    result = Result(tool_version="0", policy_sha256=policy.sha256, stacks=(), controls=policy.controls, findings=())
    report = tmp_path / "report.json"
    report.write_text(render(result), encoding="utf-8")
    document = json.loads(report.read_text(encoding="utf-8"))
    assert [sorted(c) for c in document["controls"]][0] == ["category", "clause", "enforcement", "id", "severity", "title"]
    baseline = load_baseline(report)
    assert set(baseline.controls) == {c.id for c in policy.controls}
    for control in policy.controls:
        read = baseline.controls[control.id]
        assert read.severity == control.severity
        assert read.enforcement == {env: control.enforcement_for(env) for env in ENVIRONMENTS}


def test_the_catalogue_listing_is_the_report_entry_and_what_a_reader_of_the_catalogue_needs() -> None:
    from dpaguard.report.json import control_json

    policy = load_policy(POLICIES)
    listed = json.loads(catalogue.render_json(policy.controls))["controls"]
    for control, entry in zip(policy.controls, listed, strict=True):
        assert {k: v for k, v in entry.items() if k not in ("appliesTo", "description", "help")} == control_json(control)
        assert (entry["appliesTo"], entry["description"], entry["help"]) == (list(control.applies_to), control.description, control.help)
