"""Every control, end to end (deployment -> normaliser -> OPA -> findings): one violating case each,
and the compliant estate that holds one compliant resource of every examined type and breaks none."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from dpaguard.engine import Engine, create_engine
from dpaguard.pipeline import run_stages
from dpaguard.model import ControlId, Deployment, Finding, Waiver
from dpaguard.policy import Policy, load_policy

from support import POLICIES
from support.control_estate import TODAY, changed, compliant_estate, compliant_resources, config, deployment, find, resource, urn

from support.control_cases import CASES, _stack_urn, _two, _with


# Controls whose cases need a policy, waiver or baseline file of their own (test_waivers.py,
# tests/test_waiver_problems.py; RAT-001: tests/cli/test_baseline.py; SUB-007: tests/test_register_removal.py).
SEPARATE = {"DPA-SUB-003", "DPA-WAI-001", "DPA-WAI-002", "DPA-WAI-003", "DPA-RAT-001", "DPA-SUB-007"}


def test_every_control_has_a_case(policy: Policy) -> None:
    # checkov-derived controls (applies_to "file") are tested in tests/checkov.
    ids = {c.id for c in policy.controls if c.category != "hygiene" and "file" not in c.applies_to}
    assert ids - SEPARATE == set(CASES)


@pytest.mark.parametrize("control", sorted(CASES))
def test_violation(control: str, policy: Policy, engine: Engine) -> None:
    deployments, expected_urn = CASES[control]()
    findings = run_stages(deployments, policy, engine, today=TODAY).findings
    hits = [f for f in findings if f.control == control]
    assert hits, f"{control} did not fire"
    assert expected_urn in {f.urn for f in hits}
    assert all(f.clause == policy.control(control).clause and f.message for f in hits)


def test_what_no_program_can_fix_is_kept_in_the_ledger_not_among_the_findings(policy: Policy, engine: Engine) -> None:
    # DPA-SUB-006 (an undated Appendix B entry) and DPA-RES-007 (fr-par-1's unnamed DC2) are about the DPA
    # and its register: the run's findings, its summary and its exit code leave them out; the ledger shows them.
    from dpaguard.pipeline import RunOptions, evaluate
    from dpaguard.report import json as json_report
    from dpaguard.report import text as text_report

    result = evaluate([compliant_estate()], policy, RunOptions(policies_dir=POLICIES, today=TODAY), engine=engine)
    assert {str(c.id) for c in policy.controls if c.about == "dpa"} == {"DPA-SUB-006", "DPA-RES-007", "DPA-SUB-007"}
    assert not result.findings and result.summary()["advisory"] == 0 and result.exit_code("advisory") == 0
    assert {str(f.control) for f in result.register_findings} == {"DPA-SUB-006", "DPA-RES-007"}
    doc = yaml.safe_load(json_report.render(result))
    assert doc["findings"] == [] and {f["control"] for f in doc["registerFindings"]} == {"DPA-SUB-006", "DPA-RES-007"}
    assert {c["id"]: c["status"] for c in doc["clauses"]}["Article 4.3"] == "undetermined"
    assert "ledger: DPA-RES-007 zone fr-par-1" in text_report.render(result)


def test_compliant_estate_breaks_no_control(policy: Policy, engine: Engine) -> None:
    findings = run_stages([compliant_estate()], policy, engine, today=TODAY).findings
    # What no configuration can show, reported as undetermined and advisory: the notice of Appendix B
    # entries without dates, and fr-par-1's datacenter among DC2 and DC3 (only DC3 named).
    assert {f.control for f in findings} == {"DPA-SUB-006", "DPA-RES-007"}
    assert all(f.enforcement == "advisory" and f.status == "undetermined" for f in findings)


def test_another_clouds_place_is_in_the_hosting_inventory(policy: Policy, engine: Engine) -> None:
    # Appendix C §1.1 for every provider: a Hetzner server in Germany is not only an unapproved
    # sub-processor (DPA-SUB-001) but a hosting location outside France, listed as such (issue 22 §9).
    deployments, server = CASES["DPA-RES-008"]()
    result = run_stages(deployments, policy, engine, today=TODAY)
    assert {f.control for f in result.findings if f.urn == server} >= {"DPA-RES-008"}
    places = {(u.name, u.country) for u in result.usage if u.kind == "location" and u.stack == "prod"}
    assert ("fsn1", "DE") in places
    # and its provider is in the sub-processor inventory, by its package, beside the registered ones
    assert "hcloud" in {u.name for u in result.usage if u.kind == "subprocessor" and u.stack == "prod"}
    assert result.examined[("DPA-RES-008", "prod")] == frozenset({server})  # the Scaleway resources are not its


@pytest.mark.parametrize(("image", "expected"), [
    ("ubuntu_focal", ("DPA-UPD-002", "violation")),  # standard support ended 2025-05-31 (versions.yaml)
    ("5c8c7a3e-0b7f-4f5c-9a57-6f0e1c2d3b4a", ("DPA-UPD-003", "undetermined")),  # an image of the project's own
])
def test_an_instance_is_judged_by_its_image(image: str, expected: tuple[str, str], policy: Policy, engine: Engine) -> None:
    findings = run_stages([changed("prod", "web", image=image)], policy, engine, today=TODAY).findings
    assert {(f.control, f.status) for f in findings if f.urn == find("web")} == {expected}


@pytest.mark.parametrize(("version", "expected"), [
    ("7.0.5", {("DPA-UPD-002", "violation"), ("DPA-UPD-003", "undetermined")}),  # below Scaleway's floor 7.2.11
    ("7.2.11", {("DPA-UPD-003", "undetermined")}),  # at the floor: its end of life is still not recorded
    ("7.2", {("DPA-UPD-002", "undetermined"), ("DPA-UPD-003", "undetermined")}),  # not comparable: never passed
])
def test_a_redis_cluster_is_held_to_the_security_floor(version: str, expected: set[tuple[str, str]], policy: Policy,
                                                       engine: Engine) -> None:
    findings = run_stages([changed("prod", "cache", version=version)], policy, engine, today=TODAY).findings
    assert {(f.control, f.status) for f in findings if f.urn == find("cache")} == expected
    if version == "7.0.5":
        (floor,) = [f.message for f in findings if f.control == "DPA-UPD-002"]
        assert "7.2.11" in floor and "CVE-2025-49844" in floor and "scaleway.com" in floor


@pytest.mark.parametrize(("version", "expected"), [
    ("1.31", {("DPA-UPD-002", "violation")}),  # end of life 2025-10-28
    ("1.35", set()),  # end of life 2027-02-28
    ("1.99", {("DPA-UPD-003", "undetermined")}),
])
def test_a_kapsule_cluster_is_judged_by_its_version(version: str, expected: set[tuple[str, str]], policy: Policy,
                                                    engine: Engine) -> None:
    findings = run_stages([changed("prod", "kapsule", version=version)], policy, engine, today=TODAY).findings
    assert {(f.control, f.status) for f in findings if f.urn == find("kapsule")} == expected


def test_backup_retention_is_judged_only_on_stores_with_a_data_category(policy: Policy, engine: Engine) -> None:
    # the compliant database declares call-logs; the MongoDB instance declares no category: no maximum to hold it to
    result = run_stages([compliant_estate()], policy, engine, today=TODAY)
    assert result.examined[("DPA-RET-007", "prod")] == frozenset({find("db")})


def test_compliant_dev_stack_beside_prod_breaks_no_segregation(policy: Policy, engine: Engine) -> None:
    findings = run_stages(_two(), policy, engine, today=TODAY).findings
    assert not [f for f in findings if f.category == "segregation"]


def _policy_copy(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Policy:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    path = root / "dpa" / "subprocessors.yaml"
    document = yaml.safe_load(path.read_text())
    edit(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return load_policy(root)


def test_sub_003_late_notification(tmp_path: Path) -> None:
    def late(document: dict[str, Any]) -> None:
        # Notified Monday 4 May 2026, added Monday 11 May: 4 working days (8 May is a holiday).
        document["subprocessors"][0].update(notified="2026-05-04", added="2026-05-11")

    policy = _policy_copy(tmp_path, late)
    engine = create_engine(policy)
    findings = run_stages([compliant_estate()], policy, engine, today=TODAY).findings
    hits = [f for f in findings if f.control == "DPA-SUB-003"]
    assert [f.urn for f in hits] == [_stack_urn()]
    assert "SCALEWAY was added 4 working days" in hits[0].message


def test_sub_003_and_006_dated_register_in_time(tmp_path: Path) -> None:
    def dated(document: dict[str, Any]) -> None:
        document["subprocessors"] = [s for s in document["subprocessors"] if s["name"] in ("SCALEWAY", "DATAPACKET")]
        for entry in document["subprocessors"]:
            # Notified Monday 4 May 2026, added Monday 25 May: 14 working days (8 and 14 May are holidays).
            entry.update(notified="2026-05-04", added="2026-05-25")

    policy = _policy_copy(tmp_path, dated)
    findings = run_stages([compliant_estate()], policy, create_engine(policy), today=TODAY).findings
    assert {f.control for f in findings} == {"DPA-RES-007"}


def test_sub_006_undated_register_is_undetermined_never_passed(policy: Policy, engine: Engine) -> None:
    findings = run_stages([compliant_estate()], policy, engine, today=TODAY).findings
    undated = [f for f in findings if f.control == "DPA-SUB-006"]
    assert sorted(f.message.split(":")[0] for f in undated) == ["DATAPACKET", "SCALEWAY"]
    assert all(f.status == "undetermined" for f in undated)
    assert not [f for f in findings if f.control == "DPA-SUB-003"]


def test_deprecated_token_is_judged_as_the_current_type(policy: Policy, engine: Engine) -> None:
    resources = copy.deepcopy(compliant_resources())
    old = resource("prod", "scaleway:index/databaseInstance:DatabaseInstance", "old-db", {**resources[3]["inputs"], "backupSameRegion": False})
    findings = run_stages([deployment("prod", resources + [old])], policy, engine, today=TODAY).findings
    hit = [f for f in findings if f.control == "DPA-RES-003"]
    assert [f.urn for f in hit] == [old["urn"]]
    assert hit[0].type == "scaleway:databases/instance:Instance"


def test_region_inherited_from_explicit_provider(policy: Policy, engine: Engine) -> None:
    provider_urn = "urn:pulumi:prod::dpa-test::pulumi:providers:scaleway::amsterdam"
    provider = {"urn": provider_urn, "custom": True, "id": "p1", "type": "pulumi:providers:scaleway", "inputs": {"region": "nl-ams", "zone": "nl-ams-1"}}
    vpc = resource("prod", "scaleway:network/vpc:Vpc", "ams-vpc", {"tags": ["env:prod"]}, provider=f"{provider_urn}::p1")
    findings = run_stages([deployment("prod", compliant_resources() + [provider, vpc])], policy, engine, today=TODAY).findings
    hit = [f for f in findings if f.control == "DPA-RES-001"]
    assert [f.urn for f in hit] == [vpc["urn"]]
    assert "from the provider" in hit[0].message


def test_region_from_stack_config(policy: Policy, engine: Engine) -> None:
    findings = run_stages([deployment("prod", compliant_resources(), config("prod", **{"scaleway:region": "pl-waw"}))], policy, engine, today=TODAY).findings
    regional = {f.name for f in findings if f.control == "DPA-RES-001"}
    assert {"vpc", "db", "call-logs", "db-acl"} <= regional


def test_undeterminable_region_is_a_violation(policy: Policy, engine: Engine) -> None:
    stack_config = config("prod", **{"scaleway:region": None, "scaleway:zone": None})
    findings = run_stages([deployment("prod", compliant_resources(), stack_config)], policy, engine, today=TODAY).findings
    hit = [f for f in findings if f.control == "DPA-RES-001" and f.name == "vpc"]
    assert hit and hit[0].status == "violation" and hit[0].enforcement == "mandatory"
    assert "cannot be determined" in hit[0].message


def test_unused_subprocessors_are_not_findings(policy: Policy, engine: Engine) -> None:
    # Appendix B lists who *may* be involved (Article 4.3): the report's inventory lists the unused
    # entries; DPA-SUB-004 is retired (controls.yaml `retired`).
    findings = run_stages(_two(), policy, engine, today=TODAY).findings
    assert not [f for f in findings if "no evaluated stack uses it" in f.message or f.control == "DPA-SUB-004"]


# -- the environment tag (policies/dpa/settings.yaml environment_tag) ------------------------


@pytest.mark.parametrize(
    ("tags", "fires"),
    [
        (["env:prod"], False),
        (["environment:prod"], False),  # another accepted key
        ({"environment": "Production"}, False),  # an accepted value, compared without case
        (["environment:dev"], True),
        (["env:qa"], True),  # a value that names no environment
        (["owner:team"], True),  # no environment tag at all
        # Tags that name two environments name none (issue 24, L9): whichever key is read first.
        (["env:prod", "environment:dev"], True),
        (["environment:dev", "env:prod"], True),
        ({"env": "prod", "environment": "dev"}, True),
        (["env:prod", "env:dev"], True),  # one key twice in a list
        (["env:prod", "environment:Production"], False),  # two keys, one environment
        (["env:prod", "env:prod"], False),
    ],
)
def test_environment_tag_keys_and_values(tags: Any, fires: bool, policy: Policy, engine: Engine) -> None:
    findings = run_stages([changed("prod", "vpc", tags=tags)], policy, engine, today=TODAY).findings
    hits = [f for f in findings if f.control == "DPA-SEG-002" and f.urn == find("vpc")]
    assert bool(hits) == fires, [f.message for f in hits]


def test_conflicting_environment_tags_are_named_in_the_message(policy: Policy, engine: Engine) -> None:
    findings = run_stages([changed("prod", "vpc", tags=["env:prod", "environment:dev"])], policy, engine, today=TODAY).findings
    assert [f.message for f in findings if f.control == "DPA-SEG-002"] == ["tag env, environment is prod, dev, expected prod"]


def test_environment_tag_message_names_the_key_and_value(policy: Policy, engine: Engine) -> None:
    findings = run_stages([changed("prod", "vpc", tags=["environment:dev"])], policy, engine, today=TODAY).findings
    assert [f.message for f in findings if f.control == "DPA-SEG-002"] == ["tag environment is dev, expected prod"]


# -- OPA semantics: a property left out is the provider default, never a pass -------------------


@pytest.mark.parametrize(
    ("name", "removed", "control"),
    [
        ("gw", "bastionEnabled", "DPA-ACC-006"),
        ("db", "isHaCluster", "DPA-BAK-004"),
        ("db", "backupSameRegion", "DPA-RES-003"),
        ("call-logs", "lifecycleRules", "DPA-RET-002"),
    ],
)
def test_a_missing_property_is_judged_as_its_provider_default(name: str, removed: str, control: str, policy: Policy, engine: Engine) -> None:
    findings = run_stages([changed("prod", name, **{removed: None})], policy, engine, today=TODAY).findings
    assert control in {f.control for f in findings if f.urn == find(name)}


# -- properties.yaml: a value of the wrong type is never a pass ---------------------------------


@pytest.mark.parametrize(
    ("name", "inputs", "control"),
    [
        ("db", {"disableBackup": "true"}, "DPA-BAK-001"),
        ("db", {"backupScheduleFrequency": "48"}, "DPA-BAK-003"),
        ("db", {"backupScheduleRetention": "3"}, "DPA-BAK-002"),
        ("db", {"backupScheduleFrequency": 24.5}, "DPA-BAK-003"),
        ("db", {"isHaCluster": "yes"}, "DPA-BAK-004"),
        ("gw", {"bastionEnabled": 1}, "DPA-ACC-006"),
    ],
)
def test_a_value_of_the_wrong_type_is_undetermined(name: str, inputs: dict[str, Any], control: str, policy: Policy, engine: Engine) -> None:
    findings = run_stages([changed("prod", name, **inputs)], policy, engine, today=TODAY).findings
    hits = [f for f in findings if f.control == control and f.urn == find(name)]
    assert hits and any("cannot be judged" in f.message for f in hits), [f.message for f in findings if f.urn == find(name)]
    # undetermined counts as a violation in prod
    assert all(f.enforcement == "mandatory" for f in hits)


def test_a_lifecycle_expiration_given_as_text_is_not_a_pass(policy: Policy, engine: Engine) -> None:
    bucket = next(r for r in compliant_resources("prod") if r["type"] == "scaleway:object/bucket:Bucket")
    name = bucket["urn"].rsplit("::", 1)[1]
    rules = copy.deepcopy(bucket["inputs"]["lifecycleRules"])
    for rule in rules:
        if "expiration" in rule:
            rule["expiration"]["days"] = str(rule["expiration"]["days"])
    findings = run_stages([changed("prod", name, lifecycleRules=rules)], policy, engine, today=TODAY).findings
    messages = {f.control: f.message for f in findings if f.urn == find(name)}
    assert "DPA-RET-002" in messages, messages


# -- the exposures of issue 13 found on the estate ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "inputs", "control", "message"),
    [
        ("web", {"securityGroupId": None}, "DPA-ACC-002", "server has a public IP and no security group: the default group accepts every inbound port, SSH included"),
        ("gw", {"allowedIpRanges": ["0.0.0.0/0"]}, "DPA-ACC-006", "the SSH bastion admits the internet (0.0.0.0/0)"),
        ("gw", {"allowedIpRanges": None}, "DPA-ACC-006", "the SSH bastion admits every address (no allowedIpRanges)"),
        ("db", {"encryptionAtRest": None}, "DPA-SEC-003", "database is not encrypted at rest (encryptionAtRest)"),
        ("app-policy", {"applicationId": None, "groupId": "staff", "rules": [{"permissionSetNames": ["AllProductsFullAccess"]}]},
         "DPA-ACC-007", "IAM policy grants a group AllProductsFullAccess"),
    ],
)
def test_exposures_the_dpa_forbids(name: str, inputs: dict[str, Any], control: str, message: str, policy: Policy, engine: Engine) -> None:
    findings = run_stages([changed("prod", name, **inputs)], policy, engine, today=TODAY).findings
    assert message in [f.message for f in findings if f.control == control and f.urn == find(name)]


def test_a_public_database_needs_an_acl(policy: Policy, engine: Engine) -> None:
    public = run_stages([changed("prod", "db", privateNetwork=None)], policy, engine, today=TODAY).findings
    assert not [f for f in public if f.control == "DPA-ACC-004"]  # the estate's ACL names it
    without_acl = changed("prod", "db-acl", instanceId="another-db")
    resources = [dict(r) if not r["urn"].endswith("::db") else {**r, "inputs": {k: v for k, v in r["inputs"].items() if k != "privateNetwork"}}
                 for r in without_acl.resources]
    findings = run_stages([deployment("prod", resources)], policy, engine, today=TODAY).findings
    assert "database has a public endpoint and no ACL: every address may connect" in [
        f.message for f in findings if f.control == "DPA-ACC-004" and f.urn == find("db")
    ]


def test_a_server_without_public_ip_needs_no_security_group(policy: Policy, engine: Engine) -> None:
    findings = run_stages([changed("prod", "web", ipId=None, securityGroupId=None)], policy, engine, today=TODAY).findings
    assert not [f for f in findings if f.urn == find("web")]


# -- the stack's Scaleway project ----------------------------------------------------------------


def test_the_snake_case_project_setting_is_read(policy: Policy, engine: Engine) -> None:
    values = config("prod")
    values["scaleway:project_id"] = values.pop("scaleway:projectId")
    findings = run_stages([deployment("prod", compliant_resources("prod"), values)], policy, engine, today=TODAY).findings
    assert not [f for f in findings if f.control == "DPA-SEG-001"]


def test_a_stack_without_project_is_one_stack_level_finding(policy: Policy, engine: Engine) -> None:
    values = config("prod")
    del values["scaleway:projectId"]
    resources = copy.deepcopy(compliant_resources("prod"))
    for item in resources:
        item["inputs"].pop("projectId", None)
    findings = run_stages([deployment("prod", resources, values)], policy, engine, today=TODAY).findings
    seg = [f for f in findings if f.control == "DPA-SEG-001"]
    assert [f.urn for f in seg] == [_stack_urn()], [f.message for f in seg]
    assert "sets no Scaleway project" in seg[0].message and "null" not in seg[0].message


def test_a_client_set_period_is_needed_only_where_that_data_is_kept(policy: Policy, engine: Engine) -> None:
    findings = run_stages(_with("prod", [], **{"dpaguard:transcriptRetentionDays": None}), policy, engine, today=TODAY).findings
    assert not [f for f in findings if f.control == "DPA-RET-005"]  # the stack stores no transcripts


@pytest.mark.parametrize(
    ("type_token", "fires"),
    [
        ("scaleway:tem/domain:Domain", True),  # Transactional Email: mailing is SENDINBLUE's
        ("scaleway:inference/deployment:Deployment", True),  # managed AI inference
        ("scaleway:index/temDomain:TemDomain", True),  # the same under its deprecated token
        ("scaleway:object/bucket:Bucket", False),
        ("scaleway:kubernetes/cluster:Cluster", False),
        ("cloudflare:index/r2Bucket:R2Bucket", True),  # Cloudflare is registered for DNS and the API load balancer
        ("cloudflare:index/record:Record", False),
        # The TLS of the hostnames Cloudflare proxies is that service: the origin's certificate and pulls, the edge's packs.
        ("cloudflare:index/originCaCertificate:OriginCaCertificate", False),
        ("cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings", False),
        ("cloudflare:index/certificatePack:CertificatePack", False),
        ("cloudflare:index/workersScript:WorkersScript", True),  # Workers run code on Cloudflare: another service
    ],
)
def test_the_register_is_checked_per_service(type_token: str, fires: bool, policy: Policy, engine: Engine) -> None:
    extra = resource("prod", type_token, "svc", {"name": "svc", "region": "fr-par", "tags": ["env:prod"]})
    findings = run_stages(_with("prod", [extra]), policy, engine, today=TODAY).findings
    hits = [f for f in findings if f.control == "DPA-SUB-005"]
    assert bool(hits) == fires, [f.message for f in hits]


# -- other clouds: one finding per provider, where they are -----------------------------------------


def _other_clouds() -> list[Deployment]:
    aws_provider = urn("prod", "pulumi:providers:aws", "default_7_51_1")
    gcp_provider = urn("prod", "pulumi:providers:gcp", "default_10_2_0")
    extra = [
        resource("prod", "pulumi:providers:aws", "default_7_51_1", {"region": "us-east-1"}),
        resource("prod", "pulumi:providers:gcp", "default_10_2_0", {"project": "p", "region": "asia-east1"}),
        *[resource("prod", "aws:s3/bucket:Bucket", f"b{i}", {"bucket": f"b{i}"}, provider=f"{aws_provider}::id") for i in range(3)],
        resource("prod", "aws:ec2/instance:Instance", "vm", {"region": "eu-west-3"}, provider=f"{aws_provider}::id"),
        resource("prod", "gcp:storage/bucket:Bucket", "photos", {"location": "ASIA-EAST1"}, provider=f"{gcp_provider}::id"),
        resource("prod", "gcp:storage/bucketIAMMember:BucketIAMMember", "photos-public",
                 {"bucket": "photos", "role": "roles/storage.objectViewer", "member": "allUsers"}, provider=f"{gcp_provider}::id"),
    ]
    return _with("prod", extra)


def test_an_unregistered_provider_is_one_finding_with_count_services_regions_and_resources(policy: Policy, engine: Engine) -> None:
    findings = [f for f in run_stages(_other_clouds(), policy, engine, today=TODAY).findings if f.control == "DPA-SUB-001"]
    by_urn: dict[str, Finding] = {f.urn: f for f in findings}
    assert set(by_urn) == {urn("prod", "pulumi:providers:aws", "default_7_51_1"), urn("prod", "pulumi:providers:gcp", "default_10_2_0")}
    aws = by_urn[urn("prod", "pulumi:providers:aws", "default_7_51_1")]
    assert aws.message == "provider aws is not an approved sub-processor of Appendix B: 4 resources (ec2, s3) in eu-west-3, us-east-1"
    assert aws.resources == tuple(sorted([urn("prod", "aws:s3/bucket:Bucket", f"b{i}") for i in range(3)] + [urn("prod", "aws:ec2/instance:Instance", "vm")]))
    assert aws.type == "pulumi:providers:aws" and aws.stack == "prod"
    gcp = by_urn[urn("prod", "pulumi:providers:gcp", "default_10_2_0")]
    assert gcp.message.endswith("2 resources (storage) in asia-east1")


def test_a_waiver_names_the_provider_of_a_grouped_finding(tmp_path: Path, policy: Policy, engine: Engine) -> None:
    waiver = Waiver(control=ControlId("DPA-SUB-001"), urn_pattern=urn("prod", "pulumi:providers:aws", "default_7_51_1"),
                    stack="prod", reason="r", approver="dpo@example.com", expires=TODAY + dt.timedelta(days=30),
                    approved=TODAY, reference="DPO-3")
    waived = dataclasses.replace(policy, waivers=(waiver,))
    findings = [f for f in run_stages(_other_clouds(), waived, engine, today=TODAY).findings if f.control == "DPA-SUB-001"]
    assert {(f.name, f.waived) for f in findings} == {("default_7_51_1", True), ("default_10_2_0", False)}


def test_public_storage_on_another_cloud_is_public_access_where_it_is(policy: Policy, engine: Engine) -> None:
    findings = run_stages(_other_clouds(), policy, engine, today=TODAY).findings
    public = [(f.name, f.message) for f in findings if f.control == "DPA-ACC-010"]
    assert public == [("photos-public", "GCS bucket grants roles/storage.objectViewer to allUsers: its objects are disclosed to anyone (asia-east1)")]
