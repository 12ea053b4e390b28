"""Every catalogue control is evaluated by something (issue 15, item 6): a Rego control no rule reachable
from main.rego's decisions emits stops the policy load (exit 2), and coverage counts only what was evaluated."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from support import POLICIES, SOURCE_FIXTURES
from support.control_estate import TODAY, compliant_estate
from support.cli import dpaguard

from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.errors import PolicyError
from dpaguard.pipeline import run_stages
from dpaguard.policy import load_policy, rego_evaluated_controls

STATE = SOURCE_FIXTURES / "states" / "real-export.json"


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    return root


def _drop_rule(root: Path, file: str, control: str) -> None:
    """Remove every rule deciding on `control`, leaving its METADATA comment (comments never count)."""
    path = root / "rego" / file
    text = path.read_text()
    pattern = re.compile(r'^decisions contains result\.\w+\("' + control + r'".*?^}\n', re.M | re.S)
    assert pattern.search(text), f"no rule of {control} in {file}"
    path.write_text(pattern.sub("", text))


def _drop_package(root: Path, package: str) -> None:
    """Leave a category out of main.rego's union of decisions (its import stays)."""
    path = root / "rego" / "main.rego"
    text = path.read_text()
    changed = re.sub(r"\s*\|\s*" + package + r"\.decisions|" + package + r"\.decisions\s*\|\s*", "", text)
    assert changed != text
    path.write_text(changed)


def _audit(root: Path) -> subprocess.CompletedProcess[str]:
    return dpaguard("audit", "--state", STATE, "--policies", root, timeout=120)


def test_the_shipped_policies_evaluate_every_control() -> None:
    policy = load_policy(POLICIES)
    assert policy.evaluated_controls is not None
    assert set(policy.evaluated_controls) == {c.id for c in policy.controls}


def test_a_control_whose_rule_was_removed_stops_the_load(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _drop_rule(root, "access.rego", "DPA-ACC-001")
    with pytest.raises(PolicyError, match=r"controls\.yaml: DPA-ACC-001 is evaluated by no Rego rule"):
        load_policy(root)
    run = _audit(root)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "DPA-ACC-001" in run.stderr and "Traceback" not in run.stderr


def test_a_category_left_out_of_main_stops_the_load(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _drop_package(root, "secrets")
    with pytest.raises(PolicyError, match=r"DPA-SEC-001, DPA-SEC-002, DPA-SEC-003, DPA-SEC-004 are evaluated by no Rego rule"):
        load_policy(root)
    run = _audit(root)
    assert run.returncode == 2 and "DPA-SEC-001" in run.stderr and run.stderr.count("\n") == 1


def test_a_catalogue_control_with_no_rule_at_all_stops_the_load(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    catalogue = root / "dpa" / "controls.yaml"
    text = catalogue.read_text()
    entry = text[text.index("  - id: DPA-ACC-001\n"):text.index("  - id: DPA-ACC-002\n")]
    catalogue.write_text(text.replace(entry, entry + entry.replace("DPA-ACC-001", "DPA-ACC-099")))
    with pytest.raises(PolicyError, match="DPA-ACC-099"):
        load_policy(root)
    catalogue.write_text(text.replace(entry, entry + entry.replace("DPA-ACC-001", "DPA-ACC-099") + "    evaluated_by: checkov\n"))
    assert "DPA-ACC-099" in (load_policy(root).evaluated_controls or ())


def test_reachability_follows_aliases_data_references_and_nested_unions() -> None:
    modules = {
        "main.rego": "package dpaguard.main\nimport data.dpaguard.a as x\n# b.decisions in a comment\n"
                     "decisions := x.decisions | data.dpaguard.c.decisions\n",
        "a.rego": 'package dpaguard.a\ndecisions contains d if {\n\tsome d in sub.decisions\n}\nimport data.dpaguard.a.sub\n',
        "sub.rego": 'package dpaguard.a.sub\ndecisions contains "DPA-SUB-001" if true\n',
        "b.rego": 'package dpaguard.b\ndecisions contains "DPA-BBB-001" if true\n',
        "c.rego": 'package dpaguard.c\n# "DPA-CCC-002" in a comment\ndecisions contains "DPA-CCC-001" if true\n',
    }
    packages, named = rego_evaluated_controls(modules)
    assert packages == {"dpaguard.main", "dpaguard.a", "dpaguard.a.sub", "dpaguard.c"}
    assert named == {"DPA-SUB-001", "DPA-CCC-001"}


def test_coverage_counts_only_evaluated_controls() -> None:
    policy = load_policy(POLICIES)
    assert policy.evaluated_controls is not None
    narrowed = dataclasses.replace(policy, evaluated_controls=policy.evaluated_controls - {"DPA-RES-001"})
    engine = EmbeddedEngine(policy)
    try:
        full = run_stages([compliant_estate()], policy, engine, today=TODAY).coverage
        part = run_stages([compliant_estate()], narrowed, engine, today=TODAY).coverage
    finally:
        engine.close()
    assert full[("DPA-RES-001", "prod")] > 0 and part[("DPA-RES-001", "prod")] == 0
    assert {k: v for k, v in full.items() if k[0] != "DPA-RES-001"} == {k: v for k, v in part.items() if k[0] != "DPA-RES-001"}


def test_reachability_follows_helper_rules_of_the_entry_package() -> None:
    modules = {
        "main.rego": "package dpaguard.main\nimport data.dpaguard.a\nimport data.dpaguard.b\nimport data.dpaguard.c\n"
                     "decisions := _all\n\n_all := a.decisions | _more\n_more := b.decisions\n_unused := c.decisions\n",
        "a.rego": 'package dpaguard.a\ndecisions contains "DPA-AAA-001" if true\n',
        "b.rego": 'package dpaguard.b\ndecisions contains "DPA-BBB-001" if true\n',
        "c.rego": 'package dpaguard.c\ndecisions contains "DPA-CCC-001" if true\n',
    }
    packages, named = rego_evaluated_controls(modules)
    assert named == {"DPA-AAA-001", "DPA-BBB-001"}
