"""The default engine: the real Open Policy Agent (OPA v1, Go), evaluated in this process.

OPA is the reference for what the Rego means. It is loaded through the PyPI wheel
`opa-golib-python-bindings` (`opa_bindings`: ctypes over a c-shared build of OPA's `v1/rego`
package), so no `opa` binary and no server are needed. The wheel declares Python >= 3.14 but has
no CPython ABI and runs on 3.11+: it is installed with `--ignore-requires-python` (docs/engines.md).

The modules and `data.dpa` are compiled once, when the policy is loaded (engine/compile.py, the
load's own check that the policy compiles), and the engine takes that instance; each evaluation is
one query of `data.dpaguard.main.decisions` with strict builtin errors (the wheel's default), so a
builtin that fails on odd input fails the query instead of silently dropping a decision.
OPA's time goes mostly into turning the JSON input into its values, node by node: resources equal
in every fact are sent once (`shaping.distinct`) and their decisions given to each. Large inputs
are split into parts of at most PART_RESOURCES resources, shared by two OPA instances evaluating at
once (ctypes releases the GIL during the call, and one Go evaluation uses one core), each taking its
parts in turn; every rule judges one resource or one stack, so the union of the parts' decisions is
the whole answer. The second instance is compiled by prepare(), while the caller normalises the facts.
Any failure raises EngineError: the evaluation fails closed, never with an empty list.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from dpaguard.engine.interface import DECISIONS_PATH, EngineError, PolicyLike
from dpaguard.engine.shaping import DecisionRow, decision_rows, distinct, part, rego_stacks, usable_cpus
from dpaguard.facts import Facts
from dpaguard.model import ControlId, Decision, DecisionStatus, Urn

WHEEL = "opa-golib-python-bindings"
# Above this many resources the input is split across THREADS instances (below it the second
# instance's JSON and start cost more than the parallel evaluation saves).
PARALLEL_ABOVE = 2000
THREADS = min(2, usable_cpus())
# Each instance evaluates its share in parts of at most this many resources, one after another: Go's
# heap then holds one part's input and answer, not the whole estate's, and its collector, whose every
# cycle walks the live heap, does not grow faster than the estate (40,000 resources in one part took
# twice the CPU of 4,000 ten times over); Python builds each part's input only when it is sent.
PART_RESOURCES = 2000
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


_EMPTY_INPUT: dict[str, Any] = {"resources": [], "stacks": [], "index": {}, "context": {}}


def compile_policy(modules: Mapping[str, str], data: Mapping[str, Any]) -> Any:
    """One OPA instance holding every module and the DPA data, compiled; the bindings' OpaError when they do not compile."""
    bindings = load_bindings()
    opa = bindings.OpaEngine()
    try:
        opa.add_data({"dpa": dict(data)})
        for name, text in sorted(modules.items()):
            opa.add_policy(name, text)
        # Compile now (the bindings prepare a query when it is first evaluated): a module that does
        # not compile is an error of the policy, not of a run.
        opa.eval_query(_QUERY, _EMPTY_INPUT)
    except bindings.OpaError:
        opa.close()
        raise
    return opa


class CompiledPolicy:
    """The OPA instance the policy's load compiled, handed to the first engine built from that same policy."""

    def __init__(self, opa: Any, modules: Mapping[str, str], data: Mapping[str, Any]) -> None:
        self._opa: Any = opa
        self._modules = dict(modules)
        self._data = data
        self._lock = threading.Lock()

    def take(self, modules: Mapping[str, str], data: Mapping[str, Any]) -> Any | None:
        """The compiled instance if it holds exactly these modules and data and no engine has it yet, else None."""
        with self._lock:
            opa, self._opa = self._opa, None
        if opa is None:
            return None
        if modules != self._modules or data != self._data:  # a policy copied with other modules or data
            opa.close()
            return None
        return opa


