"""One run of the gate (dpaguard/pipeline.py), stage by stage, without the CLI around it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from dpaguard import pipeline, provenance
from dpaguard.source import pairing
from dpaguard.errors import PolicyError, UsageError
from dpaguard.model import Deployment, Stage
from dpaguard.policy import Policy, load_policy
from dpaguard.report.json import render
from support import POLICIES, REPO
from support.estates import vs_checkov_estate

TODAY = dt.date(2026, 1, 5)


def _settings(**changes: Any) -> pipeline.RunOptions:
    return pipeline.RunOptions(policies_dir=POLICIES, engine="regopy", today=TODAY,
                             generated_at="2026-01-05T00:00:00Z", **changes)


def test_generated_at_is_utc_in_z_form_and_honours_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    assert provenance.now_utc() == "2026-01-01T00:00:00Z"
    assert pipeline.RunOptions(policies_dir=Path(".")).generated_at == "2026-01-01T00:00:00Z"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    now = provenance.now_utc()
    assert now.endswith("Z") and dt.datetime.fromisoformat(now.replace("Z", "+00:00")).tzinfo is not None


def test_waivers_are_judged_on_the_utc_date_by_default() -> None:
    assert pipeline.RunOptions(policies_dir=Path(".")).today == provenance.utc_today() == dt.datetime.now(dt.timezone.utc).date()


def test_evaluate_gives_each_stack_the_environment_its_facts_hold(policy: Policy) -> None:
    estate = vs_checkov_estate(40)
    # no dpaguard:environment: the stack's name decides (settings.yaml environment_names: test is dev)
    test_stack = dataclasses.replace(estate, stack="test",
                                     config={k: v for k, v in estate.config.items() if k != "dpaguard:environment"})
    result = pipeline.evaluate([estate, test_stack], policy, _settings())
    assert [(s.name, s.environment, s.resources) for s in result.stacks] == [
        ("prod", "prod", len(estate.resources)), ("test", "dev", len(test_stack.resources))]
    assert {s.environment for s in pipeline.evaluate([test_stack], policy, _settings(environment_override="staging")).stacks} == {"staging"}
    assert all(s.deployment_sha256 == provenance.deployment_digest(d) for s, d in zip(result.stacks, [estate, test_stack]))


def test_evaluate_records_the_engine_the_stages_and_the_ratchet_without_a_baseline(policy: Policy) -> None:
    result = pipeline.evaluate([vs_checkov_estate(20)], policy, _settings(), stages=(Stage("state", True, "x"),))
    assert result.engine == "regopy"
    assert [(s.name, s.ran) for s in result.stages] == [("state", True), ("rego", True), ("baseline", False)]
    assert result.coverage[("DPA-RAT-001", "prod")] == 0
    assert result.today == TODAY and result.generated_at == "2026-01-05T00:00:00Z"
    assert result.clauses == policy.clauses and result.controls == policy.controls


def test_an_engine_given_is_used_and_left_open(policy: Policy) -> None:
    settings = _settings()
    with pipeline.engine_session(policy, settings) as engine:
        first = pipeline.evaluate([vs_checkov_estate(20)], policy, settings, engine=engine)
        second = pipeline.evaluate([vs_checkov_estate(20)], policy, settings, engine=engine)  # still open
    assert render(first) == render(second)
    assert render(first) == render(pipeline.evaluate([vs_checkov_estate(20)], policy, settings))


def test_an_override_of_a_control_the_catalogue_lacks_or_of_no_level_is_refused(policy: Policy) -> None:
    with pytest.raises(PolicyError):
        pipeline.evaluate([vs_checkov_estate(5)], policy, _settings(enforcement_overrides={"DPA-NOPE-001": "advisory"}))
    with pytest.raises(PolicyError, match="not mandatory, advisory or disabled"):
        pipeline.evaluate([vs_checkov_estate(5)], policy, _settings(enforcement_overrides={"DPA-RES-001": "off"}))


def test_findings_made_outside_the_engine_get_their_waivers_too(policy: Policy, tmp_path: Path) -> None:
    import shutil

    from dpaguard.model import ControlId, Decision, Urn

    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies, ignore=shutil.ignore_patterns("__pycache__"))
    (policies / "waivers.yaml").write_text(
        "waivers:\n  - {control: DPA-HYG-001, urn: 'urn:dpaguard:file:.github/*', stack: '*', reason: r,"
        " approver: dpo@example.com, expires: 2026-02-01}\n", encoding="utf-8")
    waived_policy = load_policy(policies)
    checkov = Decision(ControlId("DPA-HYG-001"), Urn("urn:dpaguard:file:.github/workflows/ci.yml"), "CKV2_GHA_1",
                       type="checkov:github_actions", name=".github/workflows/ci.yml")
    result = pipeline.evaluate([vs_checkov_estate(5)], waived_policy, _settings(), extra_decisions=(checkov,))
    (found,) = [f for f in result.findings if f.control == "DPA-HYG-001"]
    assert found.waived and found.waiver is not None and found.waiver.approver == "dpo@example.com"


def test_resolve_stacks_names_what_exists_or_says_what_does(tmp_path: Path) -> None:
    assert pipeline.resolve_stacks(REPO, ["prod", "prod", "dev"], False) == ["prod", "dev"]
    assert sorted(pipeline.resolve_stacks(REPO, [], True)) == ["dev", "prod", "staging"]
    with pytest.raises(UsageError, match="unknown stack 'qa'"):
        pipeline.resolve_stacks(REPO, ["qa"], False)
    with pytest.raises(UsageError, match="name a stack with --stack or use --all-stacks"):
        pipeline.resolve_stacks(REPO, [], False)


def test_load_states_pairs_each_state_with_the_config_of_its_stack(tmp_path: Path) -> None:
    from dpaguard.source.state import export_json

    exports = []
    for name in ("prod", "dev"):
        deployment = Deployment(stack=name, project="estate", source="state",
                                resources=({"urn": f"urn:pulumi:{name}::estate::pulumi:pulumi:Stack::estate-{name}",
                                            "type": "pulumi:pulumi:Stack", "custom": False},))
        path = tmp_path / f"{name}.json"
        path.write_text(export_json(deployment), encoding="utf-8")
        exports.append(path)
    config = tmp_path / "Pulumi.dev.yaml"
    config.write_text("config:\n  scaleway:region: fr-par\n", encoding="utf-8")
    prod, dev = pairing.load_states(exports, [config])
    assert prod.config_file is None and dev.config_file is not None and dev.config["scaleway:region"] == "fr-par"
    assert dev.config_positions == {"scaleway:region": (2, 3)}
    with pytest.raises(UsageError, match="already audited"):
        pairing.load_states([exports[0], exports[0]], [])
    with pytest.raises(UsageError, match="must be named Pulumi.<stack>.yaml"):
        pairing.load_states(exports, [tmp_path / "dev.yaml"])


def test_deployment_digest_is_the_canonical_json_of_stack_project_and_resources() -> None:
    deployment = vs_checkov_estate(3)
    import hashlib

    def canonical(value: object) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    body = {"stack": deployment.stack, "project": deployment.project,
            "resources": sorted(deployment.resources, key=canonical)}
    expected = hashlib.sha256(canonical(body).encode()).hexdigest()
    assert provenance.deployment_digest(deployment) == expected
    assert provenance.deployment_digest(dataclasses.replace(deployment, origin="elsewhere")) == expected
    assert provenance.deployment_digest(dataclasses.replace(deployment, stack="dev")) != expected


def test_deployment_digest_ignores_the_order_of_dependency_lists() -> None:
    # The Python SDK sends a resource's dependencies in set order, which changes from run to run.
    base = {"urn": "urn:pulumi:dev::p::t::a", "type": "t", "dependencies": ["urn:x", "urn:y"],
            "propertyDependencies": {"vpcId": ["urn:x", "urn:y"]}}
    swapped = {**base, "dependencies": ["urn:y", "urn:x"], "propertyDependencies": {"vpcId": ["urn:y", "urn:x"]}}
    one = dataclasses.replace(vs_checkov_estate(1), resources=(base,))
    assert provenance.deployment_digest(one) == provenance.deployment_digest(dataclasses.replace(one, resources=(swapped,)))
    other = {**base, "dependencies": ["urn:x"]}
    assert provenance.deployment_digest(one) != provenance.deployment_digest(dataclasses.replace(one, resources=(other,)))


def test_deployment_digest_is_the_sha256_of_the_canonical_json_of_stack_project_and_sorted_resources() -> None:
    estate = vs_checkov_estate(30)

    def canonical(value: object) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    resources = sorted(estate.resources, key=canonical)
    document = canonical({"stack": estate.stack, "project": estate.project, "resources": resources})
    assert provenance.deployment_digest(estate) == hashlib.sha256(document.encode()).hexdigest()


def test_deployment_digest_ignores_the_order_resources_were_registered_in() -> None:
    # A program registers resources from apply callbacks in the order their inputs resolve, which
    # changes from run to run: two renders of one commit list the same resources in other orders.
    estate = vs_checkov_estate(4)
    reordered = dataclasses.replace(estate, resources=tuple(reversed(estate.resources)))
    assert reordered.resources != estate.resources
    assert provenance.deployment_digest(reordered) == provenance.deployment_digest(estate)
    fewer = dataclasses.replace(estate, resources=estate.resources[1:])
    assert provenance.deployment_digest(fewer) != provenance.deployment_digest(estate)


def test_two_checks_of_one_commit_give_byte_identical_reports(tmp_path: Path) -> None:
    from support.cli import dpaguard

    outputs = []
    for run in (1, 2):
        json_file, html_file = tmp_path / f"{run}.json", tmp_path / f"{run}.html"
        done = dpaguard("check", "--all-stacks", "--no-checkov", "--format", "json", "--output", json_file,
                        "--format", "html", "--output", html_file, env={"SOURCE_DATE_EPOCH": "1765000000"})
        assert done.returncode == 0, done.stderr
        outputs.append((json_file.read_bytes(), html_file.read_bytes()))
    assert outputs[0] == outputs[1]
    assert str(REPO).encode() not in outputs[0][0] + outputs[0][1]  # no absolute path in a report


def test_a_render_under_source_date_epoch_is_stamped_with_that_moment() -> None:
    from support.cli import dpaguard

    done = dpaguard("render", "--stack", "dev", env={"SOURCE_DATE_EPOCH": "1765000000"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["deployment"]["manifest"]["time"] == "2025-12-06T05:46:40+00:00"


def test_policies_that_do_not_load_say_load_policies(tmp_path: Path) -> None:
    (tmp_path / "dpa").mkdir()
    with pytest.raises(PolicyError, match="^load policies: "):
        pipeline.load_policy(tmp_path)
