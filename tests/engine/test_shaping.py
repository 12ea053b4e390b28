"""The Rego input leaves out facts the Rego never reads (engine/shaping.py): OPA decides the same with them and without.

Every engine sends `rego_input`/`chunks`, which drop the resource facts in _NOT_READ_BY_REGO,
locality's scope, a project's status and expectation, and tags. Were a rule to read one of them, it
would judge a resource on a fact that is never sent. Real OPA evaluates the project's policies on
the whole facts and on the shaped input, over the equivalence corpus and every control's
one-violation case, and must give the same decisions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from dpaguard.engine.interface import DECISIONS_PATH
from dpaguard.engine.shaping import _NOT_READ_BY_REGO, parse_decisions, rego_input
from dpaguard.model import Decision, Deployment
from dpaguard.normalise import normalise
from dpaguard.policy import Policy
from support.control_cases import CASES
from support.equivalence_corpus import TODAY, corpus

opa_inprocess = pytest.importorskip("dpaguard.engine.opa_inprocess")
QUERY = "x = data." + DECISIONS_PATH.replace("/", ".")

# A rule that reads a fact the input leaves out (the sub-processor of a resource): what the comparison must catch.
READS_A_DROPPED_FACT = """
decisions contains {"control": "DPA-PROBE-001", "urn": r.urn, "message": "read", "status": "violation"} if {
\tsome r in input.resources
\tr.subprocessor == "SCALEWAY"
}
"""


def _decide(opa: Any, document: object) -> list[Decision]:
    (binding,) = opa.eval_query(QUERY, json.loads(json.dumps(document)))
    return sorted(parse_decisions(binding["x"], "OPA"), key=lambda d: (d.control, d.urn, d.message, d.status))


@pytest.fixture(scope="module")
def opa(policy: Policy) -> Iterator[Any]:
    instance = opa_inprocess.compile_policy(policy.rego_modules, policy.data)
    yield instance
    instance.close()


def test_the_rego_decides_the_same_without_the_facts_it_is_not_sent(
    opa: Any, policy: Policy, rendered_stacks: dict[str, Deployment]
) -> None:
    cases = [*corpus(rendered_stacks), *((f"control-{name}", case()[0], None) for name, case in sorted(CASES.items()))]
    dropped_seen: set[str] = set()
    violating = 0
    for case, deployments, environment in cases:
        facts = normalise(deployments, policy.data, today=TODAY, environment_override=environment)
        dropped_seen |= {key for resource in facts["resources"] for key in resource} & _NOT_READ_BY_REGO
        shaped = _decide(opa, rego_input(facts))
        assert _decide(opa, facts) == shaped, f"{case}: a rule reads a fact the Rego input leaves out"
        violating += bool(shaped)
    # Not vacuous: the dropped facts occur, and the cases give decisions.
    assert {"subprocessor", "country", "package", "type", "id", "index"} <= dropped_seen
    assert violating >= 30


def test_a_rule_reading_a_left_out_fact_is_caught(policy: Policy, rendered_stacks: dict[str, Deployment]) -> None:
    modules = {**policy.rego_modules}
    name = next(path for path in modules if path.endswith("secrets.rego"))
    modules[name] += READS_A_DROPPED_FACT
    probe = opa_inprocess.compile_policy(modules, policy.data)
    try:
        facts = normalise([rendered_stacks["prod"]], policy.data, today=TODAY)
        whole = {d.control for d in _decide(probe, facts)}
        shaped = {d.control for d in _decide(probe, rego_input(facts))}
    finally:
        probe.close()
    assert "DPA-PROBE-001" in whole and "DPA-PROBE-001" not in shaped
