"""The policy pack, started and spoken to as the Pulumi engine does, decides what `dpaguard check` decides."""

from __future__ import annotations

import datetime as dt

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2 as pb

from dpaguard.model import UNKNOWN, Deployment
from dpaguard.source.state import to_export

from support.pack_fixtures import (
    CANARY,
    _edit,
    as_set,
    cli_findings,
    configure_for,
    expected_diagnostics,
    first,
    run_like_engine,
)
from support import POLICIES
from support.pack_harness import LEVEL_NAMES, analyze_request, engine_env, provider_of, report_json, start_pack

pytestmark = pytest.mark.slow
BUCKET = "scaleway:object/bucket:Bucket"


def _one(deployment: Deployment, resource: dict[str, Any]) -> Deployment:
    """The deployment with one resource replaced."""
    resources = tuple(resource if r["urn"] == resource["urn"] else r for r in deployment.resources)
    return dataclasses.replace(deployment, resources=resources)


def _analyze(session: Any, deployment: Deployment, resource: dict[str, Any]) -> list[Any]:
    by_urn = {r["urn"]: r for r in deployment.resources}
    decisions: list[Any] = session.analyze(resource, provider_of(resource, by_urn), CANARY)
    return decisions


def _for_urn(findings: Any, urn: str, stack_controls: frozenset[str]) -> set[tuple[str, str, str, str]]:
    return {d for d in expected_diagnostics(tuple(f for f in findings if f.urn == urn and f.control not in stack_controls))}


def _stack_controls(policy: Any) -> frozenset[str]:
    return frozenset(c.id for c in policy.controls if "stack" in c.applies_to)


# --- start-up and metadata ------------------------------------------------------------------------

def test_analyzer_info_lists_every_control_with_its_level_type_and_schema(session: Any, prod: Deployment, policy: Any) -> None:
    configure_for(session, prod)
    info = session.info()
    assert info.name == "dpaguard" and info.supportsConfig
    by_name = {p.name: p for p in info.policies}
    deploy_time = [c for c in policy.controls if c.applies_to != ("file",)]
    assert set(by_name) == {"dpaguard"} | {c.id for c in deploy_time}
    assert any(c.applies_to == ("file",) for c in policy.controls)  # checkov's repository-file controls stay out
    for control in deploy_time:
        policy_info = by_name[control.id]
        assert LEVEL_NAMES[policy_info.enforcementLevel] == control.enforcement_for("prod")
        expected_type = pb.POLICY_TYPE_STACK if "stack" in control.applies_to else pb.POLICY_TYPE_RESOURCE
        assert policy_info.policy_type == expected_type, control.id
        assert control.clause in policy_info.description and control.severity in policy_info.description
    schema = json_format.MessageToDict(by_name["dpaguard"].configSchema)["properties"]
    assert {"environment", "minBackupRetentionDays", "opaUrl", "enforcement"} <= set(schema)
    assert schema["environment"]["enum"] == ["prod", "staging", "dev"]


def test_levels_follow_the_stack_environment(session: Any, prod: Deployment, policy: Any) -> None:
    dev = dataclasses.replace(prod, stack="dev", config={**prod.config, "dpaguard:environment": "dev"})
    configure_for(session, dev)
    levels = {p.name: LEVEL_NAMES[p.enforcementLevel] for p in session.info().policies}
    assert any(c.enforcement_for("dev") != c.enforcement_for("prod") for c in policy.controls)
    for control in policy.controls:
        if control.applies_to != ("file",):
            assert levels[control.id] == control.enforcement_for("dev")


# --- single resources --------------------------------------------------------------------------------

def test_compliant_resource_passes_as_in_the_cli(session: Any, prod: Deployment, policy: Any) -> None:
    configure_for(session, prod)
    database = dict(first(prod, "scaleway:databases/instance:Instance"))
    got = as_set(_analyze(session, prod, database))
    assert got == _for_urn(cli_findings(prod, policy), database["urn"], _stack_controls(policy))
    assert not {d for d in got if d[3] == "mandatory"}


