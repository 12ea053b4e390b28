"""The in-process OPA engine: the policy compiled once, resources equal in every fact sent once, parts split."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dpaguard.engine.opa_inprocess import CompiledPolicy, OpaInProcessEngine, load_bindings
from dpaguard.engine.shaping import distinct
from dpaguard.errors import EngineError
from dpaguard.facts import Facts, ResourceFacts
from dpaguard.normalise import normalise
from dpaguard.engine.index import build_index
from dpaguard.policy import Policy, load_policy
from dpaguard.source.state import load_state
from support import CLI_FIXTURES, POLICIES, REPO
from support.estates import finding_heavy_estate, vs_checkov_estate

TODAY = dt.date(2026, 11, 29)


@pytest.fixture(scope="module")
def estates(policy: Policy) -> dict[str, Facts]:
    drifted = load_state(CLI_FIXTURES / "prod-drifted.json")
    return {
        "vs_checkov": normalise([vs_checkov_estate(600)], policy.data, today=TODAY),
        "finding-heavy": normalise([finding_heavy_estate(600)], policy.data, today=TODAY),
        "prod-drifted": normalise([drifted], policy.data, today=TODAY),
    }


def test_the_load_compiles_once_and_the_engine_takes_it(policy: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    bindings = load_bindings()
    added: list[str] = []
    add_policy = bindings.OpaEngine.add_policy

    def counting(self: Any, path: str, source: str) -> None:
        added.append(path)
        add_policy(self, path, source)

    monkeypatch.setattr(bindings.OpaEngine, "add_policy", counting)
    loaded = load_policy(POLICIES)
    assert isinstance(loaded.compiled, CompiledPolicy)
    assert sorted(added) == sorted(loaded.rego_modules)  # the load's check: each module once
    engine = OpaInProcessEngine(loaded)
    try:
        engine.decide(normalise([vs_checkov_estate(50)], loaded.data, today=TODAY))
        assert sorted(added) == sorted(loaded.rego_modules)  # the engine compiled nothing more
        second = OpaInProcessEngine(loaded)  # the load's instance is taken: a second engine compiles its own
        second.close()
        assert len(added) == 2 * len(loaded.rego_modules)
    finally:
        engine.close()


def test_a_copy_of_the_policy_with_other_modules_is_compiled_afresh(policy: Policy) -> None:
    loaded = load_policy(POLICIES)
    main = loaded.rego_modules["rego/main.rego"] + "\nbroken := {\n"
    with pytest.raises(EngineError, match=r"rego/main.rego:\d+"):
        OpaInProcessEngine(dataclasses.replace(loaded, rego_modules={**loaded.rego_modules, "rego/main.rego": main}))
    assert loaded.compiled.take(loaded.rego_modules, loaded.data) is None  # the stale instance was closed, not used
    other_data = {**loaded.data, "retention": {}}
    fresh = load_policy(POLICIES)
    assert fresh.compiled.take(fresh.rego_modules, other_data) is None


def test_a_broken_policy_file_exits_2_with_one_line(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(POLICIES, tmp_path / "policies")
    target = tmp_path / "policies" / "rego" / "residency.rego"
    target.write_text(target.read_text() + "\nbroken contains x if {\n")
    done = subprocess.run(
        [sys.executable, "-m", "dpaguard", "audit", "--state", str(CLI_FIXTURES / "prod-drifted.json"),
         "--policies", str(tmp_path / "policies"), "--format", "json", "--quiet"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "residency.rego:" in lines[0] and "Traceback" not in done.stderr


@pytest.mark.parametrize("name", ["vs_checkov", "finding-heavy", "prod-drifted"])
@pytest.mark.parametrize("parallel_above", [0, 100_000])
def test_distinct_resources_decide_as_every_resource(policy: Policy, estates: dict[str, Facts], name: str, parallel_above: int) -> None:
    facts = estates[name]
    every = OpaInProcessEngine(policy, distinct_resources=False, parallel_above=parallel_above, threads=2)
    once = OpaInProcessEngine(policy, parallel_above=parallel_above, threads=2)
    try:
        expected = every.decide(facts)
        assert expected  # each estate breaks controls: the comparison compares something
        assert once.decide(facts) == expected
    finally:
        every.close()
        once.close()


@pytest.mark.parametrize("name", ["finding-heavy", "prod-drifted"])
@pytest.mark.parametrize("threads", [1, 2])
def test_parts_of_any_size_decide_as_one_input(policy: Policy, estates: dict[str, Facts], name: str, threads: int) -> None:
    """Each instance evaluates its share part after part; the union of the parts' decisions is the whole answer."""
    whole = OpaInProcessEngine(policy, distinct_resources=False, parallel_above=100_000, part_resources=100_000)
    parts = OpaInProcessEngine(policy, distinct_resources=False, parallel_above=0, part_resources=7, threads=threads)
    try:
        expected = whole.decide(estates[name])
        assert expected
        assert parts.decide(estates[name]) == expected
    finally:
        whole.close()
        parts.close()


