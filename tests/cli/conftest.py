"""One shared audit run in every format (running dpaguard: support/cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support import CLI_FIXTURES
from support.cli import AuditRun, dpaguard


@pytest.fixture(scope="session")
def audit_run(tmp_path_factory: pytest.TempPathFactory) -> AuditRun:
    """One audit run shared by the format tests (each format parsed by its own test)."""
    out = tmp_path_factory.mktemp("audit")
    files = {"text": out / "report.txt", "sarif": out / "report.sarif", "junit": out / "junit.xml",
             "markdown": out / "summary.md", "html": out / "report.html"}
    args: list[str | Path] = [
        "audit", "--state", CLI_FIXTURES / "prod-drifted.json", CLI_FIXTURES / "dev.json",
        "--stack-config", CLI_FIXTURES / "Pulumi.dev.yaml", "--today", "2026-11-27", "--format", "json", "--output", "-",
    ]
    for fmt, path in files.items():
        args += ["--format", fmt, "--output", path]
    process = dpaguard(*args)
    assert process.returncode in (0, 1), process.stderr
    return AuditRun(process, json.loads(process.stdout), files)
