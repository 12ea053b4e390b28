"""pipeline.run_stages and findings.findings_of: catalogue join, enforcement per environment, undetermined mapping, waivers,
source locations, coverage and ordering (through the real normaliser and embedded engine)."""

from __future__ import annotations

import dataclasses

import shutil
from pathlib import Path
from typing import Any

import pytest


from support import POLICIES
from support.control_estate import TODAY, changed, compliant_estate, compliant_resources, config, deployment, find
from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.errors import EngineError, PolicyError
from dpaguard.pipeline import run_stages
from dpaguard.model import UNKNOWN, Decision
from dpaguard.policy import Policy, load_policy


@pytest.fixture(scope="module")
def engine(policy: Policy) -> EmbeddedEngine:
    return EmbeddedEngine(policy)


def _policy_with_waivers(tmp_path: Path, waivers: str) -> Policy:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    (root / "waivers.yaml").write_text(waivers)
    return load_policy(root)


def test_finding_joins_the_catalogue(policy: Policy, engine: EmbeddedEngine) -> None:
    findings = run_stages([changed("prod", "db", backupSameRegion=False)], policy, engine, today=TODAY).findings
    (finding,) = [f for f in findings if f.control == "DPA-RES-003"]
    control = policy.control("DPA-RES-003")
    assert (finding.clause, finding.severity, finding.category) == (control.clause, control.severity, control.category)
    assert finding.enforcement == "mandatory" and finding.stack == "prod" and finding.name == "db"
    assert finding.type == "scaleway:databases/instance:Instance"


def test_unknown_in_preview_is_mandatory_in_prod_and_advisory_in_dev(policy: Policy, engine: EmbeddedEngine) -> None:
    prod = changed("prod", "db", backupSameRegion=UNKNOWN)
    dev = changed("dev", "db", backupSameRegion=UNKNOWN)
    findings = run_stages([prod, dev], policy, engine, today=TODAY).findings
    levels = {(f.stack, f.status, f.enforcement) for f in findings if f.control == "DPA-RES-003"}
    assert levels == {("prod", "undetermined", "mandatory"), ("dev", "undetermined", "advisory")}


def test_disabled_control_is_dropped(policy: Policy, engine: EmbeddedEngine) -> None:
    # DPA-BAK-004 (database clusters, production only) is disabled in dev.
    findings = run_stages([changed("dev", "db", isHaCluster=False)], policy, engine, today=TODAY).findings
    assert not [f for f in findings if f.control == "DPA-BAK-004"]
    findings = run_stages([changed("prod", "db", isHaCluster=False)], policy, engine, today=TODAY).findings
    assert [f.enforcement for f in findings if f.control == "DPA-BAK-004"] == ["mandatory"]


def test_enforcement_override_and_environment_override(policy: Policy, engine: EmbeddedEngine) -> None:
    broken = changed("dev", "db", isHaCluster=False)
    findings = run_stages([broken], policy, engine, today=TODAY, environment_override="prod").findings
    assert [f.enforcement for f in findings if f.control == "DPA-BAK-004"] == ["mandatory"]
    findings = run_stages([broken], policy, engine, today=TODAY, enforcement_overrides={"DPA-BAK-004": "advisory"}, environment_override="prod").findings
    assert [f.enforcement for f in findings if f.control == "DPA-BAK-004"] == ["advisory"]
    with pytest.raises(PolicyError):
        run_stages([broken], policy, engine, today=TODAY, enforcement_overrides={"DPA-NOPE-001": "advisory"})


def test_settings_override(policy: Policy, engine: EmbeddedEngine) -> None:
    findings = run_stages([compliant_estate()], policy, engine, today=TODAY, stack_settings={"minBackupRetentionDays": 30}).findings
    assert [f.name for f in findings if f.control == "DPA-BAK-002"] == ["db"]


