"""The environment a stack export is checked as never comes from the export itself (issue 15, item 12)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support import SOURCE_FIXTURES
from support.cli import dpaguard

from dpaguard.source.state import load_state

REAL = SOURCE_FIXTURES / "states" / "real-export.json"


def _with_dpaguard_provider(export: dict[str, Any]) -> dict[str, Any]:
    """The export with a made-up default `dpaguard` provider that claims the stack is dev."""
    resources = export["deployment"]["resources"]
    resources.insert(1, {
        "urn": "urn:pulumi:prod::legacy-estate::pulumi:providers:dpaguard::default",
        "custom": True, "id": "x", "type": "pulumi:providers:dpaguard",
        "inputs": {"environment": "dev", "minBackupRetentionDays": "1"},
        "outputs": {"environment": "dev"},
    })
    return export


def _with_dpaguard_block(export: dict[str, Any], environment: str | None = "dev") -> dict[str, Any]:
    """The export with a `dpaguard` block (as `dpaguard render` writes) whose config claims dev."""
    config = {"scaleway:region": "fr-par", "scaleway:zone": "fr-par-2"}
    if environment:
        config["dpaguard:environment"] = environment
    export["dpaguard"] = {"stack": "prod", "project": "legacy-estate", "config": config}
    return export


def _reference(forge: Any) -> dict[str, Any]:
    """What the forged export is, without its claim."""
    export: dict[str, Any] = json.loads(REAL.read_text())
    return _with_dpaguard_block(export, None) if forge is _with_dpaguard_block else export


@pytest.mark.parametrize("forge", [_with_dpaguard_provider, _with_dpaguard_block], ids=["provider", "block"])
def test_an_export_cannot_relabel_its_environment(tmp_path: Path, forge: Any) -> None:
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forge(json.loads(REAL.read_text()))))
    deployment = load_state(path)
    assert "dpaguard:environment" not in deployment.config
    assert "dpaguard:minBackupRetentionDays" not in deployment.config

    def run(state: Path) -> tuple[int, dict[str, Any]]:
        done = dpaguard("audit", "--state", state, "--format", "json", timeout=120)
        return done.returncode, json.loads(done.stdout)

    reference = tmp_path / "reference.json"
    reference.write_text(json.dumps(_reference(forge)))
    code, forged = run(path)
    plain_code, plain = run(reference)
    assert [s["environment"] for s in forged["stacks"]] == ["prod"]
    assert code == plain_code
    assert forged["summary"]["mandatory"] == plain["summary"]["mandatory"] > 0


def test_a_stack_config_still_sets_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "Pulumi.prod.yaml"
    config.write_text("config:\n  dpaguard:environment: dev\n  scaleway:region: fr-par\n")
    assert load_state(REAL, stack_config=config).config["dpaguard:environment"] == "dev"


def test_an_export_cannot_set_the_dpa_minimums(tmp_path: Path) -> None:
    """An export's own `dpaguard` block sets none of dpaguard's settings; `--stack-config` does (issue 24, H3)."""
    export = _with_dpaguard_block(json.loads(REAL.read_text()))
    export["dpaguard"]["config"].update({"dpaguard:minBackupRetentionDays": 1, "dpaguard:callRecordingRetentionDays": 4000})
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(export))
    assert not [key for key in load_state(path).config if key.startswith("dpaguard:")]
    assert load_state(path).config["scaleway:zone"] == "fr-par-2"
    config = tmp_path / "Pulumi.prod.yaml"
    config.write_text("config:\n  dpaguard:callRecordingRetentionDays: 90\n")
    assert load_state(path, stack_config=config).config["dpaguard:callRecordingRetentionDays"] == 90
