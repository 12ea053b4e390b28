"""`--baseline FILE`, the ratchet of Article 5.1, end to end through the `dpaguard` command line:
a control that passed in an earlier report and fails now, and a control removed or downgraded in the
catalogue since, each become a DPA-RAT-001 finding; a malformed baseline is one line, exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from support import CLI_FIXTURES, POLICIES
from support.cli import assert_one_line_error, dpaguard

TODAY = "2026-11-27"


def _before(tmp_path: Path) -> Path:
    """prod-drifted.json as it was before its Redis cluster lost TLS."""
    text = (CLI_FIXTURES / "prod-drifted.json").read_text(encoding="utf-8")
    assert text.count('"tlsEnabled": false') == 2
    path = tmp_path / "prod-before.json"
    path.write_text(text.replace('"tlsEnabled": false', '"tlsEnabled": true'), encoding="utf-8")
    return path


def _audit(state: Path, *extra: str | Path) -> tuple[int, dict[str, Any]]:
    run = dpaguard("audit", "--state", state, "--today", TODAY, "--format", "json", "--quiet", *extra)
    assert run.returncode in (0, 1), run.stderr
    return run.returncode, json.loads(run.stdout)


def _ratchet(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["control"] == "DPA-RAT-001"]


def test_a_control_that_passed_and_fails_now_is_a_finding(tmp_path: Path) -> None:
    _, before = _audit(_before(tmp_path))
    assert not [f for f in before["findings"] if f["control"] == "DPA-TLS-004"]
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(before), encoding="utf-8")
    code, now = _audit(CLI_FIXTURES / "prod-drifted.json", "--baseline", baseline)
    assert code == 1
    found = _ratchet(now)
    assert [(f["stack"], f["enforcement"], f["clause"]) for f in found] == [("prod", "mandatory", "Article 5.1; Article 5.2")]
    assert found[0]["message"].startswith("1 control(s) passed in the baseline (")
    assert found[0]["message"].endswith("and fail now: DPA-TLS-004 (1 unwaived finding(s))")
    assert found[0]["urn"] == "urn:pulumi:prod::dpa-estate::pulumi:pulumi:Stack::dpa-estate-prod"
    # Controls that already failed in the baseline are no regression.
    assert not [f for f in found if "DPA-RES-001" in f["message"]]
    coverage = {(c["control"], c["stack"]): c["resources"] for c in now["coverage"]}
    assert coverage[("DPA-RAT-001", "prod")] > 0
    stages = {s["name"]: s for s in now["evidence"]["stages"]}
    assert stages["baseline"]["ran"] is True and stages["baseline"]["detail"] == baseline.name  # no absolute path
    clause = {c["id"]: c for c in now["clauses"]}["Article 5.2"]
    assert clause["status"] == "failed"


def test_without_a_baseline_the_ratchet_examines_nothing(tmp_path: Path) -> None:
    _, doc = _audit(CLI_FIXTURES / "prod-drifted.json")
    assert not _ratchet(doc)
    assert {(c["control"], c["stack"]): c["resources"] for c in doc["coverage"]}[("DPA-RAT-001", "prod")] == 0
    assert {c["id"]: c for c in doc["clauses"]}["Article 5.2"]["status"] == "not-examined"
    # The same state against its own report: nothing regressed.
    baseline = tmp_path / "same.json"
    baseline.write_text(json.dumps(doc), encoding="utf-8")
    _, again = _audit(CLI_FIXTURES / "prod-drifted.json", "--baseline", baseline)
    assert not _ratchet(again)
    assert {c["id"]: c for c in again["clauses"]}["Article 5.2"]["status"] == "passed"


def test_a_removed_or_downgraded_control_is_a_finding(tmp_path: Path) -> None:
    _, before = _audit(CLI_FIXTURES / "prod-drifted.json")
    # The baseline's catalogue had a control this one no longer has.
    before["controls"].append({"id": "DPA-GONE-001", "title": "gone", "category": "access", "clause": "Article 5.1",
                               "severity": "high", "enforcement": {"prod": "mandatory", "staging": "mandatory", "dev": "advisory"}})
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(before), encoding="utf-8")
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    catalogue = policies / "dpa" / "controls.yaml"
    document = yaml.safe_load(catalogue.read_text(encoding="utf-8"))
    controls = {c["id"]: c for c in document["controls"]}
    controls["DPA-TLS-002"]["severity"] = "low"  # was high
    controls["DPA-TLS-003"]["enforcement"]["prod"] = "advisory"  # was mandatory
    controls["DPA-BAK-002"]["enforcement"]["dev"] = "disabled"  # was advisory
    catalogue.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    code, now = _audit(CLI_FIXTURES / "prod-drifted.json", "--baseline", baseline, "--policies", policies)
    found = sorted((f["stack"], f["enforcement"], f["message"].split(" since ")[0]) for f in _ratchet(now))
    assert found == [
        ("*", "advisory", "DPA-BAK-002 enforcement in dev weakened from advisory to disabled"),
        ("*", "mandatory", "DPA-GONE-001 was in the catalogue of the baseline (" + before["generatedAt"]
         + (f", commit {before['gitCommit'][:12]}" if before["gitCommit"] else "") + ") and has been removed"),
        ("*", "mandatory", "DPA-TLS-002 severity lowered from high to low"),
        ("*", "mandatory", "DPA-TLS-003 enforcement in prod weakened from mandatory to advisory"),
    ]
    assert all(f["urn"] == "urn:dpaguard:file:policies/dpa/controls.yaml" for f in _ratchet(now))
    assert code == 1


def test_a_retired_control_is_still_reported_with_its_recorded_reason(tmp_path: Path) -> None:
    # A report from before DPA-SUB-004 was retired (controls.yaml `retired`): its removal is a change of
    # the catalogue the DPO must accept (a waiver) or refuse, never dropped from the comparison.
    _, before = _audit(CLI_FIXTURES / "prod-drifted.json")
    before["controls"].append({"id": "DPA-SUB-004", "title": "Approved sub-processor not used by the estate",
                               "category": "subprocessor", "clause": "Appendix B", "severity": "low",
                               "enforcement": {"prod": "advisory", "staging": "advisory", "dev": "disabled"}})
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(before), encoding="utf-8")
    code, now = _audit(CLI_FIXTURES / "prod-drifted.json", "--baseline", baseline)
    removed = [f for f in _ratchet(now) if f["message"].startswith("DPA-SUB-004 ")]
    assert len(removed) == 1 and removed[0]["enforcement"] == "mandatory"
    assert "has been removed (retired 2026-11-29: " in removed[0]["message"]
    assert "inventory" in removed[0]["message"]
    assert code == 1


def test_an_older_baseline_without_its_catalogue_still_finds_a_removed_control(tmp_path: Path) -> None:
    _, before = _audit(CLI_FIXTURES / "prod-drifted.json")
    del before["controls"]
    before["coverage"].append({"control": "DPA-OLD-001", "stack": "prod", "resources": 2})
    baseline = tmp_path / "old.json"
    baseline.write_text(json.dumps(before), encoding="utf-8")
    _, now = _audit(CLI_FIXTURES / "prod-drifted.json", "--baseline", baseline)
    assert [f["message"].split(" was in")[0] for f in _ratchet(now)] == ["DPA-OLD-001"]


def test_a_malformed_baseline_is_one_line_exit_2(tmp_path: Path) -> None:
    cases = {
        "missing.json": (None, "cannot read"),
        "garbage.json": ("{not json", "not JSON"),
        "other.json": ('{"version": 3, "deployment": {}}', "not a dpaguard JSON report"),
        "findings.json": ('{"tool": {"name": "dpaguard"}, "findings": {}, "coverage": []}', "`findings` is not a list"),
        "coverage.json": ('{"tool": {"name": "dpaguard"}, "findings": [], "coverage": [{"control": 1}]}', "a coverage entry"),
    }
    for name, (content, expected) in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_text(content, encoding="utf-8")
        run = dpaguard("audit", "--state", CLI_FIXTURES / "prod-drifted.json", "--baseline", path, "--format", "json")
        assert_one_line_error(run, f"baseline {path}: {expected}")
