"""A checkov that does not answer properly stops `dpaguard check` (exit 2, one line), through the command line.

A small script stands in for checkov (selected with DPAGUARD_CHECKOV): it prints what the case needs
and exits with the case's code. A well-behaved stand-in shows the run passes otherwise.
"""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from support import SOURCE_FIXTURES
from support.cli import assert_one_line_error, dpaguard

pytestmark = pytest.mark.e2e  # each case renders a program

SUMMARY = {"passed": 3, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 3, "checkov_version": "3.2.0"}
SECRET_REPORT = {
    "check_type": "secrets",
    "results": {"failed_checks": [{"check_id": "CKV_SECRET_2", "check_name": "AWS Access Key",
                                   "file_path": "/__main__.py", "file_line_range": [2, 2]}]},
    "summary": dict(SUMMARY, failed=1),
}


def fake_checkov(tmp_path: Path, stdout: bytes, code: int) -> Path:
    (tmp_path / "out.bin").write_bytes(stdout)
    script = tmp_path / "fake-checkov"
    script.write_text(f"#!/bin/sh\ncat '{tmp_path / 'out.bin'}'\nexit {code}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def check(tmp_path: Path, checkov: Path, **env: str) -> object:
    project = tmp_path / "project"
    if not project.exists():
        shutil.copytree(SOURCE_FIXTURES / "components", project)
    return dpaguard("check", "--project-dir", project, "--stack", "dev", "--require-checkov", "--format", "json",
                    env={"DPAGUARD_CHECKOV": str(checkov), **env})


CASES = {
    "no-report": (b"", 0, "checkov wrote no report"),
    "only-whitespace": (b"\n\n", 0, "checkov wrote no report"),
    "exit-1-without-failed-check": (json.dumps(SUMMARY).encode(), 1, "checkov exited 1 but reported no failed check"),
    "not-json": (b"Traceback (most recent call last): CANARY-CHECKOV", 0, "not JSON"),
    "not-utf8": (b'{"summary": "\xff\xfe CANARY-CHECKOV"}', 0, "not UTF-8 text"),
    "wrong-shape": (json.dumps({"check_type": "secrets", "results": {"failed_checks": [5]}}).encode(), 1,
                    "does not have the shape checkov writes"),
    "bad-line-range": (json.dumps({"check_type": "secrets", "results": {"failed_checks": [
        {"check_id": "CKV_SECRET_2", "file_path": "/a.py", "file_line_range": ["CANARY-CHECKOV"]}]}}).encode(), 1,
        "does not have the shape checkov writes"),
    "deep-nesting": (b"[" * 100_000 + b"]" * 100_000, 0, "not JSON"),
    # an empty report of a tool that is not checkov (checkov's summary always names its version)
    "no-version": (json.dumps({"passed": 0, "failed": 0, "parsing_errors": 0}).encode(), 0, "names no checkov version"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_checkov_without_a_proper_report_is_exit_2(tmp_path: Path, case: str) -> None:
    stdout, code, expected = CASES[case]
    run = check(tmp_path, fake_checkov(tmp_path, stdout, code))
    assert_one_line_error(run, expected)  # type: ignore[arg-type]
    assert "CANARY" not in run.stderr  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "never"])
def test_a_checkov_timeout_that_is_not_a_positive_finite_number_is_exit_2(tmp_path: Path, value: str) -> None:
    run = check(tmp_path, fake_checkov(tmp_path, json.dumps(SUMMARY).encode(), 0), DPAGUARD_CHECKOV_TIMEOUT=value)
    assert_one_line_error(run, f"DPAGUARD_CHECKOV_TIMEOUT='{value}' is not a positive, finite number of seconds")  # type: ignore[arg-type]


def test_a_proper_report_passes_and_a_failed_check_is_a_finding(tmp_path: Path) -> None:
    clean = check(tmp_path, fake_checkov(tmp_path, json.dumps(SUMMARY).encode(), 0))
    assert clean.returncode in (0, 1), clean.stderr  # type: ignore[attr-defined]
    assert not [f for f in json.loads(clean.stdout)["findings"] if f["control"] == "DPA-SEC-101"]  # type: ignore[attr-defined]
    failed = check(tmp_path, fake_checkov(tmp_path, json.dumps(SECRET_REPORT).encode(), 1))
    assert failed.returncode == 1, failed.stderr  # type: ignore[attr-defined]
    assert [f for f in json.loads(failed.stdout)["findings"] if f["control"] == "DPA-SEC-101"]  # type: ignore[attr-defined]


def test_a_checkov_that_does_not_finish_in_time_is_exit_2(tmp_path: Path) -> None:
    script = tmp_path / "slow-checkov"
    script.write_text("#!/bin/sh\nexec sleep 60\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    run = check(tmp_path, script, DPAGUARD_CHECKOV_TIMEOUT="1")
    assert_one_line_error(run, "checkov did not finish within 1 s")  # type: ignore[arg-type]