def test_violating_resource_is_reported_with_the_cli_message(session: Any, prod: Deployment, policy: Any) -> None:
    configure_for(session, prod)
    bucket = _edit(first(prod, BUCKET), region="nl-ams")
    got = as_set(_analyze(session, prod, bucket))
    expected = _for_urn(cli_findings(_one(prod, bucket), policy), bucket["urn"], _stack_controls(policy))
    assert expected and got == expected
    assert any(level == "mandatory" and "residency" in policy.control(control).category
               for control, _, _, level in got)


def test_unknown_value_is_undetermined_mandatory_in_prod_advisory_in_dev(session: Any, prod: Deployment, policy: Any) -> None:
    bucket = _edit(first(prod, BUCKET), region=UNKNOWN)
    configure_for(session, prod)
    in_prod = as_set(_analyze(session, prod, bucket))
    expected = _for_urn(cli_findings(_one(prod, bucket), policy), bucket["urn"], _stack_controls(policy))
    assert in_prod == expected
    undetermined = {d for d in in_prod if d[0].startswith("DPA-RES")}
    assert undetermined and all(level == "mandatory" for *_, level in undetermined)

    configure_for(session, prod, {"dpaguard": {"environment": "dev"}})
    in_dev = as_set(_analyze(session, prod, bucket))
    expected_dev = _for_urn(cli_findings(_one(prod, bucket), policy, environment_override="dev"), bucket["urn"],
                            _stack_controls(policy))
    assert in_dev == expected_dev
    assert {d[0] for d in in_dev if d[0].startswith("DPA-RES")} and all(
        level == "advisory" for control, _, _, level in in_dev if control.startswith("DPA-RES"))


def test_region_comes_from_the_provider_reference(session: Any, prod: Deployment, policy: Any) -> None:
    configure_for(session, prod)
    bucket = dict(first(prod, BUCKET))
    bucket["inputs"] = {k: v for k, v in bucket["inputs"].items() if k != "region"}
    provider = dict(provider_of(bucket, {r["urn"]: r for r in prod.resources}) or {})
    assert provider, "the bucket has a provider"
    abroad = {**provider, "inputs": {**provider["inputs"], "region": "nl-ams"}}
    got_abroad = as_set(session.analyze(bucket, abroad, CANARY))
    assert any(control.startswith("DPA-RES") and level == "mandatory" for control, _, _, level in got_abroad)
    got_home = as_set(session.analyze(bucket, {**provider, "inputs": {**provider["inputs"], "region": "fr-par"}}, CANARY))
    assert not any(control.startswith("DPA-RES-001") for control, *_ in got_home)


# --- whole stacks, against the CLI --------------------------------------------------------------------

@pytest.mark.parametrize("which", ["prod", "violating"])
def test_stack_decisions_equal_the_cli_control_for_control_urn_for_urn(
        session: Any, which: str, prod: Deployment, violating: Deployment, policy: Any) -> None:
    deployment = prod if which == "prod" else violating
    configure_for(session, deployment)
    per_resource, at_end = run_like_engine(session, deployment)
    expected = expected_diagnostics(cli_findings(deployment, policy))
    got = as_set(per_resource) | as_set(at_end)
    assert got == expected
    # Nothing is said twice, and resource-level controls speak before the resource exists.
    assert len(per_resource) + len(at_end) == len(got)
    stack_controls = _stack_controls(policy)
    assert not {d for d in as_set(per_resource) if d[0] in stack_controls}
    resource_level = {d for d in expected if d[0] not in stack_controls}
    assert resource_level <= as_set(per_resource) | {d for d in as_set(at_end) if d[0] not in stack_controls}
    if which == "violating":
        assert {d for d in got if d[3] == "mandatory"}


