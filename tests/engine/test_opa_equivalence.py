"""Both engines give identical decisions on the whole corpus: the OPA engine (through the stand-in
OPA server, which is real OPA behind OPA's REST API) and the embedded engine (regopy), loaded with
the project's real policies/. A difference is either a fault of the server path or a rule whose
meaning depends on the engine: OPA is the reference.

The corpus: the project's three stacks rendered offline (each alone, and all three together, which
exercises the cross-stack segregation rules), the state-file fixtures of the other stages, a
violating corpus derived from prod (resources moved out of France, tags stripped, values unknown as
in a preview, every environment), and the controls' own one-violation-per-control cases
(tests/support/control_cases.py).
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.engine.opa import OpaEngine
from dpaguard.model import Deployment
from dpaguard.normalise import normalise
from support.equivalence_corpus import TODAY, corpus


@pytest.fixture()
def stacks(rendered_stacks: dict[str, Deployment]) -> dict[str, Deployment]:
    return rendered_stacks


@pytest.fixture()
def engines(engine_pair: tuple[EmbeddedEngine, OpaEngine]) -> tuple[EmbeddedEngine, OpaEngine]:
    return engine_pair


def test_engines_agree_on_the_whole_corpus(
    stacks: dict[str, Deployment], policy: Any, engines: tuple[EmbeddedEngine, OpaEngine]
) -> None:
    embedded, opa = engines
    compared = 0
    controls_seen: set[str] = set()
    violating_cases = 0
    for case, deployments, environment in corpus(stacks):
        facts = normalise(deployments, policy.data, today=TODAY, environment_override=environment)
        expected = embedded.decide(facts)
        got = opa.decide(facts)
        assert got == expected, f"{case}: the engines disagree"
        compared += 1
        controls_seen |= {d.control for d in expected}
        violating_cases += bool(expected)
    # the comparison is not vacuous: many cases, many of them violating, many controls firing
    assert compared >= 15
    assert violating_cases >= 10
    assert len(controls_seen) >= 15, sorted(controls_seen)


def _control_cases() -> dict[str, Callable[[], tuple[list[Deployment], str]]]:
    """The controls' own cases (support/control_cases.py: one violation per control)."""
    from support.control_cases import CASES

    return dict(CASES)


def test_engines_agree_on_every_control_case(policy: Any, engines: tuple[EmbeddedEngine, OpaEngine]) -> None:
    embedded, opa = engines
    cases = _control_cases()
    for control, case in sorted(cases.items()):
        deployments, expected_urn = case()
        facts = normalise(deployments, policy.data, today=TODAY)
        decisions = embedded.decide(facts)
        assert opa.decide(facts) == decisions, f"{control}: the engines disagree"
        assert any(d.control == control and d.urn == expected_urn for d in decisions), control
    assert len(cases) >= 40  # every control of the catalogue but the few tested apart


def test_own_stacks_are_compliant_on_both_engines(
    stacks: dict[str, Deployment], policy: Any, engines: tuple[EmbeddedEngine, OpaEngine]
) -> None:
    embedded, opa = engines
    facts = normalise(list(stacks.values()), policy.data, today=TODAY)
    assert opa.decide(facts) == embedded.decide(facts)
