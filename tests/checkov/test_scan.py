"""The checkov stage end to end: a real checkov over a fixture project, findings without secret values."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest

from dpaguard.checkov import NOT_FOUND_NOTICE, PROJECT_STACK, CheckovScan, scan
from dpaguard.checkov import runner
from dpaguard.errors import DpaguardError
from dpaguard.model import Deployment, Finding
from dpaguard.pipeline import run_stages
from dpaguard.policy import SHIPPED_POLICIES, load_policy

from support.checkov_project import SECRETS, write_project
from support.silent_engine import SilentEngine

pytestmark = pytest.mark.checkov


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="module")
def result(project: Path, checkov_bin: Path) -> CheckovScan:
    return scan(project, None)


def judged(scanned: CheckovScan) -> list[Finding]:
    """The scan's findings, made as `check` makes them: for a run of the fixture's dev and prod stacks."""
    stacks = [Deployment(stack=name, project="fixture", source="program", resources=(), config_file=f"stacks/Pulumi.{name}.yaml")
              for name in ("dev", "prod")]
    policy = load_policy(SHIPPED_POLICIES)
    return run_stages(stacks, policy, SilentEngine(), today=dt.date(2026, 1, 1)).judge.findings(scanned.decisions)  # type: ignore[arg-type]




def _where(result: CheckovScan) -> set[tuple[str, str, int]]:
    return {(f.control, f.location.path, f.location.line) for f in judged(result) if f.location}


def _dump(result: CheckovScan) -> str:
    return json.dumps(dataclasses.asdict(result), default=str) + repr(result)


def test_credentials_in_program_and_stack_config_are_found_at_file_and_line(result: CheckovScan) -> None:
    assert result.ran
    assert {
        ("DPA-SEC-101", "infra/__main__.py", 2),  # AWS access key id
        ("DPA-SEC-103", "infra/__main__.py", 3),  # high-entropy secret key
        ("DPA-SEC-102", "infra/__main__.py", 6),  # private key
        ("DPA-SEC-103", "stacks/Pulumi.dev.yaml", 4),  # plaintext password in the stack config
    } <= _where(result)
    assert all(f.category == "secrets" for f in judged(result))
    assert all(f.message.startswith("CKV_SECRET_") for f in judged(result))


def test_no_secret_value_anywhere_in_the_result(result: CheckovScan) -> None:
    text = _dump(result)
    for secret in SECRETS:
        assert secret not in text
        assert secret[:6] not in text  # checkov's own masking keeps a prefix; we keep nothing


def test_stack_config_finding_belongs_to_its_stack_and_others_to_the_project(result: CheckovScan) -> None:
    by_path = {f.location.path: f for f in judged(result) if f.location}
    stack_finding = by_path["stacks/Pulumi.dev.yaml"]
    assert stack_finding.stack == "dev"
    assert stack_finding.urn == "urn:pulumi:dev::fixture::pulumi:pulumi:Stack::fixture-dev"
    assert stack_finding.enforcement == "advisory"  # DPA-SEC-103 is advisory in dev
    program_finding = by_path["infra/__main__.py"]
    assert program_finding.stack == PROJECT_STACK
    assert program_finding.urn == "urn:dpaguard:file:infra/__main__.py"
    assert program_finding.enforcement == "mandatory"


def test_encrypted_config_tests_and_suppressed_lines_give_no_finding(result: CheckovScan) -> None:
    paths = {f.location.path for f in judged(result) if f.location}
    assert "stacks/Pulumi.prod.yaml" not in paths  # `secure:` ciphertext is not a plaintext secret
    assert not any(p.startswith("tests/") for p in paths)
    assert ("DPA-SEC-101", "infra/__main__.py", 4) not in _where(result)  # checkov:skip=CKV_SECRET_2


def test_skip_check_is_passed_through(project: Path, checkov_bin: Path) -> None:
    skipped = scan(project, None, skip_checks=["CKV_SECRET_13", "CKV_SECRET_6"])
    controls = {f.control for f in judged(skipped)}
    assert controls == {"DPA-SEC-101"}


def test_ci_workflow_and_dockerfile_give_hygiene_findings(tmp_path: Path, checkov_bin: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        '      - run: echo "${{ github.event.issue.title }}"\n'
    )
    (tmp_path / "Dockerfile").write_text("FROM python:3.11\nRUN pip install requests\n")
    (tmp_path / "Pulumi.yaml").write_text("name: hygiene\nruntime: python\n")
    found = scan(tmp_path, None)
    by_check = {f.message.split()[0]: f for f in judged(found)}
    assert by_check["CKV_GHA_2"].control == "DPA-HYG-001"
    assert by_check["CKV_GHA_2"].location is not None and by_check["CKV_GHA_2"].location.line == 8
    assert by_check["CKV_DOCKER_3"].control == "DPA-HYG-002"
    assert {f.category for f in judged(found)} == {"hygiene"}
    assert all(f.enforcement == "advisory" for f in judged(found))


def _hide_checkov(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(runner.CHECKOV_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setattr(runner, "_REPO_ROOT", tmp_path)


def test_missing_checkov_is_a_notice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_checkov(monkeypatch, tmp_path)
    outcome = scan(write_project(tmp_path / "p"), None)
    assert outcome == CheckovScan(decisions=(), notices=(NOT_FOUND_NOTICE,), ran=False)


def test_missing_checkov_when_required_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_checkov(monkeypatch, tmp_path)
    with pytest.raises(DpaguardError, match="checkov not found"):
        scan(write_project(tmp_path / "p"), None, required=True)


def test_configured_path_that_is_not_executable_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(runner.CHECKOV_ENV, str(tmp_path / "nope"))
    with pytest.raises(DpaguardError, match="DPAGUARD_CHECKOV"):
        scan(write_project(tmp_path / "p"), None)


def test_a_crashing_checkov_is_one_line_without_its_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stands in for checkov only to crash it: the error must not echo what checkov printed.
    script = tmp_path / "checkov"
    script.write_text(f"#!/bin/sh\necho 'ValueError: bad line {SECRETS[0]}' >&2\nexit 2\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(runner.CHECKOV_ENV, str(script))
    with pytest.raises(DpaguardError) as caught:
        scan(write_project(tmp_path / "p"), None)
    line = caught.value.one_line()
    assert "exit code 2" in line and "ValueError" in line
    assert SECRETS[0] not in line and "\n" not in line


@pytest.mark.parametrize("name", [".checkov.yaml", ".checkov.yml"])
def test_a_checkov_config_file_of_the_project_is_not_read(tmp_path: Path, checkov_bin: Path, name: str) -> None:
    project = write_project(tmp_path / "p")
    # The project's tree is a pull request's: its config could skip checks or load external ones (SECURITY.md).
    (project / name).write_text("output: cli\nskip-check:\n  - CKV_SECRET_13\n  - CKV_SECRET_2\n")
    controls = {f.control for f in judged(scan(project, None))}
    assert {"DPA-SEC-101", "DPA-SEC-102"} <= controls
