"""The embedded engine: the Rego policies evaluated in-process by regopy (rego-cpp).

Built once, evaluated many times. regopy's interpreter is not safe to share between threads and
gains nothing from several (measured: two threads on two interpreters take as long as one), so
one interpreter serves every caller under a lock. Facts are evaluated in chunks of resources:
rego-cpp inserts into a set in time that grows with the set, so ten thousand decisions in one
query take minutes while five queries of two thousand take seconds; every rule judges one resource
or one stack, so the union of the chunks' decisions is the whole answer.
Any failure raises EngineError: the evaluation fails closed, never with an empty list.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Mapping

from dpaguard.engine.interface import DECISIONS_PATH, EngineError
from dpaguard.model import Decision
from dpaguard.normalise import chunks

DECISION_KEYS = frozenset({"control", "urn", "message", "status"})
STATUSES = frozenset({"violation", "undetermined"})
CHUNK_RESOURCES = 2000


def parse_decisions(value: Any, where: str) -> list[Decision]:
    """Decisions from the JSON an engine returned; EngineError on any malformed element."""
    if not isinstance(value, list):
        raise EngineError(f"{where}: decisions are not a list (got {type(value).__name__})")
    decisions = []
    for item in value:
        if not isinstance(item, dict) or set(item) != DECISION_KEYS:
            raise EngineError(f"{where}: malformed decision (expected keys {sorted(DECISION_KEYS)})")
        if not all(isinstance(item[k], str) and item[k] for k in ("control", "urn")) or not isinstance(item["message"], str):
            raise EngineError(f"{where}: malformed decision (control, urn and message must be text)")
        if item["status"] not in STATUSES:
            raise EngineError(f"{where}: malformed decision status {item['status']!r}")
        decisions.append(Decision(control=item["control"], urn=item["urn"], message=item["message"], status=item["status"]))
    return decisions


class EmbeddedEngine:
    """Evaluates the policy's Rego in-process with regopy."""

    name = "embedded"

    def __init__(self, policy: Any, *, chunk_resources: int = CHUNK_RESOURCES) -> None:
        try:
            import regopy
        except ImportError as error:  # pragma: no cover - a declared dependency
            raise EngineError(f"embedded engine: regopy is not installed ({error})") from None
        self._regopy = regopy
        self._lock = threading.Lock()
        self._chunk = chunk_resources
        self._query = "x = data." + DECISIONS_PATH.replace("/", ".")
        try:
            interpreter = regopy.Interpreter()
            interpreter.log_level = regopy.LogLevel.NONE
            interpreter.add_data({"dpa": policy.data})
            for name, text in policy.rego_modules.items():
                interpreter.add_module(name, text)
            self._bundle = interpreter.build(self._query)
        except regopy.RegoError as error:
            from dpaguard.policy import rego_error_line

            raise EngineError(f"embedded engine: {rego_error_line(error, policy.rego_modules)}") from None
        if not self._bundle.ok():
            raise EngineError("embedded engine: the policy bundle did not build")
        self._interpreter: Any = interpreter

    def evaluate(self, facts: Mapping[str, Any]) -> list[Decision]:
        """Every decision for these facts; EngineError when regopy cannot give a complete answer."""
        if self._interpreter is None:
            raise EngineError("embedded engine: evaluate() after close()")
        unique: dict[tuple[str, str, str, str], Decision] = {}
        for part in chunks(facts, self._chunk):
            for decision in self._evaluate_one(part):
                unique[(decision.control, decision.urn, decision.message, decision.status)] = decision
        return [unique[key] for key in sorted(unique)]

    def _evaluate_one(self, facts: Mapping[str, Any]) -> list[Decision]:
        with self._lock:
            try:
                # A Python value converts faster than rego-cpp parses the same JSON (measured 4x).
                self._interpreter.set_input(self._regopy.Input(facts))
                output = self._interpreter.query_bundle(self._bundle)
                text = str(output)
            except self._regopy.RegoError as error:
                raise EngineError(f"embedded engine: evaluation failed: {' '.join(str(error).split())[:300]}") from None
            except (TypeError, ValueError, KeyError) as error:
                # regopy converts the input value by type and parses rego-cpp's output as JSON, and rego-cpp does not escape every string it prints.
                raise EngineError(f"embedded engine: regopy returned output that is not JSON ({error.__class__.__name__})") from None
        try:
            answer = json.loads(text)
        except ValueError:
            raise EngineError(f"embedded engine: evaluation failed: {' '.join(text.split())[:300]}") from None
        results = answer if isinstance(answer, list) else [answer]
        if len(results) != 1 or not isinstance(results[0], dict) or "x" not in results[0].get("bindings", {}):
            raise EngineError(f"embedded engine: {DECISIONS_PATH} is undefined (did a module fail to load?)")
        return parse_decisions(results[0]["bindings"]["x"], f"embedded engine {DECISIONS_PATH}")

    def close(self) -> None:
        """Drop the interpreter."""
        with self._lock:
            self._interpreter = None
