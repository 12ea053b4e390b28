"""The normaliser builds the facts dpaguard/facts.py declares: no undeclared fact, no required one missing, each of its type.

The later stages (engines, findings, coverage, inventory) are type-checked against those
declarations; this holds the normaliser's real output to them, on the project's three stacks
rendered offline, the state fixtures, the violating corpus derived from prod, every control's
one-violation case and generated hostile deployments.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from dpaguard.facts import Facts, ResourceFacts
from dpaguard.model import Deployment
from dpaguard.normalise import normalise
from dpaguard.policy import Policy
from support.control_cases import CASES
from support.control_estate import compliant_resources, deployment, resource
from support.equivalence_corpus import TODAY, corpus
from support.strategies import deployments as hostile_deployments
from support.typed_schema import problems

pytestmark = pytest.mark.e2e  # renders the estate, and a property test


def _cases(stacks: dict[str, Deployment]) -> list[tuple[str, list[Deployment], str | None]]:
    every = list(corpus(stacks))
    every += [(f"control-{name}", case()[0], None) for name, case in sorted(CASES.items())]
    # Facts no case above gives: another cloud's region, and a state whose outputs disagree with its inputs.
    declared = {"name": "drifted", "region": "fr-par", "tags": ["env:prod"]}
    every.append(("other-cloud-and-recorded", [deployment("prod", [
        *compliant_resources("prod"),
        resource("prod", "aws:s3/bucket:Bucket", "paris", {"bucket": "paris", "region": "eu-west-3"}),
        resource("prod", "scaleway:object/bucket:Bucket", "drifted", declared, outputs={**declared, "region": "nl-ams"}),
        # another stack's security group, read with `.get()` (the `read` fact)
        resource("prod", "scaleway:instance/securityGroup:SecurityGroup", "looked-up", {}, id="fr-par-1/11111111", external=True),
    ])], None))
    return every


def test_every_fixture_estate_fits_the_declared_facts(rendered_stacks: dict[str, Deployment], policy: Policy) -> None:
    seen: set[str] = set()
    for case, deployments, environment in _cases(rendered_stacks):
        facts = normalise(deployments, policy.data, today=TODAY, environment_override=environment)
        assert problems(facts, Facts) == [], case
        seen |= {key for resource in facts["resources"] for key in resource}
    # The corpus exercises the declaration, not a corner of it: every optional resource fact occurs.
    assert ResourceFacts.__optional_keys__ - seen == set()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(deployment=hostile_deployments())
def test_hostile_deployments_fit_the_declared_facts(deployment: Deployment, policy: Policy) -> None:
    facts = normalise([deployment], policy.data, today=TODAY)
    assert problems(facts, Facts) == []


def test_the_check_itself_fails_on_a_misfit(rendered_stacks: dict[str, Deployment], policy: Policy) -> None:
    """An undeclared fact, a missing required one and one of the wrong type are each told."""
    facts: Any = normalise([rendered_stacks["prod"]], policy.data, today=TODAY)
    resource = facts["resources"][0]
    resource["undeclared"] = 1
    del resource["locality"]
    resource["index"] = True
    found = problems(facts, Facts)
    assert any("'undeclared' is not declared" in p for p in found)
    assert any("required 'locality'" in p for p in found)
    assert any("$.resources[0].index: True is not an integer" in p for p in found)
