"""The estate through dpaguard's own offline renderer: what `dpaguard render` hands to the policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support import REPO
from support.estate_render import STACKS, stack_config

from dpaguard.source import program

SECRET_KEY = "4dabf18193072939515e22adb298388d"


@pytest.fixture(scope="module")
def deployments() -> dict[str, Any]:
    """Each stack rendered once by dpaguard.source.program.render_stack."""
    return {stack: program.render_stack(Path(REPO), stack) for stack in STACKS}


@pytest.mark.parametrize("stack", STACKS)
def test_default_scaleway_provider_carries_the_stack_region_zone_and_project(deployments: dict[str, Any], stack: str) -> None:
    resources = deployments[stack].resources
    (scaleway,) = [r for r in resources if r["type"] == "pulumi:providers:scaleway"]
    assert scaleway["inputs"]["region"] == "fr-par" and scaleway["inputs"]["zone"] == "fr-par-1"
    assert scaleway["inputs"]["projectId"] == stack_config(stack)["scaleway:projectId"]
    for resource in resources:
        if resource["type"].startswith("scaleway:"):
            assert resource["provider"].startswith(scaleway["urn"] + "::"), resource["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_datapacket_servers_keep_their_type_token_and_a_secret_key(deployments: dict[str, Any], stack: str) -> None:
    servers = [r for r in deployments[stack].resources if r["type"] == "pulumi-python:dynamic/datapacket:Server"]
    assert len(servers) == len(stack_config(stack)["dpa-estate:datapacketServers"])
    for server in servers:
        assert server["urn"].endswith(f"::{server['inputs']['serverName']}")
        assert SECRET_KEY in server["inputs"]["apiKey"]
        assert server["parent"].endswith("dpa:estate:BareMetal::datapacket")


@pytest.mark.parametrize("stack", STACKS)
def test_no_secure_config_value_reaches_the_deployment_in_plaintext(deployments: dict[str, Any], stack: str) -> None:
    text = json.dumps(deployments[stack].resources)
    for key, value in stack_config(stack).items():
        if isinstance(value, dict) and "secure" in value:
            assert value["secure"] not in text, key
    counted = {r["type"] for r in deployments[stack].resources if r["custom"]}
    assert "scaleway:databases/instance:Instance" in counted
