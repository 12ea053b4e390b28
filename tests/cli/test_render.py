"""`dpaguard render` end to end, through the command line, on the fixture programs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support import REPO, SOURCE_FIXTURES
from support.cli import assert_one_line_error, dpaguard

pytestmark = pytest.mark.e2e  # renders programs


def test_render_writes_the_deployment_to_stdout() -> None:
    run = dpaguard("render", "--stack", "dev", "--project-dir", str(SOURCE_FIXTURES / "providers"))
    assert run.returncode == 0, run.stderr
    export = json.loads(run.stdout)
    assert export["version"] == 3 and export["dpaguard"]["stack"] == "dev"
    types = [r["type"] for r in export["deployment"]["resources"]]
    assert types.count("pulumi:providers:scaleway") == 2 and types.count("scaleway:network/vpc:Vpc") == 2


def test_render_to_a_file_from_the_project_directory(tmp_path: Path) -> None:
    output = tmp_path / "out.json"
    run = dpaguard("render", "--stack", "dev", "--output", str(output), cwd=SOURCE_FIXTURES / "components")
    assert run.returncode == 0 and run.stdout == ""
    # the one thing said: the fixture's Pulumi.yaml names no virtualenv, so it ran under dpaguard's Python
    (note,) = run.stderr.splitlines()
    assert note.startswith("dpaguard: note: components: Pulumi.yaml names no virtualenv"), note
    export = json.loads(output.read_text())
    assert {r["type"] for r in export["deployment"]["resources"]} >= {"acme:net:Network", "acme:net:Subnet"}


def test_a_chatty_program_cannot_corrupt_stdout() -> None:
    run = dpaguard("render", "--stack", "dev", "--project-dir", str(SOURCE_FIXTURES / "prints"))
    assert run.returncode == 0, run.stderr
    export = json.loads(run.stdout)  # the whole of stdout is the deployment
    assert len(export["deployment"]["resources"]) == 3
    assert "chatty" not in run.stderr


def test_secrets_never_reach_the_output(tmp_path: Path) -> None:
    run = dpaguard("render", "--stack", "dev", "--project-dir", str(SOURCE_FIXTURES / "secrets"))
    assert run.returncode == 0, run.stderr
    for canary in ("CANARYSECURE", "CANARYPLAIN", "CANARYLITERAL", "canary-secret-bucket", "v1:"):
        assert canary not in run.stdout and canary not in run.stderr


def test_crashing_program_is_one_line_with_the_users_frame() -> None:
    run = dpaguard("render", "--stack", "dev", "--project-dir", str(SOURCE_FIXTURES / "crash"))
    assert_one_line_error(run, "render stack dev: helpers.py:7: ValueError: unknown size 'tiny'")


def test_hanging_program_hits_the_time_limit() -> None:
    run = dpaguard("render", "--stack", "dev", "--project-dir", str(SOURCE_FIXTURES / "hang"), "--timeout", "2", timeout=30)
    assert_one_line_error(run, "program did not finish within 2 s")


@pytest.mark.parametrize(
    ("fixture", "stack", "expected"),
    [
        ("providers", "qa", "Pulumi.qa.yaml: stack 'qa' has no config file (stacks found: dev, prod)"),
        ("malformed_project", "dev", "Pulumi.yaml:5: malformed YAML in project file"),
        ("wrong_runtime", "dev", "runtime 'nodejs' is not supported"),
        ("syntax_error", "dev", "__main__.py:4: SyntaxError"),
    ],
)
def test_user_errors_exit_2_in_one_line(fixture: str, stack: str, expected: str) -> None:
    run = dpaguard("render", "--stack", stack, "--project-dir", str(SOURCE_FIXTURES / fixture))
    assert_one_line_error(run, expected)


def test_unwritable_output_is_an_error(tmp_path: Path) -> None:
    run = dpaguard(
        "render", "--stack", "dev", "--project-dir", str(SOURCE_FIXTURES / "providers"), "--output", str(tmp_path / "no" / "x.json")
    )
    assert_one_line_error(run, "cannot write the deployment")


def test_the_estate_renders_for_every_stack(tmp_path: Path) -> None:
    for stack in ("prod", "staging", "dev"):
        output = tmp_path / f"{stack}.json"
        run = dpaguard("render", "--stack", stack, "--output", str(output), cwd=REPO)
        assert run.returncode == 0, run.stderr
        resources = json.loads(output.read_text())["deployment"]["resources"]
        (provider,) = [r for r in resources if r["type"] == "pulumi:providers:scaleway"]
        assert provider["inputs"]["region"] == "fr-par" and provider["inputs"]["zone"] == "fr-par-1"
        types = {r["type"] for r in resources}
        assert {"scaleway:databases/instance:Instance", "scaleway:object/bucket:Bucket",
                "pulumi-python:dynamic/datapacket:Server"} <= types
