"""The embedded (regopy) engine: decisions for real policies, thread safety, and failing closed."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
from typing import Any

import pytest


from support.control_estate import TODAY, changed, compliant_estate, compliant_resources, config, deployment, resource, urn
from dpaguard.engine import create_engine
from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.engine.shaping import parse_decisions
from dpaguard.errors import EngineError
from dpaguard.facts import Facts
from dpaguard.normalise import normalise
from dpaguard.policy import Policy


def _facts(policy: Policy, *deployments: Any) -> Facts:
    return normalise(list(deployments), policy.data, today=TODAY)


def test_create_engine_gives_regopy_when_asked(policy: Policy) -> None:
    engine = create_engine(policy, engine="regopy")
    assert isinstance(engine, EmbeddedEngine) and engine.name == "regopy" and engine.notices == ()
    engine.close()


def test_decisions_for_a_violation(policy: Policy) -> None:
    engine = EmbeddedEngine(policy)
    decisions = engine.decide(_facts(policy, changed("prod", "vpc", region="nl-ams")))
    assert any(d.control == "DPA-RES-001" and d.urn.endswith("::vpc") and d.status == "violation" for d in decisions)
    assert decisions == sorted(decisions, key=lambda d: (d.control, d.urn, d.message, d.status))


def test_chunked_evaluation_equals_whole(policy: Policy) -> None:
    facts = _facts(policy, changed("prod", "vpc", region="nl-ams"), changed("dev", "sg", inboundDefaultPolicy=None))
    whole = EmbeddedEngine(policy, chunk_resources=10_000).decide(facts)
    chunked = EmbeddedEngine(policy, chunk_resources=3).decide(facts)
    assert whole == chunked and whole


def test_concurrent_callers_get_identical_answers(policy: Policy) -> None:
    engine = EmbeddedEngine(policy)
    inputs = [_facts(policy, changed("prod", "vpc", region="nl-ams")), _facts(policy, compliant_estate()), _facts(policy, changed("prod", "db", isHaCluster=False))]
    expected = [engine.decide(f) for f in inputs]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: (n % 3, engine.decide(inputs[n % 3])), range(48)))
    assert all(answer == expected[k] for k, answer in answers)


def test_malformed_decision_fails_closed(policy: Policy) -> None:
    main = policy.rego_modules["rego/main.rego"].replace("decisions := (", 'decisions := {{"control": "DPA-RES-001"}} | (', 1)
    broken = dataclasses.replace(policy, rego_modules={**policy.rego_modules, "rego/main.rego": main})
    with pytest.raises(EngineError, match="malformed decision"):
        EmbeddedEngine(broken).decide(_facts(policy, compliant_estate()))


def test_undefined_decisions_fail_closed(policy: Policy) -> None:
    modules = {k: v for k, v in policy.rego_modules.items() if k != "rego/main.rego"}
    modules["rego/main.rego"] = "package dpaguard.main\n\nimport rego.v1\n\ndecisions := input.nothing\n"
    with pytest.raises(EngineError, match="undefined"):
        EmbeddedEngine(dataclasses.replace(policy, rego_modules=modules)).decide(_facts(policy, compliant_estate()))


def test_a_failing_builtin_fails_closed_rather_than_dropping_a_decision(policy: Policy) -> None:
    # Without strict builtin errors the rule would be undefined and its decision silently missing.
    modules = {k: v for k, v in policy.rego_modules.items() if k != "rego/main.rego"}
    modules["rego/main.rego"] = (
        "package dpaguard.main\n\nimport rego.v1\n\n"
        "decisions contains {\"control\": \"DPA-RES-001\", \"urn\": r.urn, \"message\": sprintf(\"%v\", [to_number(r.urn)]), "
        "\"status\": \"violation\"} if {\n\tsome r in input.resources\n}\n"
    )
    with pytest.raises(EngineError):
        EmbeddedEngine(dataclasses.replace(policy, rego_modules=modules)).decide(_facts(policy, compliant_estate()))


def test_module_that_does_not_compile_fails_closed(policy: Policy) -> None:
    modules = {**policy.rego_modules, "rego/extra.rego": "package dpaguard.extra\n\nx := := 1\n"}
    with pytest.raises(EngineError, match=r"rego/extra\.rego:3"):
        EmbeddedEngine(dataclasses.replace(policy, rego_modules=modules))


def test_closed_engine_refuses(policy: Policy) -> None:
    engine = EmbeddedEngine(policy)
    engine.close()
    with pytest.raises(EngineError):
        engine.decide(_facts(policy, compliant_estate()))


@pytest.mark.parametrize(
    "answer",
    [None, {"control": "x"}, [{"control": "DPA-RES-001", "urn": "u", "message": "m"}], [{"control": "DPA-RES-001", "urn": "u", "message": "m", "status": "ok"}], [{"control": "", "urn": "u", "message": "m", "status": "violation"}]],
)
def test_parse_decisions_rejects_malformed(answer: Any) -> None:
    with pytest.raises(EngineError):
        parse_decisions(answer, "test")


def test_quotes_in_facts_do_not_break_the_answer(policy: Policy) -> None:
    engine = EmbeddedEngine(policy)
    decisions = engine.decide(_facts(policy, changed("prod", "vpc", region='nl-"ams\\')))
    assert any(d.control == "DPA-RES-001" for d in decisions)


ODD_NAMES = ('vpc "main"', "vpc\\main", "vpc\x01main\n")


def _renamed(resources: list[dict[str, Any]], old: str, new: str) -> list[dict[str, Any]]:
    return [{**r, "urn": r["urn"].replace(f"::{old}", f"::{new}")} if r["urn"].endswith(f"::{old}") else r for r in resources]


@pytest.mark.parametrize("processes", [1, pytest.param(3, marks=pytest.mark.e2e)], ids=["in-process", "in-workers"])
def test_urns_rego_cpp_cannot_print_are_judged_and_given_back_as_they_were(policy: Policy, processes: int) -> None:
    # A resource named with a quote, a backslash or a control character: rego-cpp would print its URN
    # unescaped and the answer would not parse; the engine swaps such URNs for placeholders and back.
    prod = changed("prod", "vpc", region="nl-ams")
    renamed = [dataclasses.replace(prod, resources=tuple(_renamed([dict(r) for r in prod.resources], "vpc", name))) for name in ODD_NAMES]
    owner = 'vpc "shared"\\x'  # a foreign owner's URN is quoted in the segregation message
    shared = [
        deployment("prod", _renamed(compliant_resources("prod"), "vpc", owner)),
        deployment("dev", compliant_resources("dev") + [resource("dev", "scaleway:network/privateNetwork:PrivateNetwork", "borrowed-pn",
                                                                  {"vpcId": "prod-vpc-id", "tags": ["env:dev"]})], config("dev")),
    ]
    engine = EmbeddedEngine(policy, processes=processes, chunk_resources=3, parallel_above=0)
    try:
        for deployment_, name in zip(renamed, ODD_NAMES):
            decisions = engine.decide(_facts(policy, deployment_))
            assert [d.urn for d in decisions if d.control == "DPA-RES-001"] == [urn("prod", "scaleway:network/vpc:Vpc", name)]
            assert not any("urn:dpaguard:unprintable" in d.urn + d.message for d in decisions)
        decisions = engine.decide(_facts(policy, *shared))
        messages = [d.message for d in decisions if d.control == "DPA-SEG-004"]
        assert messages and all(owner in m and "unprintable" not in m for m in messages)
    finally:
        engine.close()


def test_today_is_not_a_fact_rules_depend_on(policy: Policy) -> None:
    engine = EmbeddedEngine(policy)
    facts = [normalise([compliant_estate()], policy.data, today=day) for day in (dt.date(2026, 1, 1), TODAY)]
    assert engine.decide(facts[0]) == engine.decide(facts[1])
