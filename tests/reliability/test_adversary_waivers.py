"""A pull request writes the waivers: what it can hide in `policies/waivers.yaml` is reported, never trusted (issue 24).

Blanket waivers scoped to one stack (M2), approvers a reviewer cannot see (M3), and a key written twice
so that the line a reviewer reads is not the one that counts (L10, also in every other YAML dpaguard reads).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support import CLI_FIXTURES, POLICIES, SOURCE_FIXTURES
from support.cli import assert_one_line_error, dpaguard
from support.control_estate import TODAY, changed

from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.errors import PolicyError
from dpaguard.model import Finding
from dpaguard.pipeline import run_stages
from dpaguard.policy import Policy, load_policy

STATE = CLI_FIXTURES / "prod-drifted.json"


def _policies(tmp_path: Path, waivers: str) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    (root / "waivers.yaml").write_text(waivers, encoding="utf-8")
    return root


def _waiver(urn: str, stack: str = "prod", approver: str = "dpo@example.org") -> str:
    return (f"waivers:\n  - control: DPA-RES-003\n    urn: '{urn}'\n    stack: '{stack}'\n    reason: migration\n"
            f"    approver: \"{approver}\"\n    expires: 2027-01-31\n")


def _findings(policy: Policy, stack: str = "staging") -> tuple[Finding, ...]:
    # staging: in prod a waiver of a mandatory control that is a pattern or lacks an approver is refused
    # outright (exit 2, tests/test_waiver_governance.py); elsewhere it is reported as here.
    engine = EmbeddedEngine(policy)
    try:
        return run_stages([changed(stack, "db", backupSameRegion=False)], policy, engine, today=TODAY).findings
    finally:
        engine.close()


@pytest.mark.parametrize("urn, stack", [
    ("urn:pulumi:staging::dpa-test::*", "staging"),
    ("urn:pulumi:staging::*", "staging"),
    ("urn:pulumi:staging::dpa-test::*::*", "staging"),
    ("urn:pulumi:staging*", "staging"),
])
def test_a_waiver_of_a_whole_stack_is_blanket(tmp_path: Path, urn: str, stack: str) -> None:
    findings = _findings(load_policy(_policies(tmp_path, _waiver(urn, stack))))
    (blanket,) = [f for f in findings if f.control == "DPA-WAI-003"]
    assert "covers every resource of stack staging" in blanket.message
    assert [f.waived for f in findings if f.control == "DPA-RES-003"] == [True]
    # The same waiver of the prod stack waives nothing: it is refused.
    prod = load_policy(_policies(tmp_path / "prod", _waiver(urn.replace("staging", "prod"), "prod")))
    with pytest.raises(PolicyError, match="one resource"):
        _findings(prod, "prod")


@pytest.mark.parametrize("urn", ["urn:pulumi:staging::*::db", "urn:pulumi:staging::dpa-test::scaleway:databases/*",
                                 "urn:pulumi:staging::dpa-test::*::db"])
def test_a_waiver_of_some_resources_of_a_stack_is_not_blanket(tmp_path: Path, urn: str) -> None:
    assert not [f for f in _findings(load_policy(_policies(tmp_path, _waiver(urn, "staging")))) if f.control == "DPA-WAI-003"]


@pytest.mark.parametrize("approver", ["\\u200b", "\\u3164", "\\u2800", "\\u200b\\u2060\\ufeff", "\\u00a0\\u3000",
                                      "\\u115f\\u1160", "\\uffa0", "\\u200e\\u200f", "\\u0301"],
                         ids=["zwsp", "hangul-filler", "braille-blank", "format-chars", "spaces", "hangul-jamo-fillers",
                              "halfwidth-filler", "direction-marks", "lone-mark"])
def test_an_invisible_approver_is_no_approver(tmp_path: Path, approver: str) -> None:
    policy = load_policy(_policies(tmp_path, _waiver("urn:pulumi:staging::*::db", "staging", approver=approver)))
    assert not policy.waivers
    findings = _findings(policy)
    (malformed,) = [f for f in findings if f.control == "DPA-WAI-002"]
    assert "approver" in malformed.message
    assert [f.waived for f in findings if f.control == "DPA-RES-003"] == [False]


def test_a_visible_approver_with_odd_characters_still_approves(tmp_path: Path) -> None:
    policy = load_policy(_policies(tmp_path, _waiver("urn:pulumi:prod::*::db", approver="Zoë Ł.\\u200b")))
    assert [w.approver for w in policy.waivers] == ["Zoë Ł.\u200b"]


def test_a_waiver_key_written_twice_is_refused(tmp_path: Path) -> None:
    """The reviewer sees the lapsed date; YAML would keep the later one."""
    waivers = _waiver("urn:pulumi:prod::*::db").replace("    expires: 2027-01-31\n",
                                                       "    expires: 2020-01-01\n    expires: 2999-12-31\n")
    run = dpaguard("audit", "--state", STATE, "--policies", _policies(tmp_path, waivers))
    assert_one_line_error(run, "waivers.yaml:8: invalid YAML: duplicate key 'expires' (first at line 7)")


def test_a_top_level_key_written_twice_is_refused(tmp_path: Path) -> None:
    waivers = _waiver("urn:pulumi:prod::*::db") + "waivers: []\n"
    run = dpaguard("audit", "--state", STATE, "--policies", _policies(tmp_path, waivers))
    assert_one_line_error(run, "waivers.yaml:8: invalid YAML: duplicate key 'waivers' (first at line 1)")


def test_keys_that_read_as_the_same_text_are_refused(tmp_path: Path) -> None:
    waivers = "waivers: []\n1: a\n'1': b\n"
    run = dpaguard("audit", "--state", STATE, "--policies", _policies(tmp_path, waivers))
    assert_one_line_error(run, "waivers.yaml:1: invalid YAML: duplicate key")


def test_a_dpa_table_key_written_twice_is_refused(tmp_path: Path) -> None:
    root = _policies(tmp_path, "waivers: []\n")
    settings = root / "dpa" / "settings.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("  minBackupRetentionDays: 7\n", "  minBackupRetentionDays: 7\n  minBackupRetentionDays: 1\n", 1),
                        encoding="utf-8")
    line = text.splitlines().index("  minBackupRetentionDays: 7") + 2
    run = dpaguard("audit", "--state", STATE, "--policies", root)
    assert_one_line_error(run, f"settings.yaml:{line}: invalid YAML: duplicate key 'minBackupRetentionDays'")


def test_a_stack_config_key_written_twice_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(SOURCE_FIXTURES / "components", project)
    stack_file = project / "Pulumi.dev.yaml"
    lines = stack_file.read_text(encoding="utf-8").splitlines()
    stack_file.write_text("\n".join([*lines, "  dpaguard:environment: prod", "  dpaguard:environment: dev", ""]), encoding="utf-8")
    run = dpaguard("check", "--no-checkov", "--project-dir", project)
    assert_one_line_error(run, f"Pulumi.dev.yaml:{len(lines) + 2}: malformed YAML in stack config file: duplicate key")