def test_no_configure_stack_fails_closed(tmp_path: Path, prod: Deployment) -> None:
    session = start_pack(tmp_path)
    try:
        session.handshake()
        database = dict(first(prod, "scaleway:databases/instance:Instance"))
        got = _analyze(session, prod, database)
        assert any(d.policy == "dpaguard" and d.level == "mandatory" and "ConfigureStack" in d.message for d in got)
        at_end = session.analyze_stack(prod.resources, CANARY)
        assert any(d.policy == "dpaguard" and d.level == "mandatory" for d in at_end)
    finally:
        session.close()


# --- pack config ------------------------------------------------------------------------------------

def test_enforcement_overrides_from_pack_config(session: Any, prod: Deployment, policy: Any) -> None:
    bucket = _edit(first(prod, BUCKET), region="nl-ams")
    configure_for(session, prod)
    mandatory = {d[0] for d in as_set(_analyze(session, prod, bucket)) if d[3] == "mandatory"}
    assert mandatory
    control = sorted(mandatory)[0]

    configure_for(session, prod, {control: {"enforcementLevel": "advisory"}})
    assert {d[3] for d in as_set(_analyze(session, prod, bucket)) if d[0] == control} == {"advisory"}

    configure_for(session, prod, {"dpaguard": {"enforcement": {control: "disabled"}}})
    assert control not in {d[0] for d in as_set(_analyze(session, prod, bucket))}

    configure_for(session, prod, {"all": {"enforcementLevel": "advisory"}})
    assert {d[3] for d in as_set(_analyze(session, prod, bucket))} == {"advisory"}


def test_minimum_backup_retention_from_pack_config(session: Any, prod: Deployment, policy: Any) -> None:
    database = _edit(first(prod, "scaleway:databases/instance:Instance"), backupScheduleRetention=10)
    configure_for(session, prod, {"dpaguard": {"minBackupRetentionDays": 7}})
    lenient = as_set(_analyze(session, prod, database))
    configure_for(session, prod, {"dpaguard": {"minBackupRetentionDays": 30}})
    strict = as_set(_analyze(session, prod, database))
    added = strict - lenient
    assert added and all(control.startswith("DPA-BAK") for control, *_ in added)


def test_bad_pack_config_is_refused_not_ignored(session: Any, prod: Deployment) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        configure_for(session, prod, {"dpaguard": {"enforcement": {"DPA-NOPE-999": "advisory"}}})
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "DPA-NOPE-999" in raised.value.details()


def test_unreachable_opa_server_fails_the_call(session: Any, prod: Deployment) -> None:
    configure_for(session, prod, {"dpaguard": {"opaUrl": "http://127.0.0.1:9", "opaTimeoutSeconds": 2}})
    try:
        with pytest.raises(grpc.RpcError) as raised:
            _analyze(session, prod, dict(first(prod, BUCKET)))
        assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "127.0.0.1:9" in raised.value.details()
    finally:
        configure_for(session, prod)


# --- concurrency --------------------------------------------------------------------------------------

def test_concurrent_analyze_answers_equal_sequential_ones(session: Any, prod: Deployment, violating: Deployment) -> None:
    configure_for(session, prod)
    by_urn = {r["urn"]: r for r in prod.resources}
    requests = [analyze_request(r, provider_of(r, by_urn), CANARY) for r in prod.resources]
    by_urn_bad = {r["urn"]: r for r in violating.resources}
    requests += [analyze_request(r, provider_of(r, by_urn_bad), CANARY) for r in violating.resources]
    requests *= 3

    def answer(request: Any) -> bytes:
        return bytes(session.stub.Analyze(request).SerializeToString(deterministic=True))

    sequential = [answer(r) for r in requests]
    with futures.ThreadPoolExecutor(max_workers=16) as pool:
        concurrent = list(pool.map(answer, requests))
    assert concurrent == sequential
    assert len(set(sequential)) > 2


# --- the report and secrets ---------------------------------------------------------------------------