def test_valid_waiver_marks_the_finding(tmp_path: Path, engine: EmbeddedEngine) -> None:
    policy = _policy_with_waivers(
        tmp_path,
        "waivers:\n  - control: DPA-RES-003\n    urn: 'urn:pulumi:prod::dpa-test::scaleway:databases/instance:Instance::db'\n"
        "    stack: prod\n    reason: migration\n    approver: dpo@example.org\n    approved: 2026-11-02\n"
        "    reference: DPO-42\n    expires: 2027-01-31\n",
    )
    findings = run_stages([changed("prod", "db", backupSameRegion=False)], policy, EmbeddedEngine(policy), today=TODAY).findings
    (finding,) = [f for f in findings if f.control == "DPA-RES-003"]
    assert finding.waived and finding.waiver is not None and finding.waiver.approver == "dpo@example.org"
    assert not [f for f in findings if f.control.startswith("DPA-WAI")]


def test_expired_waiver_covers_nothing_and_is_a_finding(tmp_path: Path) -> None:
    policy = _policy_with_waivers(
        tmp_path,
        "waivers:\n  - control: DPA-RES-003\n    urn: '*'\n    stack: prod\n    reason: migration\n    approver: dpo@example.org\n    expires: 2026-11-26\n",
    )
    findings = run_stages([changed("prod", "db", backupSameRegion=False)], policy, EmbeddedEngine(policy), today=TODAY).findings
    assert [f.waived for f in findings if f.control == "DPA-RES-003"] == [False]
    (expired,) = [f for f in findings if f.control == "DPA-WAI-001"]
    assert expired.location is not None and expired.location.path.endswith("waivers.yaml") and expired.location.line == 2
    assert "expired on 2026-11-26" in expired.message and expired.urn == compliant_estate().stack_urn


@pytest.mark.parametrize(
    "entry",
    [
        "  - control: DPA-RES-003\n    urn: '*'\n    stack: staging\n    reason: r\n    expires: 2027-01-01\n",  # no approver
        "  - control: DPA-XXX-999\n    urn: '*'\n    stack: staging\n    reason: r\n    approver: a\n    expires: 2027-01-01\n",  # unknown control
        "  - control: DPA-RES-003\n    urn: '*'\n    stack: staging\n    reason: r\n    approver: a\n    expires: next year\n",  # bad date
    ],
)
def test_malformed_waiver_is_a_finding(tmp_path: Path, entry: str) -> None:
    # Outside prod a malformed waiver is a finding (in prod, one of a mandatory control is refused: test_waiver_governance).
    policy = _policy_with_waivers(tmp_path, "waivers:\n" + entry)
    findings = run_stages([changed("staging", "db", backupSameRegion=False)], policy, EmbeddedEngine(policy), today=TODAY).findings
    assert [f.waived for f in findings if f.control == "DPA-RES-003"] == [False]
    (malformed,) = [f for f in findings if f.control == "DPA-WAI-002"]
    assert malformed.enforcement == "mandatory" and malformed.location is not None and malformed.location.line == 2


def test_stack_level_finding_points_at_the_config_key(tmp_path: Path, policy: Policy, engine: EmbeddedEngine) -> None:
    from dpaguard.source.project import config_key_positions

    # The source stage read the stack file (findings never read it): where each key is set travels on the deployment.
    text = "config:\n  scaleway:region: fr-par\n  dpa-test:dbPassword: hunter2\n"
    stack = deployment("prod", compliant_resources(), config("prod", **{"dpa-test:dbPassword": "[plaintext redacted]"}))
    stack = dataclasses.replace(stack, config_file="stacks/Pulumi.prod.yaml", config_positions=config_key_positions(text))
    findings = run_stages([stack], policy, engine, today=TODAY).findings
    (finding,) = [f for f in findings if f.control == "DPA-SEC-002"]
    assert finding.urn == stack.stack_urn and finding.type == "pulumi:pulumi:Stack"
    assert finding.location is not None and (finding.location.path, finding.location.line) == ("stacks/Pulumi.prod.yaml", 3)
    assert "hunter2" not in finding.message


