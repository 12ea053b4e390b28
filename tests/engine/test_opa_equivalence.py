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

import copy
import datetime as dt
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.engine.opa import OpaEngine
from dpaguard.model import UNKNOWN, Deployment
from dpaguard.normalise import normalise
from dpaguard.source.state import load_state

REPO = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 27)
STATE_FIXTURES = [
    REPO / "tests/cli/fixtures/prod-drifted.json",
    REPO / "tests/cli/fixtures/dev.json",
    REPO / "tests/source/fixtures/states/real-export.json",
    *sorted((REPO / "tests/policies/fixtures").glob("*.json")),  # the controls' fixtures, when present
]


def _rewrite(value: Any, change: Callable[[str, Any], Any]) -> Any:
    if isinstance(value, dict):
        return {k: change(k, _rewrite(v, change)) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, change) for v in value]
    return value


def _mutated(deployment: Deployment, name: str, change: Callable[[str, Any], Any]) -> Deployment:
    resources = tuple(
        {**r, "inputs": _rewrite(copy.deepcopy(r.get("inputs", {})), change),
         "outputs": _rewrite(copy.deepcopy(r.get("outputs", {})), change)}
        for r in deployment.resources
    )
    return Deployment(**{**deployment.__dict__, "resources": resources, "origin": f"{deployment.origin}#{name}"})


def _outside_france(key: str, value: Any) -> Any:
    if key == "region" and isinstance(value, str):
        return "nl-ams"
    if key == "zone" and isinstance(value, str):
        return "nl-ams-1"
    if key in ("location", "actualLocation") and isinstance(value, str):
        return "Amsterdam"
    if key == "countryCode":
        return "NL"
    return value


def _untagged_and_open(key: str, value: Any) -> Any:
    if key == "tags":
        return [] if isinstance(value, list) else {}
    if key in ("ipRange", "ip"):
        return "0.0.0.0/0"
    if key in ("isBackupDisabled", "disableBackup"):
        return True
    if key in ("versioning", "tlsEnabled", "backupSameRegion", "enabled"):
        return False
    return value


def _unknown(key: str, value: Any) -> Any:
    if key in ("region", "zone", "tags", "projectId", "ipRange", "tlsEnabled", "backupSameRegion", "sipTransport"):
        return UNKNOWN
    return value


@pytest.fixture()
def policy(real_policy: Any) -> Any:
    return real_policy


@pytest.fixture()
def stacks(rendered_stacks: dict[str, Deployment]) -> dict[str, Deployment]:
    return rendered_stacks


@pytest.fixture()
def engines(engine_pair: tuple[EmbeddedEngine, OpaEngine]) -> tuple[EmbeddedEngine, OpaEngine]:
    return engine_pair


def corpus(stacks: dict[str, Deployment]) -> Iterator[tuple[str, list[Deployment], str | None]]:
    """(case id, deployments evaluated together, environment override)."""
    for name, deployment in stacks.items():
        yield f"render-{name}", [deployment], None
    yield "render-all-stacks", list(stacks.values()), None
    for path in STATE_FIXTURES:
        if path.exists():
            yield f"state-{path.stem}", [load_state(path)], None
    prod = stacks["prod"]
    for environment in ("prod", "staging", "dev"):
        yield f"outside-france-{environment}", [_mutated(prod, "outside", _outside_france)], environment
        yield f"untagged-open-{environment}", [_mutated(prod, "open", _untagged_and_open)], environment
        yield f"preview-unknowns-{environment}", [_mutated(prod, "unknown", _unknown)], environment
    # two environments sharing the same project, network and servers
    yield "shared-prod-dev", [prod, Deployment(**{**prod.__dict__, "stack": "dev", "config": {**prod.config, "dpaguard:environment": "dev"}})], None


def test_engines_agree_on_the_whole_corpus(
    stacks: dict[str, Deployment], policy: Any, engines: tuple[EmbeddedEngine, OpaEngine]
) -> None:
    embedded, opa = engines
    compared = 0
    controls_seen: set[str] = set()
    violating_cases = 0
    for case, deployments, environment in corpus(stacks):
        facts = normalise(deployments, policy.data, today=TODAY, environment_override=environment)
        expected = embedded.evaluate(facts)
        got = opa.evaluate(facts)
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
        decisions = embedded.evaluate(facts)
        assert opa.evaluate(facts) == decisions, f"{control}: the engines disagree"
        assert any(d.control == control and d.urn == expected_urn for d in decisions), control
    assert len(cases) >= 40  # every control of the catalogue but the few tested apart


def test_own_stacks_are_compliant_on_both_engines(
    stacks: dict[str, Deployment], policy: Any, engines: tuple[EmbeddedEngine, OpaEngine]
) -> None:
    embedded, opa = engines
    facts = normalise(list(stacks.values()), policy.data, today=TODAY)
    assert opa.evaluate(facts) == embedded.evaluate(facts)
