"""The estate program renders for every stack and registers a DPA-compliant estate (read from its inputs)."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any

import dill
import pytest
import yaml
from support import REPO
from support.estate_render import STACKS, render, stack_config

from dpa_datapacket.provider import ServerProvider

SECRET_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
BUCKET = "scaleway:object/bucket:Bucket"
DATAPACKET = "pulumi-python:dynamic/datapacket:Server"

EXPECTED_TYPES = {
    "scaleway:network/vpc:Vpc",
    "scaleway:network/privateNetwork:PrivateNetwork",
    "scaleway:network/publicGatewayIp:PublicGatewayIp",
    "scaleway:network/publicGateway:PublicGateway",
    "scaleway:network/gatewayNetwork:GatewayNetwork",
    "scaleway:instance/securityGroup:SecurityGroup",
    "scaleway:loadbalancers/ip:Ip",
    "scaleway:loadbalancers/loadBalancer:LoadBalancer",
    "scaleway:loadbalancers/certificate:Certificate",
    "scaleway:loadbalancers/backend:Backend",
    "scaleway:loadbalancers/frontend:Frontend",
    "scaleway:kubernetes/cluster:Cluster",
    "scaleway:kubernetes/pool:Pool",
    "scaleway:databases/instance:Instance",
    "scaleway:redis/cluster:Cluster",
    BUCKET,
    "scaleway:object/bucketAcl:BucketAcl",
    "scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    DATAPACKET,
}


def _of_type(resources: list[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["type"] == type_]


def _one(resources: list[dict[str, Any]], type_: str, name: str | None = None) -> dict[str, Any]:
    found = [r for r in _of_type(resources, type_) if name is None or r["name"] == name]
    assert len(found) == 1, f"expected one {type_} {name or ''}, got {len(found)}"
    return found[0]


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_KEY) == SECRET_SIG


@pytest.mark.parametrize("stack", STACKS)
def test_stack_registers_every_part_of_the_estate(rendered: dict[str, list[dict[str, Any]]], stack: str) -> None:
    resources = rendered[stack]
    types = {r["type"] for r in resources if r["custom"]}
    assert EXPECTED_TYPES <= types
    buckets = _of_type(resources, BUCKET)
    assert len([b for b in buckets if b["inputs"]["tags"].get("purpose") != "backup"]) == 10  # one per data category
    assert len([b for b in buckets if b["inputs"]["tags"].get("purpose") == "backup"]) == 1  # the cold copy (§8.1)
    assert len(_of_type(resources, "scaleway:network/privateNetwork:PrivateNetwork")) == 2
    roles = {r["inputs"]["role"] for r in _of_type(resources, DATAPACKET)}
    assert roles == {"telecom", "database", "web"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_sits_under_an_estate_component(rendered: dict[str, list[dict[str, Any]]], stack: str) -> None:
    components = {r["urn"] for r in rendered[stack] if r["type"].startswith("dpa:estate:")}
    assert len(components) == 9
    for resource in rendered[stack]:
        if resource["custom"]:
            assert resource["parent"] in components, resource["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_is_tagged_with_its_environment_and_placed_in_the_stack_project(
    rendered: dict[str, list[dict[str, Any]]], stack: str
) -> None:
    project_id = stack_config(stack)["scaleway:projectId"]
    for resource in rendered[stack]:
        inputs = resource["inputs"]
        if not resource["custom"]:
            continue
        if "tags" in inputs or resource["type"] in (BUCKET, DATAPACKET):
            tags = inputs["tags"]
            if isinstance(tags, dict):
                assert tags["env"] == stack, resource["name"]
            else:
                assert f"env:{stack}" in tags, resource["name"]
        if "projectId" in inputs:
            assert inputs["projectId"] == project_id, resource["name"]
        if "region" in inputs:
            assert inputs["region"] == "fr-par", resource["name"]
        if "zone" in inputs:
            assert inputs["zone"] == "fr-par-1", resource["name"]
    tagged = [r for r in rendered[stack] if r["custom"] and "tags" in r["inputs"]]
    assert len(tagged) >= 25


def test_each_stack_has_its_own_scaleway_project() -> None:
    projects = {stack_config(stack)["scaleway:projectId"] for stack in STACKS}
    assert len(projects) == len(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_bucket_expiry_matches_appendix_a(rendered: dict[str, list[dict[str, Any]]], stack: str) -> None:
    config = stack_config(stack)
    # The longest an object lives: its expiration days plus the day its old version survives (DPA-RET-003).
    expected = {
        "call-recordings": config["dpaguard:callRecordingRetentionDays"],
        "transcripts": config["dpaguard:transcriptRetentionDays"],
        "call-logs": 366,  # the legal 365 days available, gone the day after (Appendix A: 366 at most)
        "sms-logs": 366,
        "sms-content": 365,  # "a maximum of one (1) year"
        "mms-logs": 366,
        "mms-content": 365,
        "webhook-logs": 31,  # "one (1) month"
        "crm-contacts": 1095,
        "fax": None,  # lifetime of the contract
    }
    seen = {}
    for bucket in _of_type(rendered[stack], BUCKET):
        inputs = bucket["inputs"]
        if inputs["tags"].get("purpose") == "backup":
            continue  # the cold copy: test_the_cold_copy_is_write_once_for_the_database_backups_retention
        category = inputs["tags"]["data-category"]
        (rule,) = inputs["lifecycleRules"]
        assert rule["enabled"] is True
        assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 1
        days = rule.get("expiration", {}).get("days")
        seen[category] = int(days) + rule["noncurrentVersionExpiration"]["noncurrentDays"] if days is not None else None
        assert inputs["versioning"] == {"enabled": True}
        assert inputs["name"].endswith(f"-{stack}-{category}")
    assert seen == expected


@pytest.mark.parametrize("stack", STACKS)
def test_the_cold_copy_is_write_once_for_the_database_backups_retention(
    rendered: dict[str, list[dict[str, Any]]], stack: str
) -> None:
    retention = stack_config(stack)["dpa-estate:dbBackupRetentionDays"]
    (bucket,) = [b for b in _of_type(rendered[stack], BUCKET) if b["inputs"]["tags"].get("purpose") == "backup"]
    inputs = bucket["inputs"]
    assert inputs["objectLockEnabled"] is True and inputs["versioning"] == {"enabled": True}
    assert inputs["name"].endswith(f"-{stack}-db-dumps") and inputs["region"] == "fr-par"
    (rule,) = inputs["lifecycleRules"]
    # each dump lives its lock, then its old version a day: exactly the database's backup retention
    assert int(rule["expiration"]["days"]) + rule["noncurrentVersionExpiration"]["noncurrentDays"] == retention
    (lock,) = _of_type(rendered[stack], "scaleway:object/bucketLockConfiguration:BucketLockConfiguration")
    assert lock["inputs"]["bucket"] == inputs["name"] or lock["inputs"]["bucket"] == bucket.get("outputs", {}).get("name")
    assert lock["inputs"]["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": retention}


@pytest.mark.parametrize("stack", STACKS)
def test_every_bucket_is_private_and_encrypted(rendered: dict[str, list[dict[str, Any]]], stack: str) -> None:
    resources = rendered[stack]
    names = {b["inputs"]["name"] for b in _of_type(resources, BUCKET)}
    acls = _of_type(resources, "scaleway:object/bucketAcl:BucketAcl")
    assert {a["inputs"]["bucket"] for a in acls} == names
    assert {a["inputs"]["acl"] for a in acls} == {"private"}
    sse = _of_type(resources, "scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert {s["inputs"]["bucket"] for s in sse} == names
    for config in sse:
        (rule,) = config["inputs"]["rules"]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"


@pytest.mark.parametrize("stack", STACKS)
def test_database_backups_stay_in_region_and_ha_is_prod_only(rendered: dict[str, list[dict[str, Any]]], stack: str) -> None:
    config = stack_config(stack)
    resources = rendered[stack]
    db = _one(resources, "scaleway:databases/instance:Instance")["inputs"]
    assert db["isHaCluster"] is (stack == "prod")
    assert db["disableBackup"] is False and db["backupSameRegion"] is True
    assert db["encryptionAtRest"] is True
    assert db["backupScheduleRetention"] == config["dpa-estate:dbBackupRetentionDays"]
    assert db["backupScheduleRetention"] >= config["dpaguard:minBackupRetentionDays"]
    assert db["backupScheduleFrequency"] == config["dpa-estate:dbBackupFrequencyHours"]
    data_pn = _one(resources, "scaleway:network/privateNetwork:PrivateNetwork", "network-data")
    assert db["privateNetwork"]["pnId"] == f"{data_pn['name']}-id"
    assert "loadBalancer" not in db
    replicas = _of_type(resources, "scaleway:databases/readReplica:ReadReplica")
    assert len(replicas) == (1 if stack == "prod" else 0)
    for replica in replicas:
        assert replica["inputs"]["privateNetwork"]["privateNetworkId"] == f"{data_pn['name']}-id"
    if stack == "prod":
        assert db["backupScheduleRetention"] >= 14


@pytest.mark.parametrize("stack", STACKS)
def test_security_group_drops_inbound_by_default(rendered: dict[str, list[dict[str, Any]]], stack: str) -> None:
    sg = _one(rendered[stack], "scaleway:instance/securityGroup:SecurityGroup")["inputs"]
    assert sg["inboundDefaultPolicy"] == "drop" and sg["outboundDefaultPolicy"] == "drop"
    subnet = stack_config(stack)["dpa-estate:appSubnet"]
    assert {rule["ipRange"] for rule in sg["inboundRules"]} == {subnet}
    assert all(rule["action"] == "accept" for rule in sg["inboundRules"])


@pytest.mark.parametrize("stack", STACKS)
def test_public_gateway_bastion_is_the_admin_entry(rendered: dict[str, list[dict[str, Any]]], stack: str) -> None:
    gateway = _one(rendered[stack], "scaleway:network/publicGateway:PublicGateway")["inputs"]
    assert gateway["bastionEnabled"] is True
    assert gateway["allowedIpRanges"] == stack_config(stack)["dpa-estate:adminSourceCidrs"]
    assert "0.0.0.0/0" not in gateway["allowedIpRanges"]
    pool = _one(rendered[stack], "scaleway:kubernetes/pool:Pool")["inputs"]
    assert pool["publicIpDisabled"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_load_balancer_serves_https_and_only_redirects_http(rendered: dict[str, list[dict[str, Any]]], stack: str) -> None:
    resources = rendered[stack]
    frontends = {int(f["inputs"]["inboundPort"]): f["inputs"] for f in _of_type(resources, "scaleway:loadbalancers/frontend:Frontend")}
    assert set(frontends) == {80, 443}
    certificate = _one(resources, "scaleway:loadbalancers/certificate:Certificate")
    assert frontends[443]["certificateIds"] == [f"{certificate['name']}-id"]
    assert certificate["inputs"]["letsencrypt"]["commonName"] == stack_config(stack)["dpa-estate:domain"]
    (acl,) = frontends[80]["acls"]
    assert acl["action"]["type"] == "redirect"
    assert acl["action"]["redirects"] == [{"type": "scheme", "target": "https", "code": 301}]
    assert "0.0.0.0/0" in acl["match"]["ipSubnets"]
    assert "certificateIds" not in frontends[80]
    backend = _one(resources, "scaleway:loadbalancers/backend:Backend")["inputs"]
    assert backend["sslBridging"] is True and backend["ignoreSslServerVerify"] is False


@pytest.mark.parametrize("stack", STACKS)
def test_redis_uses_tls_on_the_data_network(rendered: dict[str, list[dict[str, Any]]], stack: str) -> None:
    redis = _one(rendered[stack], "scaleway:redis/cluster:Cluster")["inputs"]
    assert redis["tlsEnabled"] is True
    assert redis["privateNetworks"] == [{"id": "network-data-id"}]
    assert "publicNetwork" not in redis and "acls" not in redis


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_stay_secret(rendered: dict[str, list[dict[str, Any]]], stack: str) -> None:
    resources = rendered[stack]
    assert _is_secret(_one(resources, "scaleway:databases/instance:Instance")["inputs"]["password"])
    assert _is_secret(_one(resources, "scaleway:redis/cluster:Cluster")["inputs"]["password"])
    for server in _of_type(resources, DATAPACKET):
        assert _is_secret(server["inputs"]["apiKey"])
        assert "apiKey" in server["additionalSecretOutputs"]


@pytest.mark.parametrize("stack", STACKS)
def test_datapacket_servers_are_in_paris_with_declared_telecom_settings(
    rendered: dict[str, list[dict[str, Any]]], stack: str
) -> None:
    servers = _of_type(rendered[stack], DATAPACKET)
    declared = {s["name"]: s for s in stack_config(stack)["dpa-estate:datapacketServers"]}
    assert {s["inputs"]["serverName"] for s in servers} == set(declared)
    for server in servers:
        inputs = server["inputs"]
        assert (inputs["location"], inputs["countryCode"], inputs["environment"]) == ("Paris", "FR", stack)
        assert inputs["backupTarget"] in ("scaleway:fr-par", "datapacket:Paris")
        assert len(inputs["backupSchedule"].split()) == 5
        if inputs["role"] == "telecom":
            assert (inputs["sipTransport"], inputs["mediaEncryption"]) == ("tls", "srtp")
        else:
            assert "sipTransport" not in inputs and "mediaEncryption" not in inputs


def test_an_unknown_environment_fails_the_program(tmp_path: Path) -> None:
    project = tmp_path / "estate"
    shutil.copytree(REPO / "infra", project / "infra")
    shutil.copy(REPO / "Pulumi.yaml", project / "Pulumi.yaml")
    (project / "stacks").mkdir()
    config = yaml.safe_load((REPO / "stacks" / "Pulumi.dev.yaml").read_text())
    config["config"]["dpaguard:environment"] = "qa"
    (project / "stacks" / "Pulumi.qa.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(AssertionError, match="dpaguard:environment must be one of prod, staging, dev"):
        render(project, "qa")


def test_datapacket_provider_is_pickled_by_reference_without_credentials(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for server in _of_type(rendered["prod"], DATAPACKET):
        pickled = base64.b64decode(server["inputs"]["__provider"])
        assert b"dpa_datapacket.provider" in pickled and b"offline-secret-placeholder" not in pickled
        assert type(dill.loads(pickled)) is ServerProvider
