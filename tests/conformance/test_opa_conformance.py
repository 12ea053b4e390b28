"""Conformance: every engine dpaguard can evaluate with answers exactly what the real OPA answers.

OPA (v1.20, Go, in process through opa-golib-python-bindings) is the reference for what the Rego
means. regopy (rego-cpp), the fallback where the OPA wheel cannot load, must give the same
decisions, control, URN, message and status alike, on: the project's three stacks, every fixture
estate of the test suite, generated estates of 4,000 and 10,000 resources (one of them
finding-heavy), and a property-based corpus over the normaliser's input (hostile deployments,
property values of every type, missing properties, hostile text in names, keys and type tokens).
Any difference fails the build, and so does an input OPA gives no answer for: everything the
normaliser accepts must be judged.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.engine.opa_inprocess import OpaInProcessEngine
from dpaguard.errors import EngineError, InputError
from dpaguard.model import SECRET_SIG, SECRET_SIG_KEY, UNKNOWN, Decision, Deployment
from dpaguard.normalise import normalise
from dpaguard.deployment.types import type_token_problem
from dpaguard.policy import Policy
from dpaguard.source.program import render_stack
from dpaguard.source.state import load_state
from support import CLI_FIXTURES, REPO, SOURCE_FIXTURES, TESTS
from support.strategies import deployments as hostile_deployments
from support.estates import finding_heavy_estate, vs_checkov_estate

TODAY = dt.date(2026, 11, 29)
STATE_FIXTURES = sorted(
    p for p in [*TESTS.glob("*/fixtures/*.json"), *TESTS.glob("*/fixtures/states/*.json")]
    if p.name not in ("malformed.json", "not-an-export.json")
)
PROGRAM_FIXTURES = ["components", "deprecated", "dynamic", "providers", "secrets", "stackref", "transforms"]


@pytest.fixture(scope="module")
def engines(policy: Policy) -> Iterator[tuple[OpaInProcessEngine, EmbeddedEngine]]:
    opa, regopy = OpaInProcessEngine(policy), EmbeddedEngine(policy)
    yield opa, regopy
    regopy.close()
    opa.close()


def _answer(engine: Any, facts: Mapping[str, Any]) -> list[Decision] | str:
    try:
        return sorted(engine.decide(facts), key=lambda d: (d.control, d.urn, d.message, d.status))
    except EngineError:
        return "no answer (EngineError)"


def assert_conformant(
    engines: tuple[OpaInProcessEngine, EmbeddedEngine], deployments: Sequence[Deployment], policy: Policy, *, regopy_may_refuse: bool = False
) -> list[Decision]:
    """Both engines' decisions on these deployments, equal; OPA's decisions returned.

    `regopy_may_refuse`: rego-cpp cannot hold some strings (it cuts them at a NUL, cannot print a
    lone surrogate) and then stops the run (exit 2, fail closed) where OPA answers: allowed only on
    the hostile corpus, and never an answer that differs.
    """
    facts = normalise(list(deployments), policy.data, today=TODAY)
    opa, regopy = (_answer(engine, facts) for engine in engines)
    if regopy_may_refuse and isinstance(regopy, str):
        regopy = opa
    # Every input the normaliser accepts has an answer: a builtin failing on a value (count(null))
    # would fail the whole run closed, on input a program can legitimately produce.
    assert not isinstance(opa, str), f"OPA gave {opa}"
    if opa != regopy:
        if isinstance(opa, str) or isinstance(regopy, str):
            pytest.fail(f"OPA: {opa if isinstance(opa, str) else f'{len(opa)} decisions'}; regopy: {regopy if isinstance(regopy, str) else f'{len(regopy)} decisions'}")
        only_opa = [d for d in opa if d not in regopy][:5]
        only_regopy = [d for d in regopy if d not in opa][:5]
        pytest.fail(f"engines differ: only OPA {only_opa}; only regopy {only_regopy}")
    return opa if isinstance(opa, list) else []


@pytest.mark.parametrize("stack", ["prod", "staging", "dev"])
def test_the_project_stacks(stack: str, engines: Any, policy: Policy) -> None:
    decisions = assert_conformant(engines, [render_stack(REPO, stack)], policy)
    assert all(d.urn.startswith(f"urn:pulumi:{stack}::") for d in decisions)


def test_the_project_stacks_together(engines: Any, policy: Policy) -> None:
    assert_conformant(engines, [render_stack(REPO, s) for s in ("prod", "staging", "dev")], policy)


@pytest.mark.parametrize("path", STATE_FIXTURES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_state_fixture(path: Path, engines: Any, policy: Policy) -> None:
    decisions = assert_conformant(engines, [load_state(path)], policy)
    if path.name == "prod-drifted.json":
        assert decisions, "the drifted fixture must give decisions, or the comparison proves nothing"


@pytest.mark.parametrize("name", PROGRAM_FIXTURES)
def test_every_program_fixture(name: str, engines: Any, policy: Policy) -> None:
    project = SOURCE_FIXTURES / name
    assert_conformant(engines, [render_stack(project, "dev")], policy)


# The corpus of third-party-style programs (tests/corpus), each rendered as its expected.yaml's stack:
# the classes of issue 21 (other providers' firewalls, an EKS endpoint, read resources, pairs) decided alike.
CORPUS = sorted(p.parent for p in (TESTS / "corpus").glob("*/expected.yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("program", CORPUS, ids=lambda p: p.name)
def test_every_corpus_program(program: Path, engines: Any, policy: Policy) -> None:
    venv = program / "venv"
    if (program / "requirements.txt").exists() and not (venv / "bin" / "python").exists():
        pytest.skip(f"{program.name}/venv is made by .ci/setup (python -m venv, pip install -r requirements.txt)")
    stack = str(yaml.safe_load((program / "expected.yaml").read_text(encoding="utf-8"))["stack"])
    assert_conformant(engines, [render_stack(program, stack, timeout=120)], policy)


def test_the_control_estates(engines: Any, policy: Policy) -> None:
    from support.control_estate import compliant_estate

    for stack in ("prod", "staging", "dev"):
        decisions = assert_conformant(engines, [compliant_estate(stack)], policy)
        # compliant: only what no configuration can show (undated Appendix B entries; fr-par-1 spans DC2 and DC3)
        assert {d.control for d in decisions} <= {"DPA-SUB-006", "DPA-RES-007"}


@pytest.mark.parametrize(("estate", "size"), [(vs_checkov_estate, 4000), (vs_checkov_estate, 10000), (finding_heavy_estate, 500)],
                         ids=["vs-checkov-4000", "vs-checkov-10000", "finding-heavy-500"])
def test_generated_estates(estate: Any, size: int, engines: Any, policy: Policy) -> None:
    decisions = assert_conformant(engines, [estate(size)], policy)
    assert len(decisions) > size // 10


@pytest.mark.parametrize("version", ["7.0.5", "7.2.11", "7.2", "v7.2.11", "7.2.11-rc1", "07.2.11", "1.31"])
def test_versions_against_a_security_floor(version: str, engines: Any, policy: Policy) -> None:
    # The engines' semver builtins differ (OPA's semver.is_valid takes "v7.2.11", regopy's does not):
    # DPA-UPD-002 compares only what both read alike.
    from support.control_estate import changed, find

    decisions = assert_conformant(engines, [changed("prod", "cache", version=version)], policy)
    assert "DPA-UPD-002" in {d.control for d in decisions if d.urn == find("cache")} or version == "7.2.11"


# -- the property-based corpus ---------------------------------------------------------------

# Values of every JSON type, the engines' traps among them: numbers as text, fractions next to the
# whole numbers they almost are, integers past 64 bits, text with quotes, backslashes, control and
# non-printable characters, composite values, the preview marker and secrets.
trap_values = st.one_of(
    st.sampled_from(["3", "48", "true", "false", "", "fr-par", "nl-ams", "drop", "accept", "0.0.0.0/0", "tls", "udp", "srtp", UNKNOWN]),
    # versions: where engines' semver builtins differ ("v7.2.11"), below and above a floor, not comparable
    st.sampled_from(["7.2.11", "v7.2.11", "7.0.5", "7.2", "7.2.11-rc1", "1.31", "1.35.2", "PostgreSQL-13"]),
    st.sampled_from([24.000000000000004, 25.123456789, 30.0, 1e300, -0.0, 0.5, 2**63, 2**64 + 5, -(2**63) - 1]),
    st.none(), st.booleans(), st.integers(-10, 1000),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
    st.just({SECRET_SIG_KEY: SECRET_SIG, "ciphertext": "[secret]"}),
    st.lists(st.text(max_size=6), max_size=3),
    st.dictionaries(st.text(max_size=6), st.one_of(st.text(max_size=6), st.integers(), st.booleans()), max_size=3),
    st.just([{"enabled": True, "expiration": {"days": "30"}}]),
    st.just([{"enabled": True, "expiration": {"days": 30.5}}]),
    st.just([{"enabled": "true", "expiration": {"days": 30}, "noncurrentVersionExpiration": {"noncurrentDays": 400}}]),
    st.just([{"ip": "0.0.0.0/0"}, {"ip": 5}]),
    st.just({"enabled": "true"}),
)
# The properties the rules read, and a few they do not.
property_names = st.sampled_from(sorted({
    "disableBackup", "backupScheduleRetention", "backupScheduleFrequency", "isHaCluster", "backupSameRegion", "privateNetwork",
    "loadBalancer", "aclRules", "acls", "privateNetworks", "tlsEnabled", "isSnapshotScheduleEnabled", "snapshotScheduleFrequencyHours",
    "bastionEnabled", "applicationId", "rules", "expiresAt", "inboundDefaultPolicy", "inboundRules", "certificateIds", "inboundPort",
    "sslCompatibilityLevel", "sslBridging", "versioning", "lifecycleRules", "location", "actualLocation", "countryCode", "backupTarget",
    "backupSchedule", "role", "sipTransport", "mediaEncryption", "region", "zone", "projectId", "tags", "name", "password",
    "version", "engine", "image",
}))
edits = st.lists(
    st.tuples(st.integers(0, 10_000), property_names, st.one_of(st.just("<delete>"), trap_values)), min_size=1, max_size=6
)


def _edited(base: Deployment, changes: list[tuple[int, str, Any]]) -> Deployment:
    resources = [copy.deepcopy(r) for r in base.resources]
    for position, name, value in changes:
        resource = resources[position % len(resources)]
        for side in ("inputs", "outputs"):
            props = resource.get(side)
            if not isinstance(props, dict):
                continue
            if value == "<delete>":
                props.pop(name, None)
            else:
                props[name] = copy.deepcopy(value)
    return dataclasses.replace(base, resources=tuple(resources))


@pytest.fixture(scope="module")
def bases() -> dict[str, Deployment]:
    from support.control_estate import compliant_estate

    return {"control-estate": compliant_estate("prod"), "drifted": load_state(CLI_FIXTURES / "prod-drifted.json")}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(base=st.sampled_from(["control-estate", "drifted"]), changes=edits, environment=st.sampled_from([None, "prod", "dev"]))
def test_property_edits(base: str, changes: list[tuple[int, str, Any]], environment: str | None, engines: Any, policy: Policy, bases: dict[str, Deployment]) -> None:
    deployment = _edited(bases[base], changes)
    if environment is not None:
        deployment = dataclasses.replace(deployment, config={**deployment.config, "dpaguard:environment": environment})
    assert_conformant(engines, [deployment], policy)


hostile_text = st.text(st.sampled_from(list("aZ-:/é%{}[] \"\\\n\t\x01\x7f\x85\u00a0\u00ad\u200b\u2028\U0001f4a5")), max_size=10)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(position=st.integers(0, 10_000), where=st.sampled_from(["type", "name", "key", "tags", "locality"]), text=hostile_text)
def test_hostile_text_in_names_keys_and_types(position: int, where: str, text: str, engines: Any, policy: Policy, bases: dict[str, Deployment]) -> None:
    resources = [dict(copy.deepcopy(r)) for r in bases["drifted"].resources]
    resource = resources[position % len(resources)]
    inputs = resource.setdefault("inputs", {})
    if where == "type":
        resource["type"] = f"scaleway:{text}:{text}"
        if type_token_problem(resource["type"]):
            # An invisible character or another Unicode form in a type token: refused whole (exit 2), never judged.
            with pytest.raises(InputError, match="type token"):
                normalise([dataclasses.replace(bases["drifted"], resources=tuple(resources))], policy.data, today=TODAY)
            return
    elif where == "name":
        resource["urn"] = f"{resource['urn'].rsplit('::', 1)[0]}::{text}"
    elif where == "key":
        inputs[text] = {"password": "hunter2", "nested": [text]}
    elif where == "tags":
        inputs["tags"] = [f"{text}:{text}", f"env:{text}", f"data-category:{text}"]
    else:
        inputs["region"] = text
    assert_conformant(engines, [dataclasses.replace(bases["drifted"], resources=tuple(resources))], policy)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(deployment=hostile_deployments())
def test_hostile_deployments(deployment: Deployment, engines: Any, policy: Policy) -> None:
    assert_conformant(engines, [deployment], policy, regopy_may_refuse=True)


def test_a_difference_is_caught(engines: Any, policy: Policy) -> None:
    """The comparison itself can fail: an engine whose answer lacks one decision is told apart."""
    opa, regopy = engines

    class Dropping:
        def decide(self, facts: Mapping[str, Any]) -> list[Decision]:
            return list(regopy.decide(facts))[1:]

    with pytest.raises(pytest.fail.Exception, match="engines differ"):
        assert_conformant((opa, Dropping()), [load_state(CLI_FIXTURES / "prod-drifted.json")], policy)  # type: ignore[arg-type]


def test_decisions_are_json_round_trip_stable(engines: Any, policy: Policy) -> None:
    """What OPA answers survives the reports' JSON unchanged (no float or escape drift)."""
    decisions = assert_conformant(engines, [load_state(CLI_FIXTURES / "prod-drifted.json")], policy)
    assert json.loads(json.dumps([dataclasses.asdict(d) for d in decisions])) == [dataclasses.asdict(d) for d in decisions]
