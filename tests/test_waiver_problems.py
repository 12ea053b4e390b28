"""Waiver problems are never lost (issue 15, item 16): whatever stack a waiver names, a blank approver,
and blanket waivers (every resource, every stack, or an expiry too far ahead) reported as DPA-WAI-003."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


from support import POLICIES
from support.control_estate import TODAY, changed, compliant_estate
from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.errors import PolicyError
from dpaguard.pipeline import run_stages
from dpaguard.model import Finding
from dpaguard.policy import Policy, load_policy


def _policy(tmp_path: Path, waivers: str, settings: str | None = None) -> Policy:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    (root / "waivers.yaml").write_text(waivers)
    if settings is not None:
        path = root / "dpa" / "settings.yaml"
        path.write_text(path.read_text().replace("waivers:\n  max_days: 365\n", settings))
    return load_policy(root)


def _waiver(urn: str = "urn:pulumi:prod::*::db", stack: str = "prod", approver: str = "dpo@example.org",
            expires: str = "2027-01-31", control: str = "DPA-RES-003") -> str:
    return (f"waivers:\n  - control: {control}\n    urn: '{urn}'\n    stack: '{stack}'\n    reason: migration\n"
            f"    approver: '{approver}'\n    expires: {expires}\n")


def _findings(policy: Policy, *stacks: str) -> tuple[Finding, ...]:
    engine = EmbeddedEngine(policy)
    try:
        deployments = [changed(stack, "db", backupSameRegion=False) for stack in stacks]
        return run_stages(deployments, policy, engine, today=TODAY).findings
    finally:
        engine.close()


def test_an_expired_waiver_for_a_stack_not_evaluated_is_reported_on_the_strictest_stack(tmp_path: Path) -> None:
    policy = _policy(tmp_path, _waiver(stack="prod-eu-*", expires="2026-01-01"))
    findings = _findings(policy, "dev", "prod")
    assert [(f.stack, f.enforcement) for f in findings if f.control == "DPA-WAI-001"] == [("prod", "mandatory")]


def test_a_malformed_waiver_for_a_stack_not_evaluated_is_reported(tmp_path: Path) -> None:
    policy = _policy(tmp_path, _waiver(stack="nowhere", expires="someday"))
    assert [f.stack for f in _findings(policy, "dev") if f.control == "DPA-WAI-002"] == ["dev"]


@pytest.mark.parametrize("approver", [" ", "\t", ""])
def test_a_blank_approver_is_no_approver(tmp_path: Path, approver: str) -> None:
    # staging: in prod a waiver of a mandatory control without an approver is refused (test_waiver_governance)
    policy = _policy(tmp_path, _waiver(urn="urn:pulumi:staging::*::db", stack="staging", approver=approver))
    assert not policy.waivers
    findings = _findings(policy, "staging")
    (malformed,) = [f for f in findings if f.control == "DPA-WAI-002"]
    assert "approver" in malformed.message
    assert not [f for f in findings if f.waived]


# Blanket waivers of a control mandatory in prod that reach prod are refused (test_waiver_governance);
# in staging (a waiver naming staging alone) and dev they are reported and still cover.
@pytest.mark.parametrize("urn, stack, expires, reason", [
    ("*", "staging", "2027-01-31", "covers every resource"),
    ("*::*", "staging", "2027-01-31", "covers every resource"),
    ("urn:pulumi:staging::*::db", "staging", "9999-12-31", "expires 9999-12-31, more than 365 days ahead"),
])
def test_blanket_waivers_are_reported_and_still_cover(tmp_path: Path, urn: str, stack: str, expires: str, reason: str) -> None:
    findings = _findings(_policy(tmp_path, _waiver(urn=urn, stack=stack, expires=expires)), "staging")
    (blanket,) = [f for f in findings if f.control == "DPA-WAI-003"]
    assert blanket.enforcement == "advisory" and reason in blanket.message
    assert blanket.location is not None and blanket.location.path.endswith("waivers.yaml")
    assert [f.waived for f in findings if f.control == "DPA-RES-003"] == [True]


@pytest.mark.parametrize("urn, stack, reason", [
    ("urn:pulumi:*", "*", "covers every resource"),
    ("urn:pulumi:*::*::db", "*", "covers every stack"),
])
def test_blanket_waivers_of_an_advisory_control_are_reported_and_still_cover(tmp_path: Path, urn: str, stack: str,
                                                                              reason: str) -> None:
    # DPA-RES-003 made advisory in every environment: no longer an exception a DPO signs for
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    (root / "waivers.yaml").write_text(_waiver(urn=urn, stack=stack))
    catalogue = root / "dpa" / "controls.yaml"
    text = catalogue.read_text()
    head, mark, tail = text.partition("id: DPA-RES-003")
    every = "enforcement: {prod: mandatory, staging: mandatory, dev: mandatory}"
    assert every in tail.split("- id:", 1)[0]
    catalogue.write_text(head + mark + tail.replace(every, "enforcement: {prod: advisory, staging: advisory, dev: advisory}", 1))
    findings = _findings(load_policy(root), "prod")
    (blanket,) = [f for f in findings if f.control == "DPA-WAI-003"]
    assert reason in blanket.message
    assert [(f.enforcement, f.waived) for f in findings if f.control == "DPA-RES-003"] == [("advisory", True)]


def test_a_narrow_waiver_is_not_blanket(tmp_path: Path) -> None:
    findings = _findings(_policy(tmp_path, _waiver(urn="urn:pulumi:staging::*::db", stack="staging")), "staging")
    assert not [f for f in findings if f.control.startswith("DPA-WAI")]


def test_a_file_waiver_of_checkov_with_stack_star_is_not_blanket(tmp_path: Path) -> None:
    waiver = _waiver(urn="urn:dpaguard:file:infra/estate/app.py", stack="*", control="DPA-SEC-103")
    waiver += "    approved: 2026-11-01\n    reference: DPO-7\n"
    assert not [f for f in _findings(_policy(tmp_path, waiver), "prod") if f.control.startswith("DPA-WAI")]


def test_the_limit_is_a_setting(tmp_path: Path) -> None:
    waiver = _waiver(urn="urn:pulumi:staging::*::db", stack="staging", expires="2027-03-01")
    assert [f for f in _findings(_policy(tmp_path / "a", waiver, "waivers:\n  max_days: 30\n"), "staging") if f.control == "DPA-WAI-003"]
    assert not [f for f in _findings(_policy(tmp_path / "b", waiver), "staging") if f.control == "DPA-WAI-003"]
    with pytest.raises(PolicyError, match="max_days"):
        _policy(tmp_path / "c", waiver, "waivers:\n  max_days: forever\n")


def test_no_stack_no_problem_lost_with_a_compliant_estate(tmp_path: Path) -> None:
    policy = _policy(tmp_path, _waiver(stack="staging", expires="2020-01-01"))
    engine = EmbeddedEngine(policy)
    try:
        findings = run_stages([compliant_estate("dev")], policy, engine, today=TODAY).findings
    finally:
        engine.close()
    # Besides the lapsed waiver, only what no configuration can show (undated Appendix B entries,
    # fr-par-1's DC2/DC3), advisory.
    assert [f.control for f in findings if f.control.startswith("DPA-WAI")] == ["DPA-WAI-001"]
    assert {f.control for f in findings if not f.control.startswith("DPA-WAI")} <= {"DPA-SUB-006", "DPA-RES-007"}