def _without_dpaguard_settings(deployment: Deployment) -> Deployment:
    """The deployment without `dpaguard:*` config: a stack export's own block never sets them (issue 24, H3).

    `audit` reads them from `--stack-config` only; the pack, from the engine's config. Both sides of a
    comparison are given the same (none) so they judge the same stack.
    """
    config = {k: v for k, v in deployment.config.items() if not k.startswith("dpaguard:")}
    return dataclasses.replace(deployment, config=config)


def test_report_equals_dpaguard_audit_json_and_no_secret_leaks(tmp_path: Path, violating: Deployment) -> None:
    violating = _without_dpaguard_settings(violating)
    export = tmp_path / "violating.json"
    export.write_text(json.dumps(to_export(violating)), encoding="utf-8")
    cli = subprocess.run([sys.executable, "-m", "dpaguard", "audit", "--state", str(export), "--format", "json",
                          "--policies", str(POLICIES)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert cli.returncode in (0, 1), cli.stderr
    cli_doc = json.loads(cli.stdout)

    report = tmp_path / "out" / "pack.json"
    session = start_pack(tmp_path, env={"DPAGUARD_REPORT": str(report), **engine_env(violating, CANARY)})
    try:
        session.handshake()
        configure_for(session, violating)
        bucket = first(violating, BUCKET)
        _analyze(session, violating, dict(bucket))
        early = report_json(report)  # written as findings arrive: the engine may stop before AnalyzeStack
        assert {f["urn"] for f in early["findings"]} == {bucket["urn"]}
        assert any("AnalyzeStack" in notice for notice in early["notices"])
        per_resource, at_end = run_like_engine(session, violating)
        stderr = session.stderr()
    finally:
        session.close()
    doc = report_json(report)

    def keys(document: Any) -> list[tuple[Any, ...]]:
        return sorted((f["control"], f["urn"], f["message"], f["enforcement"], f["status"], f["waived"])
                      for f in document["findings"])

    assert keys(doc) == keys(cli_doc)
    assert doc["summary"] == cli_doc["summary"]
    assert [s["name"] for s in doc["stacks"]] == ["prod"]
    everything = report.read_text() + stderr + repr(per_resource) + repr(at_end)
    assert CANARY not in everything


def test_waivers_apply_in_the_pack_as_in_the_cli(tmp_path: Path, violating: Deployment) -> None:
    import shutil

    from dpaguard.policy import load_policy

    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies, ignore=shutil.ignore_patterns("__pycache__"))
    bucket = first(violating, BUCKET)["urn"]
    server = first(violating, "pulumi-python:dynamic/datapacket:Server")["urn"]
    # a prod waiver of a mandatory control: approved (today, the pack's date), a reference, within a year
    approved, expires = dt.date.today(), dt.date.today() + dt.timedelta(days=300)
    (policies / "waivers.yaml").write_text(
        "waivers:\n"
        f"  - {{control: DPA-RES-001, urn: '{bucket}', stack: prod, reason: migration to fr-par in progress,"
        f" approver: dpo@example.com, approved: {approved.isoformat()}, reference: DPO-1, expires: {expires.isoformat()}}}\n"
        f"  - {{control: DPA-TLS-006, urn: '{server}', stack: prod, reason: old exemption,"
        " approver: dpo@example.com, expires: 2001-01-01}\n",
        encoding="utf-8")
    policy = load_policy(policies)
    expected = expected_diagnostics(cli_findings(violating, policy))
    assert any(f"[waived until {expires.isoformat()}" in message and level == "advisory" for _, _, message, level in expected)
    assert any(control == "DPA-WAI-001" for control, *_ in expected)

    session = start_pack(tmp_path, policies=policies)
    try:
        session.handshake()
        configure_for(session, violating)
        per_resource, at_end = run_like_engine(session, violating)
    finally:
        session.close()
    assert as_set(per_resource) | as_set(at_end) == expected


def test_plugin_info_cancel_and_remediate_change_nothing(session: Any, prod: Deployment) -> None:
    configure_for(session, prod)
    assert session.stub.GetPluginInfo(empty_pb2.Empty()).version
    bucket = dict(first(prod, BUCKET))
    request = analyze_request(bucket, provider_of(bucket, {r["urn"]: r for r in prod.resources}), CANARY)
    remediated = session.stub.Remediate(request)
    assert not remediated.remediations and CANARY not in str(remediated)
    session.stub.Cancel(empty_pb2.Empty())


def test_pack_report_is_the_cli_json_document_byte_for_byte(tmp_path: Path, violating: Deployment) -> None:
    """The pack and `dpaguard audit` evaluate through one function: same stack, same time, same document.

    The stack is the one the engine sends (AnalyzeStack's resources as the pack reads them), written
    as a stack export for the CLI. What says where the deployment came from (the first stage: the
    Pulumi engine, or a state file; checkov's reason for not running) is the only difference allowed.
    """
    from dpaguard.pack.protocol import analyze_stack_resources
    from dpaguard.report.json import report_id
    from support.pack_harness import analyze_stack_request

    as_sent = analyze_stack_resources(analyze_stack_request(list(violating.resources), CANARY))
    violating = _without_dpaguard_settings(violating)
    stack = dataclasses.replace(violating, resources=tuple(as_sent), config_file=None, config_sha256=None,
                                source_positions={})
    export = tmp_path / "stack.json"
    export.write_text(json.dumps(to_export(stack)), encoding="utf-8")
    dpa = tmp_path / "dpa.txt"
    dpa.write_text("Data Processing Agreement\n", encoding="utf-8")
    # 2026-01-01T00:00:00Z; one DPA text for both, whatever the developer's environment names
    epoch = {"SOURCE_DATE_EPOCH": "1767225600", "DPAGUARD_DPA": str(dpa)}
    cli = subprocess.run([sys.executable, "-m", "dpaguard", "audit", "--state", str(export), "--format", "json",
                          "--policies", str(POLICIES)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env={**os.environ, **epoch})
    assert cli.returncode == 1, cli.stderr

    report = tmp_path / "out" / "pack.json"
    session = start_pack(tmp_path, env={"DPAGUARD_REPORT": str(report), **epoch, **engine_env(violating, CANARY)})
    try:
        session.handshake()
        configure_for(session, violating)
        run_like_engine(session, violating)
    finally:
        session.close()
    pack_text = report.read_text(encoding="utf-8")

    pack_doc, cli_doc = json.loads(pack_text), json.loads(cli.stdout)
    assert pack_doc["generatedAt"] == cli_doc["generatedAt"] == "2026-01-01T00:00:00Z"
    assert pack_doc["scope"]["dpaSha256"] == cli_doc["scope"]["dpaSha256"] == hashlib.sha256(dpa.read_bytes()).hexdigest()
    assert [s["name"] for s in pack_doc["evidence"]["stages"]] == ["pulumi-engine", "checkov", "rego", "baseline"]
    assert [s["name"] for s in cli_doc["evidence"]["stages"]] == ["state", "checkov", "rego", "baseline"]
    assert cli_doc["findings"] and cli_doc["clauses"] and cli_doc["inventory"]["subprocessors"]
    # Re-rendering as the JSON reporter does gives back the pack's bytes, so swapping the two stages
    # in the parsed document and rendering it again changes those stages and nothing else.
    assert json.dumps(pack_doc, indent=2, ensure_ascii=False) + "\n" == pack_text
    pack_doc["evidence"]["stages"][:2] = cli_doc["evidence"]["stages"][:2]
    # The scope says where each deployment came from too (a state file's name and manifest), and the
    # report id is the digest of the whole document: those follow the source, nothing else may.
    pack_doc["scope"]["stacks"] = cli_doc["scope"]["stacks"]
    assert report_id(pack_doc) != pack_doc["reportId"]
    pack_doc["reportId"] = report_id(pack_doc)
    assert json.dumps(pack_doc, indent=2, ensure_ascii=False) + "\n" == cli.stdout
