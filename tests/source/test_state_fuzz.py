"""Property-based: whatever JSON a state file holds, load_state returns a redacted deployment or one InputError."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpaguard.errors import InputError
from dpaguard.model import SECRET_SIG, SECRET_SIG_KEY
from dpaguard.source.state import load_state

pytestmark = pytest.mark.e2e  # a property test

CANARY = "CANARY-FUZZ-7731"
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
secrets = st.builds(lambda k: {SECRET_SIG_KEY: SECRET_SIG, k: CANARY}, st.sampled_from(["plaintext", "value", "ciphertext"]))
names = st.one_of(st.text(max_size=12), st.sampled_from(["password", "apiKey", "region", "tags", "token"]))
values = st.recursive(
    st.one_of(scalars, secrets),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=4)),
    max_leaves=30,
)
urns = st.builds(
    lambda stack, kind, name: f"urn:pulumi:{stack}::proj::{kind}::{name}",
    st.sampled_from(["prod", "dev"]),
    st.sampled_from(["scaleway:object/bucket:Bucket", "pulumi:providers:scaleway", "a:b:C"]),
    st.text(min_size=1, max_size=8).filter(lambda n: "::" not in n),
)
resources = st.fixed_dictionaries(
    {"urn": urns, "type": st.sampled_from(["scaleway:object/bucket:Bucket", "pulumi:providers:scaleway"])},
    optional={"inputs": values, "outputs": values, "custom": st.booleans(), "parent": st.text(max_size=10)},
)
exports = st.one_of(
    values,
    st.builds(lambda rs, v: {"version": v, "deployment": {"resources": rs}}, st.lists(resources, max_size=5), st.sampled_from([3, 3, 2, "3"])),
    st.builds(lambda rs: {"resources": rs}, st.lists(st.one_of(resources, values), max_size=4)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports)
def test_load_state_never_crashes_and_never_keeps_a_secret(content: Any) -> None:
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "state.json"
        path.write_text(json.dumps(content))
        try:
            deployment = load_state(path)
        except InputError as error:
            assert "\n" not in error.one_line() and CANARY not in error.one_line()
            return
        assert deployment.resources
        assert CANARY not in json.dumps([deployment.resources, dict(deployment.config)])
