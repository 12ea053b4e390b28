"""Recorded outputs that disagree with declared inputs: the resource is judged as declared and as recorded."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dpaguard.errors import InputError
from dpaguard.findings import coverage
from dpaguard.inventory import usage_of
from dpaguard.model import Deployment
from dpaguard.normalise import RECORDED_SUFFIX, declared_urn, normalise
from dpaguard.policy import Policy

TODAY = dt.date(2026, 11, 29)
BUCKET = "scaleway:object/bucket:Bucket"


def _deployment(*resources: dict[str, Any], stack: str = "prod") -> Deployment:
    config = {"scaleway:region": "fr-par", "scaleway:zone": "fr-par-1", "scaleway:projectId": f"p-{stack}"}
    return Deployment(stack=stack, project="demo", source="state", resources=resources, config=config)


def _bucket(name: str, inputs: dict[str, Any], outputs: dict[str, Any], stack: str = "prod") -> dict[str, Any]:
    return {"urn": f"urn:pulumi:{stack}::demo::{BUCKET}::{name}", "custom": True, "id": f"fr-par/{name}", "type": BUCKET,
            "inputs": inputs, "outputs": outputs}


def test_a_region_recorded_elsewhere_gives_a_second_view(policy: Policy) -> None:
    declared = {"name": "b", "region": "fr-par", "tags": ["env:prod"]}
    facts = normalise([_deployment(_bucket("b", declared, {**declared, "region": "nl-ams"}))], policy.data, today=TODAY)
    as_declared, as_recorded = facts["resources"]
    assert as_declared["locality"]["region"] == "fr-par" and "recorded_of" not in as_declared
    assert as_recorded["locality"]["region"] == "nl-ams"
    assert as_recorded["urn"] == as_declared["urn"] + RECORDED_SUFFIX
    assert declared_urn(as_recorded) == declared_urn(as_declared) == as_declared["urn"]
    # Still one resource to every count a reader sees.
    assert coverage(policy.controls, facts)[("DPA-RES-001", "prod")] == 1
    assert sum(u.resources for u in usage_of(facts, policy.data["locations"]) if u.kind == "location") == 1


def test_no_second_view_where_the_rules_would_read_the_same(policy: Policy) -> None:
    declared = {"name": "b", "region": "fr-par"}
    recorded = {**declared, "endpoint": "https://b.s3.fr-par.scw.cloud", "createdAt": "2026-11-29"}
    facts = normalise([_deployment(_bucket("b", {**declared, "createdAt": "2026-01-01"}, recorded))], policy.data, today=TODAY)
    assert len(facts["resources"]) == 1


def test_a_resource_named_like_a_recorded_view_is_refused(policy: Policy) -> None:
    declared = {"name": "b", "region": "fr-par"}
    twin = _bucket("b" + RECORDED_SUFFIX, declared, declared)
    with pytest.raises(InputError, match="rename one"):
        normalise([_deployment(_bucket("b", declared, {**declared, "region": "nl-ams"}), twin)], policy.data, today=TODAY)


def test_a_recorded_view_shared_across_stacks_names_its_resource(policy: Policy) -> None:
    network = "scaleway:network/privateNetwork:PrivateNetwork"
    pn = {"urn": f"urn:pulumi:prod::demo::{network}::pn", "custom": True, "id": "fr-par/pn-1", "type": network,
          "inputs": {"name": "pn", "region": "fr-par"}, "outputs": {"name": "pn", "region": "nl-ams"}}
    user = {"urn": f"urn:pulumi:dev::demo::{BUCKET}::user", "custom": True, "id": "fr-par/user", "type": BUCKET,
            "inputs": {"name": "user", "region": "fr-par", "note": "fr-par/pn-1"}}
    facts = normalise([_deployment(pn), _deployment(user, stack="dev")], policy.data, today=TODAY)
    (dev,) = [r for r in facts["resources"] if r["stack"] == "dev"]
    assert [owner["urn"] for owner in dev.get("foreign", [])] == [pn["urn"]]


def test_a_provider_recorded_elsewhere_gives_its_resources_a_second_view(policy: Policy) -> None:
    """Drift in a provider resource's outputs is judged like a resource's own (issue 24, L8)."""
    provider_urn = "urn:pulumi:prod::demo::pulumi:providers:scaleway::explicit"
    declared = {"region": "fr-par", "zone": "fr-par-1", "projectId": "p-prod"}
    provider = {"urn": provider_urn, "custom": True, "id": "pid", "type": "pulumi:providers:scaleway",
                "inputs": declared, "outputs": {**declared, "region": "nl-ams", "zone": "nl-ams-1"}}
    bucket = {**_bucket("b", {"name": "b", "tags": ["env:prod"]}, {"name": "b", "tags": ["env:prod"]}),
              "provider": f"{provider_urn}::pid"}
    facts = normalise([_deployment(provider, bucket)], policy.data, today=TODAY)
    as_declared, as_recorded = facts["resources"]
    assert as_declared["locality"]["region"] == "fr-par"
    assert as_recorded["locality"]["region"] == "nl-ams" and as_recorded["recorded_of"] == as_declared["urn"]

    agreeing = {**provider, "outputs": declared}
    assert len(normalise([_deployment(agreeing, bucket)], policy.data, today=TODAY)["resources"]) == 1
