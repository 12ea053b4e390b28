"""`dpaguard check` with its checkov stage, end to end: findings at file:line, no secret in any output."""

from __future__ import annotations

import datetime as dt

from typing import Any
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dpaguard.policy import SHIPPED_POLICIES
from support.checkov_project import SECRETS, write_project
from support.cli import dpaguard_command

pytestmark = pytest.mark.checkov
DPAGUARD = Path(dpaguard_command()[0])


def test_check_reports_checkov_findings_without_secret_values(tmp_path: Path, checkov_bin: Path) -> None:
    project = write_project(tmp_path / "project")
    json_report, sarif_report = tmp_path / "report.json", tmp_path / "report.sarif"
    done = subprocess.run(
        [str(DPAGUARD), "check", "--stack", "dev", "--require-checkov",
         "--format", "json", "--output", str(json_report), "--format", "sarif", "--output", str(sarif_report),
         "--format", "text", "--output", "-"],
        cwd=project, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 1, done.stderr
    findings = json.loads(json_report.read_text())["findings"]
    located = {(f["control"], f["location"]["path"], f["location"]["line"]) for f in findings if f["location"]}
    assert {("DPA-SEC-101", "infra/__main__.py", 2), ("DPA-SEC-102", "infra/__main__.py", 6),
            ("DPA-SEC-103", "stacks/Pulumi.dev.yaml", 4)} <= located
    everything = done.stdout + done.stderr + json_report.read_text() + sarif_report.read_text()
    for secret in SECRETS:
        assert secret[:8] not in everything


def test_skip_check_option_reaches_checkov(tmp_path: Path, checkov_bin: Path) -> None:
    project = write_project(tmp_path / "project")
    done = subprocess.run(
        [str(DPAGUARD), "check", "--stack", "dev", "--checkov-skip-check", "CKV_SECRET_13", "--format", "json"],
        cwd=project, capture_output=True, text=True, timeout=180,
    )
    controls = {f["control"] for f in json.loads(done.stdout)["findings"]}
    assert "DPA-SEC-101" in controls and "DPA-SEC-102" not in controls


def test_waivers_cover_checkov_findings_as_they_cover_the_engines(tmp_path: Path, checkov_bin: Path) -> None:
    project = write_project(tmp_path / "project")
    shutil.copytree(SHIPPED_POLICIES, project / "policies")
    # a repository file's finding belongs to no stack (stack `*`), so its waiver counts as a prod one: governed
    waiver = {"reason": "test credential, rotated", "approver": "dpo@example.com", "reference": "SEC-9",
              "approved": dt.date.today().isoformat()}
    (project / "policies" / "waivers.yaml").write_text(yaml.safe_dump({"waivers": [
        {"control": "DPA-SEC-101", "urn": "urn:dpaguard:file:infra/__main__.py", "stack": "*", **waiver,
         "expires": (dt.date.today() + dt.timedelta(days=300)).isoformat()},
        {"control": "DPA-SEC-103", "urn": "urn:pulumi:dev::*", "stack": "dev", **waiver, "expires": "2099-12-31"},
        {"control": "DPA-SEC-102", "urn": "urn:dpaguard:file:infra/*", "stack": "*", **waiver, "expires": "2020-01-01"},
    ]}))
    done = subprocess.run(
        [str(DPAGUARD), "check", "--stack", "dev", "--require-checkov", "--format", "json"],
        cwd=project, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 1, done.stderr
    findings = json.loads(done.stdout)["findings"]
    by_control: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        by_control.setdefault(finding["control"], []).append(finding)
    assert by_control["DPA-SEC-101"] and all(f["waived"] for f in by_control["DPA-SEC-101"])
    assert all(f["waiver"]["approver"] == "dpo@example.com" for f in by_control["DPA-SEC-101"])
    waived_103 = {(f["stack"], f["waived"]) for f in by_control["DPA-SEC-103"]}
    assert waived_103 == {("dev", True), ("*", False)}  # the stack config's, not the program's (stack "*")
    assert by_control["DPA-SEC-102"] and not any(f["waived"] for f in by_control["DPA-SEC-102"])  # its waiver expired
    assert any("expired on 2020-01-01" in f["message"] for f in by_control["DPA-WAI-001"])
