"""The project's own estate (Pulumi.yaml at the repository root) rendered offline for its three stacks."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from support import REPO

from dpaguard.model import Deployment
from dpaguard.source.program import render_stack

pytestmark = pytest.mark.e2e  # renders the estate's three stacks

STACKS = ("prod", "staging", "dev")


@pytest.fixture(scope="module")
def estate() -> dict[str, Deployment]:
    return {stack: render_stack(REPO, stack) for stack in STACKS}


@pytest.mark.parametrize("stack", STACKS)
def test_every_scaleway_resource_uses_the_fr_par_default_provider(estate: dict[str, Deployment], stack: str) -> None:
    deployment = estate[stack]
    assert deployment.project == "dpa-estate" and deployment.stack == stack
    assert deployment.config["dpaguard:environment"] == stack
    (provider,) = [r for r in deployment.resources if r["type"] == "pulumi:providers:scaleway"]
    assert provider["urn"].startswith(f"urn:pulumi:{stack}::dpa-estate::pulumi:providers:scaleway::default_1_60_0")
    assert provider["inputs"]["region"] == "fr-par" and provider["inputs"]["zone"] == "fr-par-1"
    assert provider["inputs"]["projectId"] == deployment.config["scaleway:projectId"]
    scaleway = [r for r in deployment.resources if r["type"].startswith("scaleway:")]
    assert scaleway and all(r["provider"] == f"{provider['urn']}::{provider['id']}" for r in scaleway)


@pytest.mark.parametrize("stack", STACKS)
def test_the_estate_has_its_resources_components_and_servers(estate: dict[str, Deployment], stack: str) -> None:
    deployment = estate[stack]
    types = Counter(r["type"] for r in deployment.resources)
    for token in (
        "scaleway:network/vpc:Vpc",
        "scaleway:network/privateNetwork:PrivateNetwork",
        "scaleway:network/publicGateway:PublicGateway",
        "scaleway:loadbalancers/loadBalancer:LoadBalancer",
        "scaleway:kubernetes/cluster:Cluster",
        "scaleway:databases/instance:Instance",
        "scaleway:redis/cluster:Cluster",
    ):
        assert types[token] >= 1, token
    assert types["scaleway:object/bucket:Bucket"] >= 7  # one per Appendix A data category
    assert types["pulumi-python:dynamic/datapacket:Server"] == len(deployment.config["dpa-estate:datapacketServers"])
    components = [r for r in deployment.resources if not r["custom"] and r["type"].startswith("dpa:estate:")]
    assert components and all(r["parent"] == deployment.stack_urn for r in components)
    assert all(r.get("sourcePosition", "").startswith("project:///infra/") for r in deployment.resources
               if r["custom"] and not r["type"].startswith("pulumi:providers:"))


def test_prod_has_a_read_replica_and_ha(estate: dict[str, Deployment]) -> None:
    prod = estate["prod"]
    (db,) = [r for r in prod.resources if r["type"] == "scaleway:databases/instance:Instance"]
    assert db["inputs"]["isHaCluster"] is True
    assert any(r["type"] == "scaleway:databases/readReplica:ReadReplica" for r in prod.resources)


@pytest.mark.parametrize("stack", STACKS)
def test_secure_values_stay_secret(estate: dict[str, Deployment], stack: str) -> None:
    deployment = estate[stack]
    text = (REPO / "stacks" / f"Pulumi.{stack}.yaml").read_text()
    ciphertexts = [line.split("secure:", 1)[1].strip() for line in text.splitlines() if "secure:" in line]
    dumped = json.dumps([deployment.resources, deployment.config])
    assert ciphertexts and not any(c in dumped for c in ciphertexts)
    assert deployment.secret_config_keys >= {"dpa-estate:dbPassword"}
