"""The project's own three stacks (infra/, stacks/) produce no unwaived mandatory finding."""

from __future__ import annotations


import pytest

from support import REPO
from support.control_estate import TODAY
from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.pipeline import run_stages
from dpaguard.policy import Policy


@pytest.mark.slow
def test_own_stacks_have_no_unwaived_mandatory_finding(policy: Policy, engine: EmbeddedEngine) -> None:
    from dpaguard.source.program import render_stack

    deployments = [render_stack(REPO, stack) for stack in ("prod", "staging", "dev")]
    assert all(len(d.resources) > 20 for d in deployments)
    findings = run_stages(deployments, policy, engine, today=TODAY).findings
    blocking = [(f.stack, f.control, f.name, f.message) for f in findings if f.enforcement == "mandatory" and not f.waived]
    assert blocking == []
    # Evaluated together, the three environments share nothing.
    assert not [f for f in findings if f.category == "segregation"]
