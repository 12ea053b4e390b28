"""`dpaguard export` end to end through the command line (in process: support/cli.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dpaguard.source.state import export_json

from support import REPO
from support.export_estate import make_deployment, resource
from support.cli import dpaguard


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return dpaguard("export", *args, cwd=cwd)


def test_export_from_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(export_json(make_deployment([
        resource("scaleway:object/bucket:Bucket", "logs", {"name": "logs", "region": "fr-par"}),
    ])))
    out = tmp_path / "plan.json"
    done = _run("--state", str(state), "--format", "tfplan", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    plan = json.loads(out.read_text())
    assert [r["address"] for r in plan["planned_values"]["root_module"]["resources"]] == ["scaleway_object_bucket.logs"]


@pytest.mark.e2e  # renders the estate
def test_export_of_a_rendered_stack_to_stdout() -> None:
    done = _run("--stack", "dev", "--project-dir", str(REPO), "--format", "tfplan")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    types = {r["type"] for r in plan["planned_values"]["root_module"]["resources"]}
    assert {"scaleway_rdb_instance", "scaleway_object_bucket", "scaleway_instance_security_group"} <= types
    untranslated = {u["type"] for u in plan["dpaguard_untranslated"]}
    assert "pulumi-python:dynamic/datapacket:Server" in untranslated
    assert plan["dpaguard_source"]["stack"] == "dev"
    assert "ciphertext" not in done.stdout


def test_bad_input_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    done = _run("--state", str(tmp_path / "missing.json"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "state file not found" in done.stderr
    both = _run("--state", "x.json", "--stack", "prod")
    assert both.returncode == 2 and "not allowed with" in both.stderr
