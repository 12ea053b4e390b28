"""The example CI pipeline is valid YAML and runs the gate as documented."""

from __future__ import annotations

from typing import Any

import yaml

from support import REPO


def _workflow() -> dict[Any, Any]:
    data = yaml.safe_load((REPO / ".github" / "workflows" / "dpa.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_workflow_runs_check_uploads_sarif_and_summary() -> None:
    workflow = _workflow()
    triggers = workflow.get("on", workflow.get(True)) or {}  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers and "push" in triggers
    assert workflow["permissions"]["security-events"] == "write"
    job = workflow["jobs"]["dpaguard"]  # the gate (the `tests` job beside it runs the suite)
    steps = job["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/checkout@") for u in uses)
    python = [s for s in steps if s.get("uses", "").startswith("actions/setup-python@")]
    assert python and str(python[0]["with"]["python-version"]) == "3.11"
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "pip install" in runs and "checkov" in runs
    check = [s for s in steps if "dpaguard check" in s.get("run", "")]
    assert len(check) == 1
    command = " ".join(check[0]["run"].split())
    for part in ("--all-stacks", "--require-checkov", "--format text --format sarif --output - --output dpaguard.sarif",
                 "--format markdown --output \"$GITHUB_STEP_SUMMARY\""):
        assert part in command, part
    assert "continue-on-error" not in check[0]  # mandatory findings (exit 1) fail the job
    upload = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert upload and "always()" in upload[0]["if"] and upload[0]["with"]["sarif_file"] == "dpaguard.sarif"
    assert steps.index(upload[0]) > steps.index(check[0])
