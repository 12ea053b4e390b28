"""The embedded engine: the Rego policies evaluated in-process by regopy (rego-cpp).

Built once, evaluated many times. regopy's interpreter is not safe to share between threads and
gains nothing from several (measured: two threads on two interpreters take as long as one), so
one interpreter serves every caller under a lock. Facts are evaluated in chunks of resources:
rego-cpp inserts into a set in time that grows with the set, so ten thousand decisions in one
query take minutes while twenty queries of five hundred take seconds; every rule judges one resource
or one stack, so the union of the chunks' decisions is the whole answer. Above PARALLEL_ABOVE
resources PROCESSES processes share the chunks: this one and PROCESSES - 1 spawned workers, each
with its own interpreter built once from the policy (regopy holds the GIL: only processes run two
queries at once). Workers take chunks from the front, two in flight each, this process from the
back, so none waits long for another. close() stops the workers.
Any failure raises EngineError: the evaluation fails closed, never with an empty list.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, replace
from typing import Any

from dpaguard.engine.compile import rego_error_line
from dpaguard.engine.interface import DECISIONS_PATH, EngineError, RegoPolicy
from dpaguard.engine.shaping import chunks, parse_decisions, usable_cpus
from dpaguard.facts import Facts, ForeignOwner
from dpaguard.markers import UNPRINTABLE
from dpaguard.model import Decision, Urn

# Set insertion is quadratic: on an estate with one decision for every four resources, chunks of 500
# took 25 % less CPU than chunks of 2,000 (1,000: 20 %; 250: no better than 500); elsewhere the same.
CHUNK_RESOURCES = 500
# Above this many resources the chunks are evaluated by worker processes (regopy holds the GIL, so
# threads cannot share the work); below it, starting them (about 0.25 s) would cost more than they
# save: at 2,000 resources one interpreter already takes over a second on a decision-heavy estate.
PARALLEL_ABOVE = 2000


# Processes that evaluate a large input at once, this one included: one per usable CPU, at most
# four (each worker holds its own interpreter, about 95 MB); one where the process may use a single
# CPU, since a worker would only add its start-up.
PROCESSES = min(4, usable_cpus())


class _InputBuilder:
    """Builds regopy's input node by node as regopy.Input(value) does, with less Python per node.

    regopy walks the value with abstract-class checks and a wrapper per node; at ten thousand
    resources that walk was a third of the evaluation. Here: exact-type dispatch, rego-cpp's input
    functions called directly, each distinct string encoded once. Same calls, same input.
    """

    def __init__(self, regopy: Any) -> None:
        import ctypes

        from regopy import rego_shared

        self._shared = rego_shared
        library = rego_shared.rego

        def function(name: str, *argtypes: Any) -> Any:
            # A function object of our own, so regopy's (and its argtypes) stay as they are.
            pointer = library._FuncPtr((name, library))
            pointer.restype = ctypes.c_uint32
            pointer.argtypes = [ctypes.c_void_p, *argtypes]
            return pointer

        self._string = function("regoInputString", ctypes.c_char_p)
        self._int = function("regoInputInt", ctypes.c_int64)
        self._float = function("regoInputFloat", ctypes.c_double)
        self._bool = function("regoInputBoolean", ctypes.c_bool)
        self._null = function("regoInputNull")
        self._item = function("regoInputObjectItem")
        self._object = function("regoInputObject", ctypes.c_uint32)
        self._array = function("regoInputArray", ctypes.c_uint32)
        self._set = function("regoInputSet", ctypes.c_uint32)
        self._input_class = regopy.Input

    def build(self, value: Any) -> Any:
        """A regopy.Input holding `value` (JSON types: dict with text keys, list, str, int, float, bool, None)."""
        shared = self._shared
        string, integer, real, boolean, null = self._string, self._int, self._float, self._bool, self._null
        item, obj, array, set_ = self._item, self._object, self._array, self._set
        encoded: dict[str, bytes] = {}
        handle = shared.rego_new_input()

        def text(value: str) -> int:
            data = encoded.get(value)
            if data is None:
                data = encoded[value] = value.encode("utf-8")
            return int(string(handle, data))

        def add(value: Any) -> int:
            kind = type(value)
            if kind is str:
                return text(value)
            if kind is dict:
                for key, member in value.items():
                    if (text(key) if type(key) is str else add(key)) or add(member) or item(handle):
                        return 1
                return int(obj(handle, len(value)))
            if kind is list or kind is tuple:
                for member in value:
                    if add(member):
                        return 1
                return int(array(handle, len(value)))
            if kind is bool:
                return int(boolean(handle, value))
            if kind is int:
                return int(integer(handle, value))
            if value is None:
                return int(null(handle))
            if kind is float:
                return int(real(handle, value))
            return other(value)

        def other(value: Any) -> int:
            # Subclasses and abstract collections, in regopy's own order of checks.
            if isinstance(value, int):
                return int(integer(handle, value))
            if isinstance(value, float):
                return int(real(handle, value))
            if isinstance(value, str):
                return text(str(value))
            if isinstance(value, Set):
                for member in value:
                    if add(member):
                        return 1
                return int(set_(handle, len(value)))
            if isinstance(value, Mapping):
                return add(dict(value.items()))
            if isinstance(value, Sequence):
                return add(list(value))
            raise ValueError(f"Cannot convert object of type {type(value)} to rego input")

        try:
            failed = add(value)
        except BaseException:
            shared.rego_free_input(handle)
            raise
        if failed:
            shared.rego_free_input(handle)
            raise shared.RegoError("Unable to create input", failed)
        built = self._input_class.__new__(self._input_class)
        built._impl = handle
        return built


class _PrintableUrns:
    """URNs that rego-cpp would print unescaped into its JSON answer, swapped for placeholders.

    A resource may be named with a double quote, a backslash or a control character; rego-cpp
    prints strings as they are, so its answer would not parse and the run would fail closed. Other
    strings are made printable by the normaliser, but a URN is the decision's identity: it is
    swapped for `urn:dpaguard:unprintable:<n>:` in the input and swapped back in the decisions
    (their URN and message).
    """

    def __init__(self) -> None:
        self.originals: dict[str, str] = {}
        self._placeholders: dict[str, str] = {}

    def _safe(self, urn: Any) -> Any:
        if not isinstance(urn, str) or not UNPRINTABLE.search(urn):
            return urn
        placeholder = self._placeholders.get(urn)
        if placeholder is None:
            placeholder = self._placeholders[urn] = f"urn:dpaguard:unprintable:{len(self._placeholders)}:"
            self.originals[placeholder] = urn
        return placeholder

    def _owner(self, owner: ForeignOwner) -> ForeignOwner:
        swapped = owner.copy()
        swapped["urn"] = self._safe(owner["urn"])
        return swapped

    def swap(self, facts: Facts) -> Facts:
        """The facts with every unprintable URN (of a stack, a resource, a resource's foreign owner) swapped; the same object when none is."""
        unsafe = UNPRINTABLE.search
        stacks = facts["stacks"]
        resources = facts["resources"]
        if not any(unsafe(s["urn"]) for s in stacks) and not any(
            unsafe(r["urn"]) or any(unsafe(o["urn"]) for o in r.get("foreign", ())) for r in resources
        ):
            return facts
        swapped_resources = []
        for resource in resources:
            resource = resource.copy()
            resource["urn"] = self._safe(resource["urn"])
            if resource.get("foreign"):
                resource["foreign"] = [self._owner(owner) for owner in resource["foreign"]]
            swapped_resources.append(resource)
        swapped_stacks = []
        for stack in stacks:
            stack = stack.copy()
            stack["urn"] = self._safe(stack["urn"])
            swapped_stacks.append(stack)
        return Facts(stacks=swapped_stacks, resources=swapped_resources, index=facts["index"], context=facts["context"])

    def restore(self, decision: Decision) -> Decision:
        """The decision with its URN, and any URN its message quotes, as they were."""
        if not self.originals:
            return decision
        message = decision.message
        for placeholder, urn in self.originals.items():
            if placeholder in message:
                message = message.replace(placeholder, urn)
        return replace(decision, urn=Urn(self.originals.get(decision.urn, decision.urn)), message=message)


@dataclass(frozen=True)
class _PolicyParts:
    """The two parts of a policy the engine reads, to rebuild it in a worker process."""

    data: Mapping[str, Any]
    rego_modules: Mapping[str, str]


_worker_engine: EmbeddedEngine | None = None


def _start_worker(data: Mapping[str, Any], rego_modules: Mapping[str, str]) -> None:
    """A worker process's one interpreter, built once from the policy's modules and data."""
    import multiprocessing

    global _worker_engine
    parent = multiprocessing.parent_process()
    if parent is not None:
        # A killed parent (the Pulumi engine stops the pack by signal) never tells its pool to shut
        # down, and each worker holds the task queue's write end, so it would wait for work forever.
        threading.Thread(target=_exit_with, args=(parent,), name="dpaguard-parent-watch", daemon=True).start()
    _worker_engine = EmbeddedEngine(_PolicyParts(data, rego_modules), processes=1)


def _exit_with(parent: Any) -> None:
    parent.join()
    os._exit(1)


def _ready() -> bool:
    """A task that only makes the pool start a worker (EmbeddedEngine.prepare)."""
    return _worker_engine is not None


def _decide_in_worker(part: Mapping[str, Any]) -> tuple[bool, Any]:
    """(True, decisions) or (False, the EngineError's message): a worker's answer for one chunk."""
    if _worker_engine is None:
        return False, "embedded engine: worker process has no interpreter"
    try:
        return True, _worker_engine._decide_part(part)
    except EngineError as error:
        return False, str(error)


_QUERY = "x = data." + DECISIONS_PATH.replace("/", ".")


def build_interpreter(regopy: Any, modules: Mapping[str, str], data: Mapping[str, Any]) -> tuple[Any, Any]:
    """One regopy interpreter holding every module and the DPA data, and its bundle; regopy.RegoError when they do not compile."""
    interpreter = regopy.Interpreter()
    interpreter.log_level = regopy.LogLevel.NONE
    # A builtin that fails (a bad sprintf, a type error) would otherwise make its rule
    # undefined and silently drop a decision: fail closed, as the OPA engine's strict query does.
    interpreter.strict_built_in_errors = True
    interpreter.add_data({"dpa": data})
    for name, text in modules.items():
        interpreter.add_module(name, text)
    return interpreter, interpreter.build(_QUERY)


class CompiledRego:
    """The regopy interpreter the policy's load built (where OPA cannot load), handed to the first engine built from that same policy."""

    def __init__(self, interpreter: Any, bundle: Any, modules: Mapping[str, str], data: Mapping[str, Any]) -> None:
        self._built: tuple[Any, Any] | None = (interpreter, bundle)
        self._modules = dict(modules)
        self._data = data
        self._lock = threading.Lock()

    def take(self, modules: Mapping[str, str], data: Mapping[str, Any]) -> tuple[Any, Any] | None:
        """(interpreter, bundle) if they hold exactly these modules and data and no engine has them yet, else None."""
        with self._lock:
            built, self._built = self._built, None
        if built is None or modules != self._modules or data != self._data:
            return None
        return built


class EmbeddedEngine:
    """Evaluates the policy's Rego in-process with regopy (large inputs in worker processes)."""

    name = "regopy"
    notices: tuple[str, ...] = ()

    def __init__(
        self, policy: RegoPolicy, *, chunk_resources: int = CHUNK_RESOURCES, processes: int = PROCESSES, parallel_above: int = PARALLEL_ABOVE
    ) -> None:
        try:
            import regopy
        except ImportError as error:  # pragma: no cover - a declared dependency
            raise EngineError(f"embedded engine: regopy is not installed ({error})") from None
        self._regopy = regopy
        self._lock = threading.Lock()
        self._chunk = chunk_resources
        compiled = getattr(policy, "compiled", None)
        taken = compiled.take(policy.rego_modules, policy.data) if isinstance(compiled, CompiledRego) else None
        if taken is None:
            try:
                taken = build_interpreter(regopy, policy.rego_modules, policy.data)
            except regopy.RegoError as error:
                raise EngineError(f"embedded engine: {rego_error_line(error, policy.rego_modules)}") from None
        interpreter, self._bundle = taken
        if not self._bundle.ok():
            raise EngineError("embedded engine: the policy bundle did not build")
        self._interpreter: Any = interpreter
        self._inputs = _InputBuilder(regopy)
        self._policy = (policy.data, dict(policy.rego_modules))
        self._processes = processes
        self._parallel_above = parallel_above
        self._pool: Any = None
        self._pool_lock = threading.Lock()

    def _uses_workers(self, resources: int) -> bool:
        return self._processes > 1 and resources > max(self._parallel_above, self._chunk)

    def prepare(self, resources: int) -> None:
        """Start the worker processes now if an evaluation of about this many resources will use them.

        They start (about 0.3 s, mostly imports) while the caller normalises the facts. A failure
        here is left to decide(), which starts the pool again or fails closed.
        """
        if self._interpreter is None or not self._uses_workers(resources):
            return
        try:
            pool = self._started_pool()
            for _ in range(self._processes - 1):
                pool.submit(_ready)
        except Exception:  # noqa: BLE001 - decide() reports it
            return

    def decide(self, facts: Facts) -> list[Decision]:
        """Every decision for these facts; EngineError when regopy cannot give a complete answer."""
        if self._interpreter is None:
            raise EngineError("embedded engine: decide() after close()")
        urns = _PrintableUrns()
        facts = urns.swap(facts)
        total = len(facts["resources"])
        if self._uses_workers(total):
            # Shared parts are half a chunk (at least four per process): what this process may
            # wait for at the end is the parts in flight (measured: 0.1 s less wall at 4,000).
            count = max(4 * self._processes, -(-total // max(1, self._chunk // 2)))
            answers = self._decide_shared(chunks(facts, -(-total // count)))
        else:
            answers = [self._decide_part(part) for part in chunks(facts, self._chunk)]
        unique: dict[tuple[str, str, str, str], Decision] = {}
        for answer in answers:
            for decision in answer:
                decision = urns.restore(decision)
                unique[(decision.control, decision.urn, decision.message, decision.status)] = decision
        return [unique[key] for key in sorted(unique)]

    def _started_pool(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with self._pool_lock:
            if self._interpreter is None:
                raise EngineError("embedded engine: decide() after close()")
            if self._pool is None:
                # spawn, not fork: the policy pack runs gRPC threads, which a forked child would inherit half-alive.
                self._pool = ProcessPoolExecutor(
                    max_workers=self._processes - 1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=self._policy,
                )
            return self._pool

    def _decide_shared(self, parts: list[dict[str, Any]]) -> list[list[Decision]]:
        """Parts go to the workers from the front, two in flight each, while this process evaluates
        them from the back: a worker that starts late or runs slow holds up at most its two.

        No submitted part is ever cancelled (cancelling races with a pool that breaks meanwhile).
        """
        from concurrent.futures import FIRST_COMPLETED, wait

        pool = self._started_pool()
        waiting = deque(enumerate(parts))
        in_flight: dict[Any, int] = {}
        answers: dict[int, list[Decision]] = {}

        def collect(future: Any) -> None:
            ok, answer = future.result()
            if not ok:
                raise EngineError(str(answer))
            answers[in_flight.pop(future)] = answer

        try:
            while waiting or in_flight:
                for future in [f for f in in_flight if f.done()]:
                    collect(future)
                while waiting and len(in_flight) < 2 * (self._processes - 1):
                    index, part = waiting.popleft()
                    in_flight[pool.submit(_decide_in_worker, part)] = index
                if waiting:
                    index, part = waiting.pop()
                    answers[index] = self._decide_part(part)
                elif in_flight:
                    wait(in_flight, return_when=FIRST_COMPLETED)
        except EngineError:
            raise
        except Exception as error:  # a worker died, could not start, or the input could not be sent: fail closed
            self._drop_pool(pool)
            raise EngineError(f"embedded engine: worker process failed ({error.__class__.__name__}: {' '.join(str(error).split())[:200]})") from None
        return [answers[index] for index in range(len(parts))]

    def _drop_pool(self, pool: Any) -> None:
        with self._pool_lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def _decide_part(self, facts: Mapping[str, Any]) -> list[Decision]:
        with self._lock:
            try:
                # A Python value converts faster than rego-cpp parses the same JSON (measured 4x).
                self._interpreter.set_input(self._inputs.build(facts))
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
        """Drop the interpreter and stop the worker processes."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        with self._lock:
            self._interpreter = None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
