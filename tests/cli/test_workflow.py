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


# Actions whose current major runs on node24 (node20 is deprecated on GitHub's runners).
NODE24_MAJORS = {
    "actions/checkout": 5, "actions/setup-python": 6, "actions/setup-go": 6,
    "actions/upload-artifact": 5, "github/codeql-action/upload-sarif": 4,
}


def test_every_action_is_on_a_node24_major() -> None:
    for job in _workflow()["jobs"].values():
        for step in job["steps"]:
            if "uses" not in step:
                continue
            action, _, version = step["uses"].partition("@")
            assert action in NODE24_MAJORS, f"{action}: not a known node24 action"
            assert int(version.lstrip("v").split(".")[0]) >= NODE24_MAJORS[action], step["uses"]


def test_fast_tier_runs_without_the_e2e_tests() -> None:
    steps = _workflow()["jobs"]["fast"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert '.venv/bin/python -m pytest -q -m "not e2e"' in runs and ".venv/bin/python -m mypy" in runs


def test_e2e_job_builds_the_real_tools_and_fails_without_them() -> None:
    steps = _workflow()["jobs"]["e2e"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert "bash .ci/real-tools" in runs
    tests = next(s for s in steps if "pytest" in s.get("run", ""))
    assert tests["env"]["CI"] == "true"
    assert runs.index("bash .ci/real-tools") < runs.index(tests["run"])


def test_preview_job_runs_the_pack_under_pulumi_or_says_why_not() -> None:
    job = _workflow()["jobs"]["preview"]
    steps = job["steps"]
    gate = steps[0]
    assert "PULUMI_ACCESS_TOKEN" in gate["run"] and "GITHUB_STEP_SUMMARY" in gate["run"]  # skipped visibly
    preview = next(s for s in steps if "pulumi preview" in s.get("run", ""))
    assert "--policy-pack policies" in preview["run"] and "${{ matrix.stack }}" in preview["run"]
    assert preview["if"] == "steps.backend.outputs.run == 'true'"
    assert "continue-on-error" not in preview
    assert set(job["strategy"]["matrix"]["stack"]) == {"dev", "staging", "prod"}


def test_nightly_audit_exports_each_stack_and_audits_it() -> None:
    workflow = _workflow()
    triggers = workflow.get("on", workflow.get(True)) or {}
    assert triggers["schedule"][0]["cron"]
    job = workflow["jobs"]["audit"]
    assert "schedule" in job["if"]
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "pulumi stack export" in runs and "dpaguard audit --state" in runs
    for stack in ("dev", "staging", "prod"):
        assert f"stacks/Pulumi.{stack}.yaml" in runs


def test_the_gate_runs_checkov_from_outside_the_pull_requests_tree() -> None:
    steps = _workflow()["jobs"]["dpaguard"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "-m venv .checkov-venv" not in runs and "DPAGUARD_CHECKOV=$RUNNER_TEMP" in runs
    assert "pip install --quiet -e" not in runs  # dpaguard's modules are not the pull request's to rewrite