class OpaInProcessEngine:
    """Evaluates the policy's Rego with OPA itself, in this process (the default engine)."""

    name = "opa"
    notices: tuple[str, ...] = ()

    def __init__(
        self, policy: PolicyLike, *, threads: int = THREADS, parallel_above: int = PARALLEL_ABOVE, distinct_resources: bool = True,
        part_resources: int = PART_RESOURCES,
    ) -> None:
        self._bindings = load_bindings()
        self._policy = policy
        self._root: Path | None = getattr(policy, "root", None)
        self._threads = max(1, threads)
        self._parallel_above = parallel_above
        self._part_resources = max(1, part_resources)
        self._distinct = distinct_resources
        self._lock = threading.Lock()
        compiled = getattr(policy, "compiled", None)
        taken = compiled.take(policy.rego_modules, policy.data) if isinstance(compiled, CompiledPolicy) else None
        # part -> the instance evaluating it; the second is compiled only when an evaluation is split
        self._instances: dict[int, Any] = {0: taken if taken is not None else self._instance()}
        self._pool: ThreadPoolExecutor | None = None
        self._compiling: dict[int, Future[Any]] = {}  # part -> prepare()'s compile of its instance
        self._closed = False

    def _instance(self) -> Any:
        """One compiled OPA: every module and the DPA data."""
        try:
            return compile_policy(self._policy.rego_modules, self._policy.data)
        except self._bindings.OpaError as error:
            raise EngineError(f"OPA engine: {error_line(error, self._root)}") from None

    def prepare(self, resources: int) -> None:
        """Compile the second instance now, in an evaluation thread, if an evaluation of this many resources may split.

        The compile (Go, without the GIL) then runs on the other core while the caller normalises the facts,
        instead of before the second part's evaluation. How many distinct resources are sent is known only once
        the facts are: an estate of many equal resources compiles an instance it does not use (about 0.1 s of
        CPU beside the normaliser). A failure is left to decide(), which compiles again or fails closed.
        """
        if self._threads < 2 or resources <= self._parallel_above:
            return
        with self._lock:
            if self._closed or 1 in self._instances or 1 in self._compiling:
                return
            self._compiling[1] = self._started_pool().submit(self._compiled_at, 1)

    def _started_pool(self) -> ThreadPoolExecutor:
        """The evaluation threads (started on first use); call with the lock held."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="dpaguard-opa")
        return self._pool

    def _instance_at(self, position: int) -> Any:
        """The instance evaluating part `position`: the one prepare() compiles, or compiled now by the first evaluation to need it."""
        with self._lock:
            if self._closed:
                raise EngineError("OPA engine: the engine is closed")
            if position in self._instances:
                return self._instances[position]
            compiling = self._compiling.pop(position, None)
        # prepare()'s compile, unless it has not started (then it never will, and this thread compiles)
        if compiling is not None and not compiling.cancel():
            try:
                return compiling.result()
            except EngineError:
                if self._closed:
                    raise
                # else compile again here: the failure, if it is the policy's, is said by this compile
        return self._compiled_at(position)

    def _compiled_at(self, position: int) -> Any:
        """A new instance for part `position`, kept unless another thread kept one first or the engine closed meanwhile."""
        opa = self._instance()
        with self._lock:
            if not self._closed:
                if position not in self._instances:  # else another evaluation compiled it meanwhile
                    self._instances[position] = opa
                    return opa
                ours, opa = opa, self._instances[position]
            else:
                ours = opa
        ours.close()
        if self._closed:
            raise EngineError("OPA engine: the engine is closed")
        return opa

    def decide(self, facts: Facts) -> list[Decision]:
        """Every decision for these facts; EngineError when OPA cannot give a complete answer."""
        urns = [r["urn"] for r in facts["resources"]]
        members: list[list[int]] | None = None
        if self._distinct:
            facts, members = distinct(facts)
        total = len(facts["resources"])
        lanes = self._threads if total > self._parallel_above and self._threads > 1 else 1
        size = max(1, min(self._part_resources, -(-total // lanes)))
        bounds = [(start, min(start + size, total)) for start in range(0, max(total, 1), size)]
        lanes = min(lanes, len(bounds))
        stacks = rego_stacks(facts)

        def lane(instance: int) -> list[tuple[int, int, list[DecisionRow]]]:
            # One instance evaluates its parts in turn, each built only when it is sent.
            return [(start, stop, self._decide_part(instance, part(facts, start, stop, stacks))) for start, stop in bounds[instance::lanes]]

        if lanes > 1:
            with self._lock:
                pool = self._started_pool()
            answers = [answer for done in pool.map(lane, range(lanes)) for answer in done]
        else:
            answers = lane(0)
        unique: dict[tuple[ControlId, str, str, DecisionStatus], str | None] = {}  # -> the decision's config key
        for start, stop, rows in answers:
            for control, urn, message, status, key in rows:
                if not urn.startswith("@"):  # a stack's decision
                    unique[(control, urn, message, status)] = key
                    continue
                position = urn[1:]
                if not (position.isascii() and position.isdigit()) or int(position) >= stop - start:
                    raise EngineError(f"OPA engine: a decision names an unknown resource {urn!r}")
                for member in members[start + int(position)] if members is not None else (start + int(position),):
                    unique[(control, urns[member], message, status)] = key
        return [Decision(control=control, urn=Urn(urn), message=message, status=status, config_key=key)
                for (control, urn, message, status), key in sorted(unique.items())]

    def _decide_part(self, instance: int, part: Mapping[str, Any]) -> list[DecisionRow]:
        # Each resource travels under a short name ("@<position in the part>"), given its URN back by
        # `decide`: the input crosses into Go as JSON, and URNs were a sixth of it. No rule prints a
        # resource's own URN (the conformance suite compares with regopy, which sees the real ones).
        part = {**part, "resources": [{**r, "urn": f"@{i}"} for i, r in enumerate(part["resources"])]}
        opa = self._instance_at(instance)
        try:
            # The input travels as JSON; NaN or Infinity (not JSON) is refused by OPA: fail closed.
            bindings = opa.eval_query(_QUERY, part)
        except self._bindings.OpaError as error:
            raise EngineError(f"OPA engine: evaluation failed: {error_line(error, self._root)}") from None
        if len(bindings) != 1 or "x" not in bindings[0]:
            raise EngineError(f"OPA engine: data.{DECISIONS_PATH.replace('/', '.')} is undefined (did a module fail to load?)")
        return decision_rows(bindings[0]["x"], f"OPA engine data.{DECISIONS_PATH.replace('/', '.')}")

    def close(self) -> None:
        """Release the OPA instances and the evaluation threads."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            instances, self._instances = list(self._instances.values()), {}
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)  # a compile prepare() queued and nothing took is not started
        for opa in instances:
            opa.close()