def test_source_position_becomes_the_location(policy: Policy, engine: EmbeddedEngine) -> None:
    resources = compliant_resources()
    for item in resources:
        if item["urn"] == find("db"):
            item["inputs"]["backupSameRegion"] = False
            item["sourcePosition"] = "project:///infra/estate/database.py#26,9"
    findings = run_stages([deployment("prod", resources)], policy, engine, today=TODAY).findings
    (finding,) = [f for f in findings if f.control == "DPA-RES-003"]
    assert finding.location is not None and (finding.location.path, finding.location.line, finding.location.column) == ("infra/estate/database.py", 26, 9)


def test_coverage_counts_examined_resources(policy: Policy, engine: EmbeddedEngine) -> None:
    coverage = run_stages([compliant_estate()], policy, engine, today=TODAY).coverage
    assert coverage[("DPA-RES-003", "prod")] == 1
    assert coverage[("DPA-TLS-001", "prod")] == 2
    assert coverage[("DPA-SEC-002", "prod")] == 1
    assert coverage[("DPA-SUB-001", "prod")] == len(compliant_resources())


def test_findings_are_sorted_and_deterministic(policy: Policy, engine: EmbeddedEngine) -> None:
    stacks = [changed("prod", "sg", inboundRules=[{"action": "accept", "port": 22}], inboundDefaultPolicy=None), changed("dev", "vpc", region="nl-ams")]
    first = run_stages(stacks, policy, engine, today=TODAY).findings
    second = run_stages(list(reversed(stacks)), policy, engine, today=TODAY).findings
    assert first == second
    assert list(first) == sorted(first, key=lambda f: (*f.sort_key(), f.status))


class _Answer:
    name = "stub"

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def prepare(self, resources: int) -> None:
        pass

    def decide(self, facts: Any) -> Any:
        return self.answer

    def close(self) -> None:
        pass


def test_decision_for_an_unknown_urn_fails_closed(policy: Policy) -> None:
    with pytest.raises(EngineError):
        run_stages([compliant_estate()], policy, _Answer([Decision("DPA-RES-001", "urn:pulumi:x::y::z::w", "m")]), today=TODAY)  # type: ignore[arg-type]


def test_decision_for_an_unknown_control_fails_closed(policy: Policy) -> None:
    with pytest.raises(PolicyError):
        run_stages([compliant_estate()], policy, _Answer([Decision("DPA-ZZZ-001", find("db"), "m")]), today=TODAY)  # type: ignore[arg-type]


def test_engine_answer_that_is_not_a_list_fails_closed(policy: Policy) -> None:
    with pytest.raises(EngineError):
        run_stages([compliant_estate()], policy, _Answer(None), today=TODAY)  # type: ignore[arg-type]


# ------------------------------------------------------------------ decisions of checks outside the engine


def _file_decision(path: str, control: str = "DPA-SEC-103", **fields: Any) -> Decision:
    from dpaguard.model import ControlId, SourceLocation, Urn
    from dpaguard.urn import file_urn

    return Decision(ControlId(control), Urn(file_urn(path)), f"CKV_SECRET_6 at {path}:4", location=SourceLocation(path, 4),
                    type="checkov:secrets", name=path, **fields)


def test_a_file_decision_in_an_evaluated_stacks_config_file_is_that_stacks(policy: Policy) -> None:
    # DPA-SEC-103 is advisory in dev and mandatory in prod: the stack config's finding is judged as its stack.
    dev = compliant_estate("dev")
    judge = run_stages([dev], policy, _Answer([]), today=TODAY).judge  # type: ignore[arg-type]
    (finding,) = judge.findings([_file_decision("stacks/Pulumi.dev.yaml")])
    assert (finding.stack, finding.urn, finding.enforcement) == ("dev", dev.stack_urn, "advisory")
    assert (finding.type, finding.name) == ("checkov:secrets", "stacks/Pulumi.dev.yaml")
    assert finding.location is not None and (finding.location.path, finding.location.line) == ("stacks/Pulumi.dev.yaml", 4)
    assert finding.clause == policy.control("DPA-SEC-103").clause


