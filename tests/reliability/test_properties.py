"""Property-based: hostile deployments never crash the normaliser or the engines, and residency fails closed.

Each example is a generated stack (see strategies.py). The properties:
- normalising it returns facts or raises a DpaguardError, and the facts hold no secret value;
- evaluating it (embedded engine) reports every custom Scaleway resource whose effective region or
  zone is not an approved French value (foreign, garbage, a wrong type, a secret, unknown, or
  undeterminable) under a residency control (DPA-RES-001/002), in every environment; and reports
  no residency violation on a resource that is demonstrably in France;
- the same holds after the stack is written as a stack export and read back (`audit --state`'s path);
(The OPA engine gives the embedded engine's decisions on generated input: tests/engine/test_opa_properties.py.)
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dpaguard.errors import DpaguardError
from dpaguard.findings import evaluate
from dpaguard.model import Deployment
from dpaguard.normalise import normalise
from dpaguard.source.state import load_state, to_export

from strategies import CANARY, demonstrably_french, deployments, judged_scaleway

TODAY = dt.date(2026, 11, 27)
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")  # reprs of huge examples
RESIDENCY = {"DPA-RES-001", "DPA-RES-002"}


def _check_fail_closed(stacks: list[Deployment], policy: Any, engine: Any, tally: Counter[str]) -> None:
    try:
        evaluation = evaluate(stacks, policy, engine, today=TODAY)
    except DpaguardError as error:
        # Stopping (exit 2, one line) is failing closed too: regopy cuts strings at a NUL and cannot print
        # a lone surrogate, and the pipeline refuses an answer it cannot match to the input.
        line = error.one_line()
        assert CANARY not in line and "\n" not in line
        assert "embedded engine" in line or "no evaluated stack" in line, line
        tally["stopped: " + line.split(":")[0]] += 1
        return
    assert CANARY not in json.dumps([f.message for f in evaluation.findings])
    residency = {(f.urn, f.status) for f in evaluation.findings if f.control in RESIDENCY}
    reported = {urn for urn, _ in residency}
    violations = {urn for urn, status in residency if status == "violation"}
    for deployment in stacks:
        for raw, info in judged_scaleway(deployment):
            french = demonstrably_french(raw, info, deployment)
            if not french:
                assert raw["urn"] in reported, f"fail-open: {raw['urn']!r} ({raw.get('type')}) not reported: {raw.get('inputs')!r:.300}"
            elif not any(r["urn"] == raw["urn"] and not demonstrably_french(r, i, deployment) for r, i in judged_scaleway(deployment)):
                assert raw["urn"] not in violations, f"{raw['urn']!r} is in France but reported"


@settings(max_examples=200)
@given(stacks=st.lists(deployments(), min_size=1, max_size=3))
def test_normaliser_never_crashes_and_its_facts_hold_no_secret(stacks: list[Deployment], policy: Any, tally: Counter[str]) -> None:
    tally["normaliser"] += 1
    try:
        facts = normalise(stacks, policy.data, today=TODAY)
    except DpaguardError as error:
        assert CANARY not in error.one_line()
        return
    text = json.dumps(facts)
    assert CANARY not in text
    assert len(facts["resources"]) <= sum(len(d.resources) for d in stacks)


@settings(max_examples=150)
@given(stacks=st.lists(deployments(), min_size=1, max_size=2))
def test_embedded_engine_never_crashes_and_residency_fails_closed(
    stacks: list[Deployment], policy: Any, engine: Any, tally: Counter[str]
) -> None:
    tally["embedded engine"] += 1
    _check_fail_closed(stacks, policy, engine, tally)


@settings(max_examples=100)
@given(deployment=deployments())
def test_a_stack_export_read_back_still_fails_closed(deployment: Deployment, policy: Any, engine: Any, tally: Counter[str]) -> None:
    tally["state round trip"] += 1
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "state.json"
        try:
            path.write_text(json.dumps(to_export(deployment)), encoding="utf-8")
        except (TypeError, ValueError, DpaguardError):
            return  # not representable as JSON (e.g. a non-string key): no export to audit
        try:
            loaded = load_state(path)
        except DpaguardError as error:
            assert CANARY not in error.one_line() and "\n" not in error.one_line()
            return
    assert CANARY not in json.dumps([list(loaded.resources), dict(loaded.config)], default=str)
    _check_fail_closed([loaded], policy, engine, tally)


