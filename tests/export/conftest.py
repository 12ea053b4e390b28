"""Deployments built by hand for the Terraform plan export tests."""

from __future__ import annotations

from typing import Any

import pytest

from dpaguard.model import SECRET_SIG, SECRET_SIG_KEY, UNKNOWN, Deployment

PROJECT = "shop"
STACK = "prod"
PROVIDER_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:scaleway::default_1_60_0"
PROVIDER_REF = f"{PROVIDER_URN}::3f1c"
SECRET = {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": "[secret]"}


def urn(token: str, name: str, parent: str = "") -> str:
    """A resource URN of the test stack (parent type chain optional)."""
    qualified = f"{parent}${token}" if parent else token
    return f"urn:pulumi:{STACK}::{PROJECT}::{qualified}::{name}"


def resource(token: str, name: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A custom resource of the default Scaleway provider, as a stack export holds it."""
    return {"urn": urn(token, name), "custom": True, "id": f"id-{name}", "type": token, "inputs": inputs,
            "outputs": dict(inputs), "provider": PROVIDER_REF, "dependencies": [], **extra}


def make_deployment(resources: list[dict[str, Any]], region: str = "fr-par") -> Deployment:
    """A deployment of the test stack with the stack resource, the default provider and `resources`."""
    base = [
        {"urn": f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}", "custom": False,
         "type": "pulumi:pulumi:Stack"},
        {"urn": PROVIDER_URN, "custom": True, "id": "3f1c", "type": "pulumi:providers:scaleway",
         "inputs": {"region": region, "zone": f"{region}-1", "version": "1.60.0"}},
    ]
    return Deployment(stack=STACK, project=PROJECT, source="state", resources=tuple(base + resources),
                      config={"scaleway:region": region, "scaleway:zone": f"{region}-1", "dpaguard:environment": "prod"})


@pytest.fixture
def estate() -> Deployment:
    """Current and deprecated tokens, blocks, maps, a secret, an unknown, and things without a Terraform twin."""
    component = urn("acme:shop:Database", "db")
    return make_deployment([
        {"urn": component, "custom": False, "type": "acme:shop:Database"},
        resource("scaleway:databases/instance:Instance", "main-db", {
            "name": "main", "engine": "PostgreSQL-16", "nodeType": "DB-DEV-S", "backupSameRegion": True,
            "disableBackup": False, "password": SECRET, "privateNetwork": {"pnId": "pn-1", "enableIpam": True},
            "settings": {"work_mem": "4"}, "endpointIp": UNKNOWN,
        }, parent=component, additionalSecretOutputs=["password"]),
        resource("scaleway:index/databaseInstance:DatabaseInstance", "legacy-db", {
            "name": "legacy", "engine": "PostgreSQL-15", "nodeType": "DB-DEV-S", "region": "nl-ams",
        }),
        resource("scaleway:instance/securityGroup:SecurityGroup", "web-sg", {
            "inboundDefaultPolicy": "drop",
            "inboundRules": [{"action": "accept", "ipRange": "10.0.0.0/8", "port": 443, "protocol": "TCP"}],
        }),
        resource("scaleway:object/bucket:Bucket", "logs", {
            "name": "logs", "region": "fr-par", "tags": {"data-category": "logs"},
            "lifecycleRules": [{"enabled": True, "expiration": {"days": 30},
                                "transitions": [{"days": 7, "storageClass": "GLACIER"}]}],
        }),
        resource("scaleway:object/bucket:Bucket", "logs", {"name": "logs-2"}),  # same name, another parent in Pulumi
        {"urn": urn("pulumi-python:dynamic/datapacket:Server", "dp-par-01"), "custom": True, "id": "dp1",
         "type": "pulumi-python:dynamic/datapacket:Server", "inputs": {"location": "Paris"}, "outputs": {}},
        resource("scaleway:futureProduct/thing:Thing", "novel", {"name": "x"}),
    ])