def test_any_other_file_is_the_projects_judged_as_prod(policy: Policy) -> None:
    # Also the config file of a stack not evaluated in this run: no stack of the run owns it.
    judge = run_stages([compliant_estate("dev")], policy, _Answer([]), today=TODAY).judge  # type: ignore[arg-type]
    program, other_stack = judge.findings([_file_decision("infra/__main__.py"), _file_decision("stacks/Pulumi.prod.yaml")])
    assert (program.stack, program.urn, program.enforcement) == ("*", "urn:dpaguard:file:infra/__main__.py", "mandatory")
    assert (other_stack.stack, other_stack.enforcement) == ("*", "mandatory")
    (weakened,) = judge.findings([_file_decision("policies/dpa/controls.yaml", environment="dev")])
    assert weakened.enforcement == "advisory"


def test_the_packs_overrides_and_the_waivers_apply_to_file_decisions(tmp_path: Path) -> None:
    # checkov's and the credential scan's findings were made apart, without the overrides; now one place makes them.
    waived = _policy_with_waivers(
        tmp_path, "waivers:\n  - {control: DPA-HYG-001, urn: 'urn:dpaguard:file:.github/*', stack: '*', reason: r,"
                  " approver: dpo@example.com, expires: 2026-12-01}\n")
    judge = run_stages([compliant_estate("dev")], waived, _Answer([]), today=TODAY,  # type: ignore[arg-type]
                       enforcement_overrides={"DPA-SEC-103": "advisory", "DPA-SEC-104": "disabled"}).judge
    program, workflow = judge.findings([
        _file_decision("infra/__main__.py"),
        _file_decision(".github/workflows/ci.yml", control="DPA-HYG-001"),
    ])
    assert (program.stack, program.enforcement) == ("*", "advisory")
    assert workflow.waived and workflow.waiver is not None and workflow.waiver.approver == "dpo@example.com"
    assert judge.findings([_file_decision("infra/__main__.py", control="DPA-SEC-104")]) == []


def test_a_stack_finding_points_at_the_config_key_its_decision_names_never_one_its_message_names(policy: Policy) -> None:
    from dpaguard.model import ControlId, Urn
    from dpaguard.source.project import config_key_positions

    text = "config:\n  scaleway:region: fr-par\n  dpa-test:dbPassword: hunter2\n"
    stack = dataclasses.replace(compliant_estate(), config_positions=config_key_positions(text))
    named = Decision(ControlId("DPA-SEC-002"), Urn(stack.stack_urn), "config key dpa-test:dbPassword ...", config_key="dpa-test:dbPassword")
    told = Decision(ControlId("DPA-SEC-002"), Urn(stack.stack_urn), "config key scaleway:region reads like a key")
    found = run_stages([stack], policy, _Answer([named, told]), today=TODAY).findings  # type: ignore[arg-type]
    lines = {f.message: f.location.line for f in found if f.location is not None and f.control == "DPA-SEC-002"}
    assert lines == {named.message: 3, told.message: 1}


def test_a_retention_period_set_but_unreadable_points_at_its_line(policy: Policy, engine: EmbeddedEngine) -> None:
    from support.control_estate import resource
    from dpaguard.source.project import config_key_positions

    text = "config:\n  scaleway:region: fr-par\n  dpaguard:transcriptRetentionDays: soon\n"
    transcripts = resource("prod", "scaleway:object/bucket:Bucket", "transcripts", {"tags": {"env": "prod", "data-category": "transcripts"}})
    stack = deployment("prod", compliant_resources() + [transcripts], config("prod", **{"dpaguard:transcriptRetentionDays": "soon"}))
    stack = dataclasses.replace(stack, config_positions=config_key_positions(text))
    (finding,) = [f for f in run_stages([stack], policy, engine, today=TODAY).findings if f.control == "DPA-RET-005"]
    assert finding.location is not None and (finding.location.path, finding.location.line) == ("stacks/Pulumi.prod.yaml", 3)
