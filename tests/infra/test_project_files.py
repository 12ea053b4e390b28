"""Pulumi.yaml and the stack files: a valid project whose stacks set only declared, well-typed settings."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from support import REPO
from support.estate_render import STACKS, stack_config

PROJECT = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
TYPES = {"string": str, "integer": int, "boolean": bool, "array": list}
# Object-valued settings cannot be declared in a project file (types: string, integer, boolean, array).
UNDECLARED_OBJECT_KEYS = {"datapacketServers"}
SECURE = re.compile(r"^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$")


def test_project_file_points_pulumi_at_the_program_and_the_stacks() -> None:
    assert PROJECT["name"] == "dpa-estate"
    assert PROJECT["runtime"]["name"] == "python"
    assert PROJECT["runtime"]["options"]["virtualenv"] == ".venv"
    assert PROJECT["main"] == "infra/"
    assert PROJECT["stackConfigDir"] == "stacks"
    assert (REPO / PROJECT["main"] / "__main__.py").is_file()


def test_every_declared_setting_has_a_type_and_a_well_typed_default() -> None:
    for key, spec in PROJECT["config"].items():
        assert ":" not in key, f"{key}: namespaced keys cannot be declared with a type"
        assert spec["type"] in TYPES, key
        assert spec.get("description"), key
        if "default" in spec:
            assert isinstance(spec["default"], TYPES[spec["type"]]), key


@pytest.mark.parametrize("stack", STACKS)
def test_stack_sets_only_declared_settings_with_their_types(stack: str) -> None:
    declared: dict[str, Any] = PROJECT["config"]
    config = stack_config(stack)
    for key, value in config.items():
        namespace, _, name = key.partition(":")
        if namespace != "dpa-estate" or name in UNDECLARED_OBJECT_KEYS:
            continue
        assert name in declared, f"{stack}: {key} is not declared in Pulumi.yaml"
        if isinstance(value, dict) and "secure" in value:
            assert declared[name].get("secret") is True, key
            continue
        assert isinstance(value, TYPES[declared[name]["type"]]), key
    for name, spec in declared.items():
        if "default" not in spec:
            assert f"dpa-estate:{name}" in config, f"{stack}: required setting {name} is missing"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_has_provider_policy_and_secret_settings(stack: str) -> None:
    raw = yaml.safe_load((REPO / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    assert raw["encryptionsalt"].startswith("v1:")
    config = raw["config"]
    assert (config["scaleway:region"], config["scaleway:zone"]) == ("fr-par", "fr-par-1")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", config["scaleway:projectId"])
    assert config["dpaguard:environment"] == stack
    for key in ("dpaguard:callRecordingRetentionDays", "dpaguard:transcriptRetentionDays", "dpaguard:minBackupRetentionDays"):
        assert isinstance(config[key], int) and config[key] > 0, key
    for key in ("datapacket:apiKey", "dpa-estate:dbPassword", "dpa-estate:redisPassword"):
        assert SECURE.match(config[key]["secure"]), key
