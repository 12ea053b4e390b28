"""The default engine: the real Open Policy Agent (OPA v1, Go), evaluated in this process.

OPA is the reference for what the Rego means. It is loaded through the PyPI wheel
`opa-golib-python-bindings` (`opa_bindings`: ctypes over a c-shared build of OPA's `v1/rego`
package), so no `opa` binary and no server are needed. The wheel declares Python >= 3.14 but has
no CPython ABI and runs on 3.11+: it is installed with `--ignore-requires-python` (README).

The modules and `data.dpa` are compiled once when the engine is built; each evaluation is one
query of `data.dpaguard.main.decisions` with strict builtin errors (the wheel's default), so a
builtin that fails on odd input fails the query instead of silently dropping a decision.
Large inputs are split into parts evaluated by two OPA instances at once (ctypes releases the
GIL during the call, and one Go evaluation uses one core); every rule judges one resource or one
stack, so the union of the parts' decisions is the whole answer.
Any failure raises EngineError: the evaluation fails closed, never with an empty list.
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dpaguard.engine.interface import DECISIONS_PATH, EngineError, PolicyLike
from dpaguard.engine.shaping import chunks, parse_decisions, usable_cpus
from dpaguard.model import Decision, Urn

WHEEL = "opa-golib-python-bindings"
# Above this many resources the input is split across THREADS instances (below it the second
# instance's JSON and start cost more than the parallel evaluation saves).
PARALLEL_ABOVE = 2000
THREADS = min(2, usable_cpus())
_QUERY = "x = data." + DECISIONS_PATH.replace("/", ".")
# "rego/x.rego:19: rego_parse_error: unexpected ..." inside an OpaError message
_LOCATION = re.compile(r"(?P<file>[^\s:]+\.rego):(?P<row>\d+): (?P<kind>[a-z_]+): (?P<message>[^\n]*)")


# Go's garbage collector runs at 100 % heap growth by default; converting a large input into OPA's
# values allocates a great deal and is then thrown away. At 200 the evaluation of 10,000 resources
# took a quarter less CPU for about 100 MB more. Read once, when the library loads; a GOGC set by
# the user wins.
GOGC = "200"


def load_bindings() -> Any:
    """The `opa_bindings` module with its native library loaded; EngineError when it cannot be."""
    os.environ.setdefault("GOGC", GOGC)
    try:
        import opa_bindings
        from opa_bindings import engine as bindings_engine

        bindings_engine._get_lib()
    except ImportError as error:
        raise EngineError(f"OPA engine: {WHEEL} is not installed ({error})") from None
    except OSError as error:  # the wheel's shared library does not load on this platform
        raise EngineError(f"OPA engine: the {WHEEL} library does not load here ({' '.join(str(error).split())[:200]})") from None
    return opa_bindings


def error_line(error: Exception, root: Path | None) -> str:
    """An OPA compile or evaluation error as `file:row: kind: message` (the first, plus how many more), file under `root`."""
    text = str(getattr(error, "message", "") or error)
    found = list(_LOCATION.finditer(text))
    if not found:
        return " ".join(text.split())[:300]
    first = found[0]
    place = first["file"] if root is None else f"{root}/{first['file']}"
    # OPA quotes the line and puts a caret under the column: "\n\t<line>\n\t   ^".
    caret = re.match(r"\n\t[^\n]*\n\t( *)\^", text[first.end() :])
    column = f":{len(caret.group(1)) + 1}" if caret else ""
    more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
    return f"{place}:{first['row']}{column}: {first['kind']}: {' '.join(first['message'].split())[:240]}{more}"


class OpaInProcessEngine:
    """Evaluates the policy's Rego with OPA itself, in this process (the default engine)."""

    name = "opa"
    notices: tuple[str, ...] = ()

    def __init__(self, policy: PolicyLike, *, threads: int = THREADS, parallel_above: int = PARALLEL_ABOVE) -> None:
        self._bindings = load_bindings()
        self._policy = policy
        self._root: Path | None = getattr(policy, "root", None)
        self._threads = max(1, threads)
        self._parallel_above = parallel_above
        self._lock = threading.Lock()
        self._instances: list[Any] = [self._instance()]
        self._pool: ThreadPoolExecutor | None = None

    def _instance(self) -> Any:
        """One compiled OPA: every module and the DPA data."""
        bindings = self._bindings
        opa = bindings.OpaEngine()
        try:
            opa.add_data({"dpa": dict(self._policy.data)})
            for name, text in sorted(self._policy.rego_modules.items()):
                opa.add_policy(name, text)
            # Compile now: a module that does not compile is an error of the policy, not of a run.
            opa.eval_query(_QUERY, {"resources": [], "stacks": [], "index": {}, "context": {}})
        except bindings.OpaError as error:
            opa.close()
            raise EngineError(f"OPA engine: {error_line(error, self._root)}") from None
        return opa

    def prepare(self, resources: int) -> None:
        """Compile the second instance now when an evaluation of this size will use it."""
        if resources > self._parallel_above and self._threads > 1:
            with self._lock:
                while len(self._instances) < self._threads:
                    self._instances.append(self._instance())

    def evaluate(self, facts: Mapping[str, Any]) -> list[Decision]:
        """Every decision for these facts; EngineError when OPA cannot give a complete answer."""
        total = len(facts["resources"])
        if total > self._parallel_above and self._threads > 1:
            self.prepare(total)
            parts = chunks(facts, -(-total // self._threads))
            with self._lock:
                instances = list(self._instances)
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="dpaguard-opa")
                pool = self._pool
            answers = list(pool.map(self._evaluate_one, instances[: len(parts)], parts))
        else:
            answers = [self._evaluate_one(self._instances[0], part) for part in chunks(facts, max(1, total))]
        unique: dict[tuple[str, str, str, str], Decision] = {}
        for answer in answers:
            for decision in answer:
                unique[(decision.control, decision.urn, decision.message, decision.status)] = decision
        return [unique[key] for key in sorted(unique)]

    def _evaluate_one(self, opa: Any, part: Mapping[str, Any]) -> list[Decision]:
        # Each resource travels under a short name ("@<position>") and its decisions are given its URN
        # back: the input crosses into Go as JSON, and URNs were a sixth of it. No rule prints a
        # resource's own URN (the conformance suite compares with regopy, which sees the real ones).
        urns = [r["urn"] for r in part["resources"]]
        part = {**part, "resources": [{**r, "urn": f"@{i}"} for i, r in enumerate(part["resources"])]}
        try:
            # The input travels as JSON; NaN or Infinity (not JSON) is refused by OPA: fail closed.
            bindings = opa.eval_query(_QUERY, part)
        except self._bindings.OpaError as error:
            raise EngineError(f"OPA engine: evaluation failed: {error_line(error, self._root)}") from None
        if len(bindings) != 1 or "x" not in bindings[0]:
            raise EngineError(f"OPA engine: data.{DECISIONS_PATH.replace('/', '.')} is undefined (did a module fail to load?)")
        decisions = parse_decisions(bindings[0]["x"], f"OPA engine data.{DECISIONS_PATH.replace('/', '.')}")
        return [_with_urn(d, urns) for d in decisions]

    def close(self) -> None:
        """Release the OPA instances and the evaluation threads."""
        with self._lock:
            pool, self._pool = self._pool, None
            instances, self._instances = self._instances, []
        if pool is not None:
            pool.shutdown(wait=True)
        for opa in instances:
            opa.close()


def _with_urn(decision: Decision, urns: list[str]) -> Decision:
    """The decision with its resource's URN in place of the short name it travelled under."""
    if not decision.urn.startswith("@"):
        return decision  # a stack's decision
    try:
        urn = urns[int(decision.urn[1:])]
    except (ValueError, IndexError):
        raise EngineError(f"OPA engine: a decision names an unknown resource {decision.urn!r}") from None
    return dataclasses.replace(decision, urn=Urn(urn))