def test_distinct_groups_resources_equal_but_for_their_identity(estates: dict[str, Facts]) -> None:
    facts = estates["vs_checkov"]
    sent, members = distinct(facts)
    resources = facts["resources"]
    assert len(sent["resources"]) == len(members) < len(resources) / 10
    assert sorted(p for group in members for p in group) == list(range(len(resources)))
    for representative, group in zip(sent["resources"], members):
        assert representative is resources[group[0]]
        for position in group:
            other = resources[position]
            assert {k: v for k, v in other.items() if k not in ("urn", "index", "id", "recorded_of")} == {
                k: v for k, v in representative.items() if k not in ("urn", "index", "id")
            }
    assert sent["index"] == build_index(sent["resources"])
    assert sent["stacks"] is facts["stacks"] and sent["context"] is facts["context"]


def test_distinct_keeps_resources_that_differ_in_any_fact(estates: dict[str, Facts]) -> None:
    facts = estates["vs_checkov"]
    first = facts["resources"][0]
    twins: list[ResourceFacts] = [{**first, "urn": "urn:a", "index": 0}, {**first, "urn": "urn:b", "index": 1, "environment": "dev"}, {**first, "urn": "urn:c", "index": 2}]
    sent, members = distinct({**facts, "resources": twins})
    assert members == [[0, 2], [1]]
    not_json: list[ResourceFacts] = [{**first, "urn": "urn:a", "index": 0, "props": {"x": float("nan")}}, {**first, "urn": "urn:b", "index": 1, "props": {"x": float("nan")}}]
    sent, members = distinct({**facts, "resources": not_json})
    assert members == [[0], [1]] and len(sent["resources"]) == 2  # sent whole, for OPA to refuse as it is


@pytest.mark.parametrize("urn", ["@-1", "@600000", "@x", "@", "@²"])
def test_a_decision_naming_no_sent_resource_fails_closed(policy: Policy, estates: dict[str, Facts], urn: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from dpaguard.model import ControlId, Urn

    engine = OpaInProcessEngine(policy)
    monkeypatch.setattr(engine, "_decide_part", lambda instance, part: [(ControlId("DPA-RES-001"), Urn(urn), "m", "violation", None)])
    try:
        with pytest.raises(EngineError, match="unknown resource"):
            engine.decide(estates["vs_checkov"])
    finally:
        engine.close()


def test_a_closed_engine_refuses(policy: Policy, estates: dict[str, Facts]) -> None:
    engine = OpaInProcessEngine(policy, parallel_above=0)
    engine.close()
    with pytest.raises(EngineError, match="closed"):
        engine.decide(estates["vs_checkov"])


def _compiled_instances(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Each OPA instance the engine compiles, as it is compiled."""
    from dpaguard.engine import opa_inprocess

    made: list[Any] = []
    compile_policy = opa_inprocess.compile_policy

    def keeping(modules: Any, data: Any) -> Any:
        made.append(compile_policy(modules, data))
        return made[-1]

    monkeypatch.setattr(opa_inprocess, "compile_policy", keeping)
    return made


def test_prepare_compiles_the_second_instance_the_split_evaluation_uses(
    policy: Policy, estates: dict[str, Facts], monkeypatch: pytest.MonkeyPatch,
) -> None:
    facts = estates["finding-heavy"]
    reference = OpaInProcessEngine(policy, parallel_above=100_000)
    try:
        expected = reference.decide(facts)
    finally:
        reference.close()
    compiles = _compiled_instances(monkeypatch)
    engine = OpaInProcessEngine(policy, parallel_above=10, threads=2)
    try:
        before = len(compiles)  # the first instance: the load's, or compiled now for a policy already taken
        engine.prepare(len(facts["resources"]))
        assert len(engine._compiling) == 1  # started, in an evaluation thread
        engine._compiling[1].result(timeout=60)
        assert len(compiles) == before + 1 and set(engine._instances) == {0, 1}
        assert engine.decide(facts) == expected  # split in two, one part per instance
        assert len(compiles) == before + 1  # the evaluation compiled nothing more
    finally:
        engine.close()


def test_prepare_below_the_split_or_on_one_thread_compiles_nothing(
    policy: Policy, estates: dict[str, Facts], monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiles = _compiled_instances(monkeypatch)
    small = OpaInProcessEngine(policy, parallel_above=1000, threads=2)
    alone = OpaInProcessEngine(policy, parallel_above=10, threads=1)
    try:
        before = len(compiles)
        small.prepare(1000)
        alone.prepare(10_000)
        assert (small._compiling, alone._compiling, small._pool, alone._pool) == ({}, {}, None, None)
        assert len(compiles) == before
    finally:
        small.close()
        alone.close()


def test_an_engine_closed_after_prepare_closes_the_instance_it_compiled(policy: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    made = _compiled_instances(monkeypatch)
    engine = OpaInProcessEngine(policy, parallel_above=10, threads=2)
    engine.prepare(5000)
    engine.close()  # at once: a compile prepare() started is waited for and closed, one not started yet never starts
    assert all(opa._handle is None for opa in made)
    with pytest.raises(EngineError, match="closed"):
        engine.decide(normalise([vs_checkov_estate(20)], policy.data, today=TODAY))
