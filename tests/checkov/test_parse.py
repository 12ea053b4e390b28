"""Parsing checkov's JSON: every output shape it prints, code blocks dropped."""

from __future__ import annotations

import json
from pathlib import Path

from support import POLICIES
from dpaguard.checkov import load_mapping, to_decisions
from dpaguard.policy import load_policy
from dpaguard.checkov.runner import CheckovResult, CheckovRun, frameworks_for, parse_output, scan_targets
from support.silent_engine import SilentEngine


def _report(check_type: str, failed: list[dict[str, object]]) -> dict[str, object]:
    return {
        "check_type": check_type,
        "results": {"failed_checks": failed, "skipped_checks": []},
        "summary": {"passed": 0, "failed": len(failed), "parsing_errors": 0, "checkov_version": "3.3.30"},
    }


def _secret(path: str, line: int) -> dict[str, object]:
    return {
        "check_id": "CKV_SECRET_2", "check_name": "AWS Access Key", "file_path": "/" + path,
        "file_abs_path": f"/proj/{path}", "file_line_range": [line, line + 1],
        "code_block": [[line, 'KEY = "AKIAZ**********"\n']], "resource": "81764d18957a",
    }


def test_single_report_list_and_concatenated_documents_parse_alike() -> None:
    one = _report("secrets", [_secret("infra/a.py", 3)])
    texts = [json.dumps(one), json.dumps([one]), json.dumps(one) + "\n" + json.dumps([one, _report("dockerfile", [])])]
    for text in texts:
        run = parse_output(text, Path("/proj"))
        assert run.results == (CheckovResult("CKV_SECRET_2", "AWS Access Key", "secrets", "infra/a.py", 3, ""),)
        assert run.version == "3.3.30"
        assert "AKIAZ" not in repr(run)


def test_summary_only_output_means_nothing_failed() -> None:
    run = parse_output(json.dumps({"passed": 0, "failed": 0, "parsing_errors": 0, "checkov_version": "3.3.30"}), Path("/p"))
    assert run.results == ()


def test_mapping_sends_each_family_to_its_control() -> None:
    mapping = load_mapping(None)
    assert mapping.rule_for("CKV_SECRET_2").control == "DPA-SEC-101"  # type: ignore[union-attr]
    assert mapping.rule_for("CKV_SECRET_13").control == "DPA-SEC-102"  # type: ignore[union-attr]
    assert mapping.rule_for("CKV2_GHA_1").control == "DPA-HYG-001"  # type: ignore[union-attr]
    assert mapping.rule_for("CKV_DOCKER_3").control == "DPA-HYG-002"  # type: ignore[union-attr]
    assert mapping.rule_for("CKV_K8S_1").control == "DPA-HYG-099"  # type: ignore[union-attr]
    catalogue = load_policy(POLICIES)
    for rule in mapping.rules:
        control = catalogue.control(rule.control)
        assert control.category in ("secrets", "hygiene")


def test_decisions_carry_the_check_id_and_the_file_at_its_line_and_no_code() -> None:
    run = CheckovRun(results=(CheckovResult("CKV_SECRET_13", "Private Key", "secrets", "infra/k.py", 7),),
                     version="3", suppressed=0, parsing_errors=0)
    (decision,) = to_decisions(run, load_mapping(None), None)
    assert decision.control == "DPA-SEC-102" and "CKV_SECRET_13" in decision.message
    assert (decision.urn, decision.type, decision.name) == ("urn:dpaguard:file:infra/k.py", "checkov:secrets", "infra/k.py")
    assert decision.location is not None and (decision.location.path, decision.location.line) == ("infra/k.py", 7)


def test_targets_are_the_projects_configuration_not_its_tests_or_environments(tmp_path: Path) -> None:
    for rel in ("Pulumi.yaml", "infra/__main__.py", "infra/estate/db.py", "stacks/Pulumi.dev.yaml",
                "policies/dpa/controls.yaml", ".github/workflows/ci.yml", "docker/Dockerfile",
                "tests/test_x.py", ".venv/lib/x.py", "infra/__pycache__/x.pyc", "README.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x\n")
    files = scan_targets(tmp_path, tmp_path / "infra", tmp_path / "stacks", tmp_path / "policies")
    relative = {p.relative_to(tmp_path.resolve()).as_posix() for p in files}
    assert relative == {"Pulumi.yaml", "infra/__main__.py", "infra/estate/db.py", "stacks/Pulumi.dev.yaml",
                        "policies/dpa/controls.yaml", ".github/workflows/ci.yml", "docker/Dockerfile"}
    assert frameworks_for(files) == ["secrets", "github_actions", "dockerfile"]


