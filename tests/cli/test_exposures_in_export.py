"""The exposures the DPA forbids, injected into the prod stack's export, each found by `dpaguard audit`.

The export is the project's own prod stack rendered by `dpaguard render` (the shape of `pulumi stack
export`); each case changes or adds what a careless change to the deployed estate would, and the
audit must report the control the DPA clause rests on, on the resource changed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import pytest

from support import REPO
from support.cli import dpaguard

pytestmark = pytest.mark.e2e  # renders the estate's prod stack

Export = dict[str, Any]
PREFIX = "urn:pulumi:prod::dpa-estate::"


@pytest.fixture(scope="module")
def prod_export(tmp_path_factory: pytest.TempPathFactory) -> Export:
    path = tmp_path_factory.mktemp("export") / "prod.json"
    done = dpaguard("render", "--stack", "prod", "--output", path, cwd=REPO)
    assert done.returncode == 0, done.stderr
    document: Export = json.loads(path.read_text())
    return document


def _resource(export: Export, type_token: str, name: str) -> dict[str, Any]:
    return next(r for r in export["deployment"]["resources"] if r["type"] == type_token and r["urn"].endswith(f"::{name}"))


def _set(type_token: str, name: str, **props: Any) -> Callable[[Export], str]:
    def change(export: Export) -> str:
        resource = _resource(export, type_token, name)
        for side in ("inputs", "outputs"):
            resource.setdefault(side, {}).update(props)
        return str(resource["urn"])
    return change


def _add(type_token: str, resource_name: str, **props: Any) -> Callable[[Export], str]:
    def change(export: Export) -> str:
        provider = _resource(export, "scaleway:network/vpc:Vpc", "network-vpc")["provider"]
        name = resource_name
        urn = f"{PREFIX}{type_token}::{name}"
        export["deployment"]["resources"].append(
            {"urn": urn, "custom": True, "id": f"fr-par/{name}", "type": type_token, "provider": provider,
             "inputs": dict(props), "outputs": dict(props)}
        )
        return urn
    return change


def _remove(type_token: str, name: str, then: str) -> Callable[[Export], str]:
    def change(export: Export) -> str:
        removed = _resource(export, type_token, name)
        export["deployment"]["resources"].remove(removed)
        then_type, then_name = then.rsplit("::", 1)
        return str(_resource(export, then_type, then_name)["urn"])
    return change


def _add_inbound_rule(type_token: str, name: str, rule: dict[str, Any]) -> Callable[[Export], str]:
    def change(export: Export) -> str:
        resource = _resource(export, type_token, name)
        for side in ("inputs", "outputs"):
            resource.setdefault(side, {}).setdefault("inboundRules", []).append(dict(rule))
        return str(resource["urn"])
    return change


_BUCKET = "scaleway:object/bucket:Bucket"
_DATAPACKET = "pulumi-python:dynamic/datapacket:Server"

CASES: dict[str, tuple[Callable[[Export], str], str]] = {
    "public-read ACL on a personal-data bucket": (
        _set("scaleway:object/bucketAcl:BucketAcl", "storage-call-recordings-acl", acl="public-read"), "DPA-ACC-010"),
    "SSH bastion open to 0.0.0.0/0": (
        _set("scaleway:network/publicGateway:PublicGateway", "network-gateway", allowedIpRanges=["0.0.0.0/0"]), "DPA-ACC-006"),
    "a site-to-site VPN gateway": (_add("scaleway:s2svpn/gateway:Gateway", "vpn", name="vpn", region="fr-par"), "DPA-ACC-009"),
    "database encryption at rest off": (
        _set("scaleway:databases/instance:Instance", "db-postgres", encryptionAtRest=False), "DPA-SEC-003"),
    "a bucket's server-side encryption removed": (
        _remove("scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                "storage-call-logs-sse", then="scaleway:object/bucket:Bucket::storage-call-logs"), "DPA-SEC-004"),
    "Kapsule nodes with public IPs": (_set("scaleway:kubernetes/pool:Pool", "web-web", publicIpDisabled=False), "DPA-ACC-011"),
    "an instance with a public IP and no security group": (
        _add("scaleway:instance/server:Server", "jump", name="jump", zone="fr-par-1", enableDynamicIp=True,
             tags=["env:prod"]), "DPA-ACC-002"),
    "a staff IAM group with AllProductsFullAccess": (
        _add("scaleway:iam/policy:Policy", "staff-admin", name="staff-admin", groupId="11111111-2222-4333-8444-555555555555",
             rules=[{"permissionSetNames": ["AllProductsFullAccess"], "organizationId": "org"}]), "DPA-ACC-007"),
    "RTP 10000-20000/UDP open to the world, not declared SRTP": (
        _add_inbound_rule("scaleway:instance/securityGroup:SecurityGroup", "security-nodes",
                          {"action": "accept", "protocol": "UDP", "portRange": "10000-20000", "ipRange": "0.0.0.0/0"}),
        "DPA-TLS-009"),
    "the Kapsule API ACL removed": (
        _remove("scaleway:kubernetes/acl:Acl", "web-api-acl", then="scaleway:kubernetes/cluster:Cluster::web-cluster"),
        "DPA-ACC-012"),
    "the Kapsule API ACL open to 0.0.0.0/0": (
        _set("scaleway:kubernetes/acl:Acl", "web-api-acl", aclRules=[{"ip": "0.0.0.0/0"}]), "DPA-ACC-012"),
    "a DataPacket server in Marseille": (_set(_DATAPACKET, "dp-par-web-01", location="Marseille"), "DPA-RES-006"),
    "a node pool in fr-par-2 (DC5, not named)": (_set("scaleway:kubernetes/pool:Pool", "web-web", zone="fr-par-2"), "DPA-RES-006"),
    "a bucket of transactional emails": (
        _add(_BUCKET, "mails", name="mails", region="fr-par", tags={"env": "prod", "data-category": "transactional-emails"}),
        "DPA-RET-006"),
    "SMS content expiring at 365 days plus 1 day as an old version": (
        _set(_BUCKET, "storage-sms-content", lifecycleRules=[
            {"enabled": True, "expiration": {"days": 365}, "noncurrentVersionExpiration": {"noncurrentDays": 1}}]),
        "DPA-RET-003"),
    "webhook logs expired only under tmp/": (
        _set(_BUCKET, "storage-webhook-logs", lifecycleRules=[
            {"enabled": True, "prefix": "tmp/", "expiration": {"days": 30}, "noncurrentVersionExpiration": {"noncurrentDays": 1}}]),
        "DPA-RET-002"),
}


def test_the_export_as_rendered_breaks_none_of_these(prod_export: Export, tmp_path: Path) -> None:
    findings = _audit(prod_export, tmp_path)
    assert not {f["control"] for f in findings} & {control for _, control in CASES.values()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_exposure_is_found(case: str, prod_export: Export, tmp_path: Path) -> None:
    change, control = CASES[case]
    export = copy.deepcopy(prod_export)
    urn = change(export)
    findings = _audit(export, tmp_path)
    assert [f for f in findings if f["control"] == control and f["urn"] == urn], (
        f"{case}: no {control} on {urn}; found {sorted({f['control'] for f in findings})}"
    )


def _audit(export: Export, tmp_path: Path) -> list[dict[str, Any]]:
    state, report = tmp_path / "state.json", tmp_path / "report.json"
    state.write_text(json.dumps(export))
    done = dpaguard("audit", "--state", state, "--stack-config", REPO / "stacks" / "Pulumi.prod.yaml",
                    "--today", "2026-11-29", "--format", "json", "--output", report, "--quiet")
    assert done.returncode in (0, 1), done.stderr
    findings: list[dict[str, Any]] = json.loads(report.read_text())["findings"]
    return findings


# Drift that `pulumi refresh` recorded: the outputs say one thing, the declared inputs another.
def _record(type_token: str, name: str, **props: Any) -> Callable[[Export], str]:
    def change(export: Export) -> str:
        resource = _resource(export, type_token, name)
        resource.setdefault("outputs", {}).update(props)
        return str(resource["urn"])
    return change


RECORDED: dict[str, tuple[Callable[[Export], str], str]] = {
    "database encryption at rest turned off outside code": (
        _record("scaleway:databases/instance:Instance", "db-postgres", encryptionAtRest=False), "DPA-SEC-003"),
    "Kapsule nodes given public IPs outside code": (
        _record("scaleway:kubernetes/pool:Pool", "web-web", publicIpDisabled=False), "DPA-ACC-011"),
}


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_recorded_outputs_that_disagree_with_the_inputs_are_judged_too(case: str, prod_export: Export, tmp_path: Path) -> None:
    change, control = RECORDED[case]
    export = copy.deepcopy(prod_export)
    urn = change(export)
    found = [f for f in _audit(export, tmp_path) if f["control"] == control and f["urn"] == urn]
    assert len(found) == 1, f"{case}: {found}"
    assert found[0]["message"].endswith("(as recorded in the state's outputs; the program declares otherwise)")


def test_the_declared_inputs_are_still_judged_when_the_outputs_comply(prod_export: Export, tmp_path: Path) -> None:
    export = copy.deepcopy(prod_export)
    resource = _resource(export, "scaleway:databases/instance:Instance", "db-postgres")
    resource["inputs"]["encryptionAtRest"] = False
    resource.setdefault("outputs", {})["encryptionAtRest"] = True
    found = [f for f in _audit(export, tmp_path) if f["control"] == "DPA-SEC-003" and f["urn"] == resource["urn"]]
    assert [f["message"] for f in found] and not any("recorded" in f["message"] for f in found)


def test_outputs_that_only_differ_where_no_rule_reads_change_nothing(prod_export: Export, tmp_path: Path) -> None:
    baseline = _audit(copy.deepcopy(prod_export), tmp_path)
    export = copy.deepcopy(prod_export)
    for resource in export["deployment"]["resources"]:
        if resource.get("inputs"):
            resource.setdefault("outputs", {})["createdAt"] = "2026-11-29T00:00:00Z"
            resource["inputs"]["createdAt"] = "2026-01-01T00:00:00Z"
    assert _audit(export, tmp_path) == baseline
