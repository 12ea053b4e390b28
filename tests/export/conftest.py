"""Deployments built by hand for the Terraform plan export tests (helpers in support/export_estate.py)."""

from __future__ import annotations

import pytest

from dpaguard.model import UNKNOWN, Deployment
from support.export_estate import SECRET, make_deployment, resource, urn


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