def test_program_at_the_project_root_brings_its_packages_not_other_folders(tmp_path: Path) -> None:
    for rel in ("Pulumi.yaml", "__main__.py", "estate/__init__.py", "estate/db.py", "docs/notes.md",
                "tests/test_x.py", "Pulumi.dev.yaml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x\n")
    files = scan_targets(tmp_path, tmp_path, tmp_path, None)
    relative = {p.relative_to(tmp_path.resolve()).as_posix() for p in files}
    assert relative == {"Pulumi.yaml", "__main__.py", "estate/__init__.py", "estate/db.py", "Pulumi.dev.yaml"}


def test_namespace_packages_of_a_root_program_are_scanned(tmp_path: Path) -> None:
    # Public programs often import folders without __init__.py (namespace packages): their files hold secrets too.
    for rel in ("Pulumi.yaml", "__main__.py", "components/network.py", "components/sub/db.py", "docs/notes.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x\n")
    relative = {p.relative_to(tmp_path.resolve()).as_posix() for p in scan_targets(tmp_path, tmp_path, tmp_path, None)}
    assert relative == {"Pulumi.yaml", "__main__.py", "components/network.py", "components/sub/db.py"}


def test_dpaguards_own_policies_are_not_the_projects_to_scan(tmp_path: Path) -> None:
    project, shipped = tmp_path / "project", tmp_path / "site-packages" / "policies"
    for path in (project / "Pulumi.yaml", project / "__main__.py", shipped / "dpa" / "controls.yaml"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")
    relative = {p.name for p in scan_targets(project, project, project, shipped)}
    assert relative == {"Pulumi.yaml", "__main__.py"}


def test_a_control_missing_from_the_catalogue_is_an_error_or_collected() -> None:
    import pytest

    from dpaguard.errors import PolicyError
    from dpaguard.model import Control

    class Catalogue:
        controls: tuple[Control, ...] = ()

        def control(self, control_id: str) -> Control:
            raise PolicyError(f"control {control_id} is not in the catalogue")

    run = CheckovRun(results=(CheckovResult("CKV_SECRET_2", "AWS Access Key", "secrets", "a.py", 1),),
                     version="3", suppressed=0, parsing_errors=0)
    with pytest.raises(PolicyError, match="DPA-SEC-101"):
        to_decisions(run, load_mapping(None), Catalogue())  # type: ignore[arg-type]  # a catalogue without the control
    missing: set[str] = set()
    assert to_decisions(run, load_mapping(None), Catalogue(), missing=missing) == ()  # type: ignore[arg-type]
    assert missing == {"DPA-SEC-101"}


def test_a_stack_config_finding_takes_the_environment_its_deployment_is_evaluated_as() -> None:
    """`test` is a dev stack by its name (settings.yaml environment_names), for checkov as for the Rego."""
    import datetime as dt

    from dpaguard.model import Deployment
    from dpaguard.pipeline import run_stages

    policy = load_policy(POLICIES)
    control = policy.control("DPA-SEC-103")
    assert control.enforcement_for("dev") == "advisory" != control.enforcement_for("prod")
    run = CheckovRun(results=(CheckovResult("CKV_SECRET_6", "High entropy", "secrets", "stacks/Pulumi.test.yaml", 3),),
                     version="3", suppressed=0, parsing_errors=0)
    decisions = to_decisions(run, load_mapping(None), policy)

    def judged(config: dict[str, str], override: str | None = None) -> tuple[str, str]:
        stack = Deployment(stack="test", project="estate", source="state", resources=(), config=config,
                           config_file="stacks/Pulumi.test.yaml")
        evaluation = run_stages([stack], policy, SilentEngine(), today=dt.date(2026, 1, 1), environment_override=override)  # type: ignore[arg-type]
        (finding,) = evaluation.judge.findings(decisions)
        return finding.stack, finding.enforcement

    assert judged({}) == ("test", "advisory")
    # Its config's dpaguard:environment, and then an override, decide before the name does.
    assert judged({"dpaguard:environment": "prod"}) == ("test", "mandatory")
    assert judged({"dpaguard:environment": "prod"}, override="dev") == ("test", "advisory")
