"""Stack settings beyond int64 are never wrapped around by the engine (issue 15, item 17)."""

from __future__ import annotations

from typing import Any

import pytest


from support import POLICIES
from support.control_estate import TODAY, compliant_resources, config, deployment

from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.pipeline import run_stages
from dpaguard.normalise import _setting
from dpaguard.policy import load_policy

WRAPS_TO_1 = 2**64 + 1  # rego-cpp would read it as 1


@pytest.mark.parametrize("value", [2**63, WRAPS_TO_1, -1, -(2**64), "18446744073709551617", "1e3", 1.5, True, None, "x"])
def test_unreadable_settings_are_none(value: object) -> None:
    assert _setting(value) is None


@pytest.mark.parametrize("value, expected", [(0, 0), (14, 14), (" 30 ", 30), (2**63 - 1, 2**63 - 1)])
def test_readable_settings(value: object, expected: int) -> None:
    assert _setting(value) == expected


@pytest.fixture(scope="module")
def run() -> object:
    policy = load_policy(POLICIES)
    engine = EmbeddedEngine(policy)

    def controls(**changes: Any) -> set[str]:
        stack = deployment("prod", compliant_resources("prod"), config("prod", **changes))
        return {f.control for f in run_stages([stack], policy, engine, today=TODAY).findings if f.status == "violation"}

    yield controls
    engine.close()


def test_a_backup_minimum_beyond_int64_reports_every_database(run) -> None:  # type: ignore[no-untyped-def]
    assert "DPA-BAK-002" not in run()
    assert "DPA-BAK-002" in run(**{"dpaguard:minBackupRetentionDays": WRAPS_TO_1})
    assert "DPA-BAK-002" in run(**{"dpaguard:minBackupRetentionDays": str(WRAPS_TO_1)})


def test_a_client_set_retention_beyond_int64_is_not_set(run) -> None:  # type: ignore[no-untyped-def]
    baseline = run()
    wrapped = run(**{"dpaguard:callRecordingRetentionDays": 2**64 + 90})
    assert wrapped - baseline, "a retention period beyond int64 must not read as 90 days"


def test_a_stack_cannot_lower_the_dpa_backup_minimum(run) -> None:  # type: ignore[no-untyped-def]
    """The minimum is policy data (settings.yaml: 7 days); a stack's own setting may only raise it (issue 24, H3)."""
    policy = load_policy(POLICIES)
    engine = EmbeddedEngine(policy)
    short = [dict(r, inputs={**r["inputs"], "backupScheduleRetention": 3})
             if r["type"] == "scaleway:databases/instance:Instance" else r for r in compliant_resources("prod")]
    try:
        cases: list[tuple[dict[str, Any], dict[str, Any]]] = [({"dpaguard:minBackupRetentionDays": 1}, {}),
                                                               ({}, {"minBackupRetentionDays": 1})]
        for stack_config, pack_settings in cases:
            stack = deployment("prod", short, config("prod", **stack_config))
            result = run_stages([stack], policy, engine, today=TODAY, stack_settings=pack_settings)
            assert "DPA-BAK-002" in {f.control for f in result.findings if f.status == "violation"}
    finally:
        engine.close()
    assert "DPA-BAK-002" in run(**{"dpaguard:minBackupRetentionDays": 30})
