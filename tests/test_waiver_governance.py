"""Waiver governance (issue 22 §6): in prod, a waiver of a mandatory control is an exception a DPO signs
for. It names one resource, one stack, an approver, an approval date, an expiry within a year of approval
and a reference; otherwise the run stops with one line (exit 2). Elsewhere the lenient rules still hold."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from support import CLI_FIXTURES, POLICIES
from support.cli import assert_one_line_error, dpaguard
from support.control_estate import TODAY, changed
from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.errors import PolicyError
from dpaguard.model import Finding
from dpaguard.pipeline import run_stages
from dpaguard.policy import load_policy
from dpaguard.policy.waivers import one_year_after

DB = "urn:pulumi:{stack}::dpa-test::scaleway:databases/instance:Instance::db"
FIELDS = {"urn": DB.format(stack="prod"), "stack": "prod", "reason": "migration to fr-par-2 under way",
          "approver": "dpo@example.org", "approved": "2026-11-02", "expires": "2027-01-31", "reference": "DPO-42",
          "compensating": "nightly off-site copy checked by hand"}


def _waivers(**changes: str | None) -> str:
    fields = {**FIELDS, **changes}
    lines = ["waivers:", "  - control: DPA-RES-003"]
    lines += [f"    {key}: '{value}'" for key, value in fields.items() if value is not None]
    return "\n".join(lines) + "\n"


def _findings(tmp_path: Path, waivers: str, stack: str = "prod") -> tuple[Finding, ...]:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    (root / "waivers.yaml").write_text(waivers, encoding="utf-8")
    policy = load_policy(root)
    engine = EmbeddedEngine(policy)
    try:
        return run_stages([changed(stack, "db", backupSameRegion=False)], policy, engine, today=TODAY).findings
    finally:
        engine.close()


def test_a_complete_prod_waiver_waives_and_keeps_its_fields(tmp_path: Path) -> None:
    (finding,) = [f for f in _findings(tmp_path, _waivers()) if f.control == "DPA-RES-003"]
    assert finding.waived and finding.waiver is not None
    assert (finding.waiver.approved, finding.waiver.reference, finding.waiver.compensating) == (
        dt.date(2026, 11, 2), "DPO-42", "nightly off-site copy checked by hand")


@pytest.mark.parametrize("changes, lacks", [
    ({"urn": "*", "stack": "*"}, "one resource (urn `*` is a pattern); one stack (stack `*` is a pattern)"),
    ({"urn": "urn:pulumi:prod::*::db"}, "one resource (urn `urn:pulumi:prod::*::db` is a pattern)"),
    ({"stack": "prod*"}, "one stack (stack `prod*` is a pattern)"),
    ({"approved": None}, "an approval date (approved: YYYY-MM-DD)"),
    ({"approved": "2026-12-01"}, "an approval date not after the run's date"),
    ({"expires": "2027-11-03"}, "an expiry within one year of approval (expires 2027-11-03, approved 2026-11-02)"),
    ({"reference": None}, "a reference (the ticket or document of the approval)"),
    ({"reference": " "}, "a reference"),
])
def test_a_prod_waiver_that_lacks_what_a_dpo_signs_is_refused(tmp_path: Path, changes: dict[str, str | None],
                                                              lacks: str) -> None:
    with pytest.raises(PolicyError) as raised:
        _findings(tmp_path, _waivers(**changes))
    message = str(raised.value)
    assert message.startswith("waiver at waivers.yaml:2 for DPA-RES-003 ") and "mandatory in prod" in message
    assert lacks in message and "\n" not in message


def test_an_expiry_exactly_one_year_after_approval_is_allowed(tmp_path: Path) -> None:
    assert one_year_after(dt.date(2026, 11, 2)) == dt.date(2027, 11, 2)
    assert one_year_after(dt.date(2028, 2, 29)) == dt.date(2029, 2, 28)
    findings = _findings(tmp_path, _waivers(expires="2027-11-02"))
    assert [f.waived for f in findings if f.control == "DPA-RES-003"] == [True]


def test_a_prod_waiver_without_an_approver_is_refused_not_a_finding(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"waiver at waivers.yaml:2 lacks approver \(a waiver of DPA-RES-003, mandatory in prod\)"):
        _findings(tmp_path, _waivers(approver=None))


def test_a_dev_waiver_is_allowed_without_governance(tmp_path: Path) -> None:
    waivers = ("waivers:\n  - control: DPA-RES-003\n    urn: '*'\n    stack: dev\n    reason: r\n"
               "    approver: me\n    expires: 2029-11-27\n")
    findings = _findings(tmp_path, waivers, stack="dev")
    assert [f.waived for f in findings if f.control == "DPA-RES-003"] == [True]
    # still a blanket waiver, reported as such (advisory)
    assert [f.control for f in findings if f.control.startswith("DPA-WAI")] == ["DPA-WAI-003"]
    # and a waiver without an approver in dev is a finding, as before
    bare = waivers.replace("    approver: me\n", "")
    assert [f.control for f in _findings(tmp_path / "bare", bare, stack="dev") if f.control.startswith("DPA-WAI")] == [
        "DPA-WAI-002"]


def test_a_waiver_naming_dev_is_governed_when_dev_is_evaluated_as_prod(tmp_path: Path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    (root / "waivers.yaml").write_text(_waivers(urn=DB.format(stack="dev"), stack="dev", reference=None), encoding="utf-8")
    policy = load_policy(root)
    engine = EmbeddedEngine(policy)
    try:
        with pytest.raises(PolicyError, match="a reference"):
            run_stages([changed("dev", "db", backupSameRegion=False)], policy, engine, today=TODAY,
                       environment_override="prod")
    finally:
        engine.close()


def test_an_expired_prod_waiver_is_a_finding_not_a_refusal(tmp_path: Path) -> None:
    findings = _findings(tmp_path, _waivers(approved="2025-11-01", expires="2026-01-01"))
    assert [f.control for f in findings if f.control.startswith("DPA-WAI")] == ["DPA-WAI-001"]


def test_the_cli_refuses_a_blanket_prod_waiver_in_one_line(tmp_path: Path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    (root / "waivers.yaml").write_text(
        "waivers:\n  - control: DPA-RES-001\n    urn: '*'\n    stack: '*'\n    reason: later\n    approver: me\n"
        "    expires: 2029-11-27\n", encoding="utf-8")
    run = dpaguard("audit", "--state", CLI_FIXTURES / "prod-drifted.json", "--policies", root, "--today", "2026-11-27")
    assert_one_line_error(run, "waiver at waivers.yaml:2 for DPA-RES-001 on * in stack * waives a control mandatory in prod and lacks one resource")


def test_the_shipped_waivers_pass_governance() -> None:
    run = dpaguard("audit", "--state", CLI_FIXTURES / "prod-drifted.json", "--today", "2026-11-27", "--format", "json",
                   "--quiet")
    assert run.returncode in (0, 1), run.stderr
    assert json.loads(run.stdout)["tool"]["name"] == "dpaguard"
