"""The domain model (dpaguard/model.py): stack URNs, enforcement per environment, the exit-code rule, the summary."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dpaguard.model import ENVIRONMENTS, LEVELS, Control, ControlId, Deployment, Finding, Result, StackSummary, Urn, Waiver
from dpaguard.urn import parse_urn


def _control(**enforcement: Any) -> Control:
    return Control(id=ControlId("DPA-X-001"), title="t", description="d", clause="Article 1", category="hygiene",
                   severity="high", enforcement=enforcement or {"prod": "mandatory", "staging": "advisory", "dev": "disabled"})


def _finding(enforcement: Any = "mandatory", waived: bool = False) -> Finding:
    return Finding.of(_control(), enforcement=enforcement, stack="prod", urn=Urn("urn:pulumi:prod::p::t::n"),
                      type="t", name="n", message="m", waived=waived)


def _result(*findings: Finding) -> Result:
    stack = StackSummary(name="prod", project="p", environment="prod", source="state", resources=3)
    return Result(tool_version="0", policy_sha256="0" * 64, stacks=(stack,), controls=(_control(),), findings=findings)


def test_environments_and_levels_are_the_literals_in_order() -> None:
    assert ENVIRONMENTS == ("prod", "staging", "dev")
    assert LEVELS == ("mandatory", "advisory", "disabled")


def test_the_stack_urn_is_pulumis_root_resource_and_parses_back() -> None:
    deployment = Deployment(stack="acme/prod", project="estate", source="program", resources=())
    assert deployment.stack_urn == "urn:pulumi:acme/prod::estate::pulumi:pulumi:Stack::estate-acme/prod"
    assert parse_urn(deployment.stack_urn) == ("acme/prod", "estate", "pulumi:pulumi:Stack", "estate-acme/prod")


def test_an_environment_the_catalogue_does_not_name_is_held_to_prods_level() -> None:
    control = _control()
    assert [control.enforcement_for(e) for e in ENVIRONMENTS] == ["mandatory", "advisory", "disabled"]
    assert control.enforcement_for("qa") == "mandatory"
    assert _control(dev="advisory").enforcement_for("prod") == "mandatory"  # no prod entry: the strictest


def test_a_finding_takes_its_catalogue_entry_from_the_control() -> None:
    finding = _finding()
    assert (finding.control, finding.category, finding.clause, finding.severity) == ("DPA-X-001", "hygiene", "Article 1", "high")


@pytest.mark.parametrize(("findings", "mandatory", "advisory", "never"), [
    ((), 0, 0, 0),
    ((_finding("advisory"),), 0, 1, 0),
    ((_finding("mandatory"),), 1, 1, 0),
    ((_finding("mandatory", waived=True), _finding("advisory", waived=True)), 0, 0, 0),
])
def test_the_exit_code_counts_unwaived_findings_at_or_above_fail_on(
    findings: tuple[Finding, ...], mandatory: int, advisory: int, never: int
) -> None:
    result = _result(*findings)
    assert (result.exit_code("mandatory"), result.exit_code("advisory"), result.exit_code("never")) == (mandatory, advisory, never)


def test_the_summary_counts_resources_controls_and_findings_by_level() -> None:
    result = _result(_finding("mandatory"), _finding("advisory"), _finding("advisory", waived=True))
    assert result.summary() == {"resources": 3, "controls": 1, "mandatory": 1, "advisory": 1, "waived": 1}


def test_a_waiver_in_json_names_its_pattern_as_urn() -> None:
    waiver = Waiver(control=ControlId("DPA-X-001"), urn_pattern="urn:pulumi:prod::*", stack="prod", reason="r",
                    approver="dpo@example.com", expires=dt.date(2027, 1, 31))
    assert waiver.to_json() == {"control": "DPA-X-001", "urn": "urn:pulumi:prod::*", "stack": "prod", "reason": "r",
                                "approver": "dpo@example.com", "expires": "2027-01-31", "approved": None,
                                "reference": None, "compensating": None}


def test_findings_sort_by_stack_control_urn_message() -> None:
    a, b = _finding(), _finding()
    b = Finding.of(_control(), enforcement="mandatory", stack="dev", urn=Urn("urn:z"), type="t", name="n", message="m")
    assert sorted([a, b], key=Finding.sort_key) == [b, a]
