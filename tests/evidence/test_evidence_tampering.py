"""Property: whatever single change is made to an evidence log, `verify` reports it (tampered) or
refuses the file (malformed) — it never says intact."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpaguard.errors import InputError
from dpaguard.evidence import append, verify
from dpaguard.model import Finding, Result, StackSummary, Urn

EXAMPLES = 200


def _result(run: int) -> Result:
    findings = tuple(
        Finding(control=f"DPA-RES-00{i}", category="residency", clause="Appendix C §1.1", severity="high",  # type: ignore[arg-type]
                enforcement="mandatory", stack="prod", urn=Urn(f"urn:pulumi:prod::p::t::r{i}"), type="t",
                name=f"r{i}", message=f"m{i}", waived=(i == run))
        for i in range(run + 1)
    )
    stack = StackSummary(name="prod", project="p", environment="prod", source="state", resources=run + 3, config_sha256="c" * 64)
    return Result(tool_version="0.1.0", policy_sha256="ab" * 32, stacks=(stack,), controls=(), findings=findings,
                  generated_at=f"2026-11-0{run + 1}T00:00:00Z")


def _log() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "e.jsonl"
        for run in range(4):
            append(path, _result(run))
        return path.read_bytes()


LOG = _log()
LINES = LOG.splitlines(keepends=True)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


def _verdict(raw: bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "e.jsonl"
        path.write_bytes(raw)
        try:
            return "intact" if verify(path).intact else "tampered"
        except InputError:
            return "malformed"


def test_the_untouched_log_is_intact() -> None:
    assert _verdict(LOG) == "intact"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_field_edit_is_seen(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(LINES) - 1), label="line")
    entry = json.loads(LINES[index])
    path = data.draw(st.sampled_from(_leaves(entry)), label="field")
    target = entry
    for key in path[:-1]:
        target = target[key]
    old = target[path[-1]]
    new = data.draw(st.one_of(st.integers(), st.text(max_size=70), st.booleans(), st.none()).filter(
        lambda v: v != old or type(v) is not type(old)), label="new value")
    target[path[-1]] = new
    lines = list(LINES)
    lines[index] = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    assert _verdict(b"".join(lines)) != "intact"


@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.data())
def test_any_byte_change_is_seen(data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(LOG) - 1), label="byte")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != LOG[position]), label="value")
    assert _verdict(LOG[:position] + bytes([byte]) + LOG[position + 1 :]) != "intact"


@settings(max_examples=EXAMPLES, deadline=None)
@given(order=st.permutations(range(len(LINES))), keep=st.integers(1, len(LINES)))
def test_any_reordering_or_removal_is_seen(order: list[int], keep: int) -> None:
    chosen = order[:keep]
    if chosen == list(range(keep)):
        return  # the log's own prefix: only an anchor can tell it was cut (tested elsewhere)
    assert _verdict(b"".join(LINES[i] for i in chosen)) != "intact"
