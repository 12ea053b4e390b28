"""Property: on randomly altered deployments the OPA engine (through the stand-in: real OPA behind its
REST API) and the embedded engine give the same decisions, and a Scaleway resource moved outside
France is always reported."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.engine.opa import OpaEngine
from dpaguard.model import SECRET_SIG, SECRET_SIG_KEY, UNKNOWN, Deployment
from dpaguard.normalise import normalise

TODAY = dt.date(2026, 11, 27)
EXAMPLES = 30

odd_text = st.one_of(
    st.sampled_from(["fr-par", "fr-par-1", "fr-par-2", "nl-ams", "nl-ams-1", "pl-waw", "", UNKNOWN, "FR-PAR", "fr-par "]),
    st.text(max_size=30),
)
# Inside lists and maps, plain characters only: printed with sprintf("%v"), a composite value's
# non-ASCII characters, quotes and backslashes come out differently from the embedded engine
# (rego-cpp's compiled bundle: raw, C1 controls included) and from OPA behind the stand-in (Go's
# strconv.Quote). Scalars are printed alike by both.
ascii_text = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.:/"), max_size=12)
odd_value = st.one_of(
    odd_text,
    st.none(),
    st.integers(),
    st.booleans(),
    st.just({SECRET_SIG_KEY: SECRET_SIG, "ciphertext": "[secret]"}),
    st.lists(ascii_text, max_size=3),
    st.dictionaries(ascii_text, ascii_text, max_size=3),
)
edit = st.tuples(
    st.sampled_from(["region", "zone", "tags", "projectId", "tlsEnabled", "ipRange", "backupSameRegion", "name", "location"]),
    odd_value,
)


@pytest.fixture()
def setting(
    policy: Any, rendered_stacks: dict[str, Deployment], engine_pair: tuple[EmbeddedEngine, OpaEngine]
) -> tuple[Any, Deployment, EmbeddedEngine, OpaEngine]:
    return policy, rendered_stacks["prod"], *engine_pair


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    edits=st.dictionaries(st.integers(0, 200), st.lists(edit, min_size=1, max_size=3), max_size=6),
    environment=st.sampled_from([None, "prod", "staging", "dev"]),
)
def test_engines_agree_on_altered_deployments(
    setting: tuple[Any, Deployment, EmbeddedEngine, OpaEngine], edits: dict[int, list[tuple[str, Any]]], environment: str | None
) -> None:
    policy, prod, embedded, opa = setting
    resources = [copy.deepcopy(dict(r)) for r in prod.resources]
    for index, changes in edits.items():
        resource = resources[index % len(resources)]
        for key, value in changes:
            resource.setdefault("inputs", {})[key] = value
    altered = Deployment(**{**prod.__dict__, "resources": tuple(resources)})
    facts = normalise([altered], policy.data, today=TODAY, environment_override=environment)
    decisions = embedded.decide(facts)
    assert opa.decide(facts) == decisions
    # fail closed: a Scaleway resource given a region outside France is reported by residency
    for index, changes in edits.items():
        resource = resources[index % len(resources)]
        region = resource.get("inputs", {}).get("region")
        if resource.get("custom") and str(resource.get("type", "")).startswith("scaleway:") and region in ("nl-ams", "pl-waw"):
            assert any(d.urn == resource["urn"] and d.control.startswith("DPA-RES") for d in decisions), resource["urn"]


@pytest.mark.parametrize("zone", ["fr-par-\x1f", 'fr-par-"1"', "fr-par\\1", 2**63], ids=["control", "quote", "backslash", "int65"])
def test_values_rego_cpp_cannot_print(setting: tuple[Any, Deployment, EmbeddedEngine, OpaEngine], zone: Any) -> None:
    # rego-cpp 1.5 (compiled bundle) writes such characters unescaped and wraps integers beyond 64
    # bits; the normaliser hands Rego a printable form, so both engines agree and still report them
    policy, prod, embedded, opa = setting
    resources = [copy.deepcopy(dict(r)) for r in prod.resources]
    changed = set()
    for resource in resources:
        if "zone" in resource.get("inputs", {}):
            resource["inputs"]["zone"] = zone
            if not str(resource.get("type", "")).startswith("pulumi:providers:"):
                changed.add(resource["urn"])
    altered = Deployment(**{**prod.__dict__, "resources": tuple(resources)})
    facts = normalise([altered], policy.data, today=TODAY)
    served = opa.decide(facts)
    assert embedded.decide(facts) == served
    reported = {d.urn for d in served if d.control.startswith("DPA-RES")}
    assert changed and changed <= reported
