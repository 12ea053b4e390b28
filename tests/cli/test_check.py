"""`dpaguard check` end to end: the project's own estate (all stacks), option conflicts, unknown stacks."""

from __future__ import annotations

from typing import Any
import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

from support.cli import assert_one_line_error, dpaguard
from support.official_schemas import shared_schemas


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], Path]:
    """`dpaguard check --all-stacks` on the repository's own estate, JSON on stdout and SARIF to a file."""
    out = tmp_path_factory.mktemp("check") / "dpaguard.sarif"
    run = dpaguard("check", "--all-stacks", "--no-checkov", "--format", "json", "--format", "sarif",
                   "--output", "-", "--output", out)
    assert run.returncode in (0, 1), run.stderr
    return run, json.loads(run.stdout), out


@pytest.mark.slow
def test_the_estate_is_inside_the_dpa(estate: tuple[subprocess.CompletedProcess[str], dict[str, Any], Path]) -> None:
    run, doc, _ = estate
    unwaived = [(f["stack"], f["control"], f["name"], f["message"]) for f in doc["findings"]
                if not f["waived"] and f["enforcement"] == "mandatory"]
    assert run.returncode == 0 and not unwaived, unwaived
    assert [(s["name"], s["environment"], s["source"]) for s in doc["stacks"]] == [
        ("dev", "dev", "program"), ("prod", "prod", "program"), ("staging", "staging", "program")]
    assert all(s["resources"] > 10 and s["configFile"] == f"stacks/Pulumi.{s['name']}.yaml" for s in doc["stacks"])
    assert len(doc["policy"]["sha256"]) == 64


@pytest.mark.slow
def test_progress_is_a_plain_line_per_stack_off_a_terminal(
    estate: tuple[subprocess.CompletedProcess[str], dict[str, Any], Path],
) -> None:
    run, _, _ = estate
    rendered = [line for line in run.stderr.splitlines() if line.startswith("dpaguard: rendered stack ")]
    assert sorted(line.split()[3] for line in rendered) == ["dev", "prod", "staging"]
    assert "\r" not in run.stderr and "\x1b" not in run.stderr


@pytest.mark.slow
def test_sarif_of_the_estate_validates(estate: tuple[subprocess.CompletedProcess[str], dict[str, Any], Path]) -> None:
    _, doc, sarif_path = estate
    log = json.loads(sarif_path.read_text(encoding="utf-8"))
    jsonschema.validate(log, json.loads((shared_schemas() / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")))
    assert len(log["runs"][0]["results"]) == len(doc["findings"])
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) >= doc["summary"]["controls"]


@pytest.mark.slow
def test_one_stack_as_another_environment_is_checked_alone() -> None:
    run = dpaguard("check", "--stack", "dev", "--no-checkov", "--environment", "prod", "--format", "json",
                   "--fail-on", "never")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert [(s["name"], s["environment"]) for s in doc["stacks"]] == [("dev", "prod")]
    assert "rendered stack" not in run.stderr  # progress only while several stacks render


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--stack", "prod", "--all-stacks"], "--stack and --all-stacks exclude each other"),
        (["--stack", "production"], "unknown stack 'production' (stacks of dpa-estate: dev, prod, staging)"),
        ([], "name a stack with --stack or use --all-stacks"),
        (["--all-stacks", "--project-dir", "/nonexistent/estate"], "project folder not found"),
        (["--all-stacks", "--no-checkov", "--require-checkov"], "--no-checkov excludes"),
        (["--all-stacks", "--format", "text", "--format", "markdown"], "would both go to stdout"),
        (["--all-stacks", "--format", "junit", "--output", "/nonexistent/junit.xml"], "cannot write the report"),
    ],
)
def test_bad_check_options_are_one_line_and_exit_2(args: list[str], expected: str) -> None:
    assert_one_line_error(dpaguard("check", *args), expected)


def test_a_folder_without_pulumi_yaml(tmp_path: Path) -> None:
    run = dpaguard("check", "--all-stacks", "--project-dir", tmp_path)
    assert_one_line_error(run, str(tmp_path))


@pytest.mark.checkov
@pytest.mark.slow
def test_check_with_checkov_required() -> None:
    run = dpaguard("check", "--stack", "prod", "--require-checkov", "--format", "json")
    assert run.returncode in (0, 1), run.stderr
    doc = json.loads(run.stdout)
    assert not [n for n in doc["notices"] if "checkov" in n.lower() and "not" in n.lower()], doc["notices"]


def test_help_of_every_subcommand() -> None:
    for command in ("check", "audit", "controls"):
        run = dpaguard(command, "--help")
        assert run.returncode == 0 and run.stdout.startswith(f"usage: dpaguard {command}"), run.stderr
    assert "the n-th --output goes with the n-th --format" in dpaguard("check", "--help").stdout
