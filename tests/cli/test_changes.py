"""Changes since the last report (`--baseline`, issue 22 §5): new, fixed and regressed findings, waivers
added, removed, expired or changed, clauses and controls added, removed or changed, shown in every
format; a regression fails the gate through one DPA-RAT-001 finding per stack, not one per control."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from support import CLI_FIXTURES, POLICIES
from support.cli import dpaguard

TODAY = "2026-11-27"
STATE = CLI_FIXTURES / "prod-drifted.json"


def _audit(state: Path, *extra: str | Path, fmt: str = "json") -> tuple[int, str]:
    run = dpaguard("audit", "--state", state, "--today", TODAY, "--format", fmt, "--quiet", *extra)
    assert run.returncode in (0, 1), run.stderr
    return run.returncode, run.stdout


def _json(state: Path, *extra: str | Path) -> tuple[int, dict[str, Any]]:
    code, out = _audit(state, *extra)
    return code, json.loads(out)


def _baseline(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _kinds(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [c for c in doc["changes"]["items"] if c["kind"] == kind]


def _repaired(tmp_path: Path) -> Path:
    """prod-drifted.json with TLS back on its Redis clusters and no public bucket: several controls pass."""
    text = STATE.read_text(encoding="utf-8")
    assert text.count('"tlsEnabled": false') == 2
    path = tmp_path / "prod-before.json"
    path.write_text(text.replace('"tlsEnabled": false', '"tlsEnabled": true'), encoding="utf-8")
    return path


def test_without_a_baseline_there_are_no_changes() -> None:
    _, doc = _json(STATE)
    assert doc["changes"] is None
    _, text = _audit(STATE, fmt="text")
    assert "changes since" not in text


def test_regressions_fail_the_gate_through_one_finding_per_stack(tmp_path: Path) -> None:
    _, before = _json(STATE)
    # a baseline in which three of today's failing controls passed (they examined resources, found nothing)
    examined = {c["control"] for c in before["coverage"] if c["stack"] == "prod" and c["resources"] > 0}
    failing = sorted({f["control"] for f in before["findings"] if f["stack"] == "prod" and not f["waived"]} & examined)
    assert len(failing) >= 3
    before["findings"] = [f for f in before["findings"] if f["control"] not in failing[:3]]
    code, now = _json(STATE, "--baseline", _baseline(tmp_path, before))
    assert code == 1
    regressed = _kinds(now, "regressed")
    assert [c["subject"] for c in regressed] == failing[:3] and {c["stack"] for c in regressed} == {"prod"}
    ratchet = [f for f in now["findings"] if f["control"] == "DPA-RAT-001"]
    # one finding for the stack, naming every regressed control; the controls' own findings are not restated
    assert len(ratchet) == 1 and ratchet[0]["enforcement"] == "mandatory"
    assert all(c["subject"] in ratchet[0]["message"] for c in regressed)
    assert now["changes"]["counts"]["regressed"] == len(regressed)
    # what regressed is new: the findings that were not in the baseline
    new = _kinds(now, "new")
    assert {c["subject"] for c in new} == {c["subject"] for c in regressed}
    assert all(c["after"] and c["urn"] for c in new)
    assert not [c for c in new if c["subject"] == "DPA-RAT-001"]


def test_a_finding_gone_since_is_fixed_and_the_gate_opens_if_nothing_regressed(tmp_path: Path) -> None:
    _, before = _json(STATE)
    _, now = _json(_repaired(tmp_path), "--baseline", _baseline(tmp_path, before))
    fixed = _kinds(now, "fixed")
    assert fixed and all(c["before"] and c["stack"] == "prod" for c in fixed)
    assert {c["subject"] for c in fixed} >= {"DPA-TLS-004"}
    assert not _kinds(now, "regressed") and not [f for f in now["findings"] if f["control"] == "DPA-RAT-001"]


def test_waivers_added_removed_changed_and_expired(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    _, before = _json(STATE, "--environment", "dev", "--policies", policies)
    kept = {"control": "DPA-RES-001", "urn": "urn:pulumi:prod::*::a", "stack": "prod", "reason": "r", "approver": "a",
            "expires": "2027-01-01"}
    gone = {**kept, "urn": "urn:pulumi:prod::*::gone"}
    lapsing = {**kept, "urn": "urn:pulumi:prod::*::lapsing", "expires": "2026-11-30"}
    before["waivers"] = [kept, gone, lapsing]
    before["today"] = "2026-11-20"
    (policies / "waivers.yaml").write_text(
        "waivers:\n"
        "  - {control: DPA-RES-001, urn: 'urn:pulumi:prod::*::a', stack: prod, reason: r, approver: b, expires: 2027-01-01}\n"
        "  - {control: DPA-RES-001, urn: 'urn:pulumi:prod::*::lapsing', stack: prod, reason: r, approver: a, expires: 2026-11-26}\n"
        "  - {control: DPA-TLS-004, urn: 'urn:pulumi:prod::*::new', stack: prod, reason: r, approver: a, expires: 2027-01-01}\n",
        encoding="utf-8")
    # evaluated as dev: outside prod these waivers need no approval date or reference (issue 22 §6)
    _, now = _json(STATE, "--environment", "dev", "--policies", policies, "--baseline", _baseline(tmp_path, before))
    assert [c["urn"] for c in _kinds(now, "waiver-added")] == ["urn:pulumi:prod::*::new"]
    assert [c["urn"] for c in _kinds(now, "waiver-removed")] == ["urn:pulumi:prod::*::gone"]
    changed = _kinds(now, "waiver-changed")
    assert [(c["urn"], c["before"].split(",")[0], c["after"].split(",")[0]) for c in changed[:1]] == [
        ("urn:pulumi:prod::*::a", "approver a", "approver b")]
    assert [c["urn"] for c in _kinds(now, "waiver-expired")] == ["urn:pulumi:prod::*::lapsing"]
    assert now["changes"]["waiversRecorded"] is True


def test_a_baseline_without_waivers_says_so(tmp_path: Path) -> None:
    _, before = _json(STATE)
    del before["waivers"]
    _, now = _json(STATE, "--baseline", _baseline(tmp_path, before))
    assert now["changes"]["waiversRecorded"] is False and not now["changes"]["items"]


def test_ledger_and_catalogue_changes(tmp_path: Path) -> None:
    _, before = _json(STATE)
    clauses = {c["id"]: c for c in before["clauses"]}
    clauses["Article 3.2"]["controls"] = ["DPA-ACC-003"]
    before["clauses"] = [c for c in clauses.values() if c["id"] != "Article 8.2"]
    before["clauses"].append({"id": "Article 99", "controls": [], "evidence": "organisational"})
    controls = {c["id"]: c for c in before["controls"]}
    controls["DPA-TLS-002"]["severity"] = "critical"
    del controls["DPA-BAK-002"]
    controls["DPA-GONE-001"] = {"id": "DPA-GONE-001", "severity": "high", "title": "g", "category": "access", "clause": "x",
                                "enforcement": {"prod": "mandatory", "staging": "mandatory", "dev": "advisory"}}
    before["controls"] = list(controls.values())
    _, now = _json(STATE, "--baseline", _baseline(tmp_path, before))
    assert [c["subject"] for c in _kinds(now, "clause-added")] == ["Article 8.2"]
    assert [c["subject"] for c in _kinds(now, "clause-removed")] == ["Article 99"]
    assert "Article 3.2" in [c["subject"] for c in _kinds(now, "clause-changed")]
    assert [c["subject"] for c in _kinds(now, "control-added")] == ["DPA-BAK-002"]
    assert [c["subject"] for c in _kinds(now, "control-removed")] == ["DPA-GONE-001"]
    (severity,) = [c for c in _kinds(now, "control-changed") if c["subject"] == "DPA-TLS-002"]
    assert severity["before"].startswith("severity critical") and severity["after"].startswith("severity high")


def test_every_format_with_room_shows_the_changes(tmp_path: Path) -> None:
    _, before = _json(_repaired(tmp_path))
    baseline = _baseline(tmp_path, before)
    _, doc = _json(STATE, "--baseline", baseline)
    items = doc["changes"]["items"]
    assert items
    _, text = _audit(STATE, "--baseline", baseline, fmt="text")
    assert "changes since baseline.json" in text
    assert sum(1 for line in text.splitlines() if line.startswith(("  new ", "  regressed ", "  fixed "))) == len(items)
    _, markdown = _audit(STATE, "--baseline", baseline, fmt="markdown")
    assert "### Changes since the last report" in markdown and markdown.count("| regressed control |") == len(
        [c for c in items if c["kind"] == "regressed"])
    _, html = _audit(STATE, "--baseline", baseline, fmt="html")
    assert html.count('<tr class="change" ') == len(items) and 'id="changes"' in html
    _, french = _audit(STATE, "--baseline", baseline, "--lang", "fr", fmt="html")
    assert "Changements depuis le rapport précédent" in french and "contrôle en régression" in french
