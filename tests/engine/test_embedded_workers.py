"""The embedded engine's worker processes: same decisions as in-process, failures fail closed, close() stops them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

import pytest


from support import TESTS
from support.control_estate import TODAY, changed
from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.errors import EngineError
from dpaguard.facts import Facts
from dpaguard.normalise import normalise
from dpaguard.policy import Policy

pytestmark = pytest.mark.e2e  # starts worker processes


@pytest.fixture(scope="module")
def facts(policy: Policy) -> Facts:
    deployments = [changed("prod", "vpc", region="nl-ams"), changed("dev", "sg", inboundDefaultPolicy=None), changed("staging", "db", isHaCluster=False)]
    return normalise(deployments, policy.data, today=TODAY)


def _in_workers(policy: Policy) -> EmbeddedEngine:
    """An engine that shares every input of more than 3 resources between this process and 2 workers."""
    return EmbeddedEngine(policy, chunk_resources=3, processes=3, parallel_above=0)


def test_workers_decide_as_the_process_itself(policy: Policy, facts: Facts) -> None:
    engine = _in_workers(policy)
    try:
        in_workers = engine.decide(facts)
        assert engine._pool is not None  # the work did go to the workers
        assert in_workers == EmbeddedEngine(policy, processes=1).decide(facts) and in_workers
        assert engine.decide(facts) == in_workers  # the pool is reused
    finally:
        engine.close()


def test_error_in_a_worker_fails_closed(policy: Policy, facts: Facts) -> None:
    engine = _in_workers(policy)
    # props no JSON holds: facts the normaliser never builds, given on purpose
    bad = cast(Facts, {**facts, "resources": [{**r, "props": {"value": 1.5j}} for r in facts["resources"]]})
    try:
        with pytest.raises(EngineError, match="embedded engine"):
            engine.decide(bad)
    finally:
        engine.close()


def test_a_worker_that_dies_fails_closed_and_the_next_call_starts_afresh(policy: Policy, facts: Facts) -> None:
    engine = _in_workers(policy)
    try:
        expected = engine.decide(facts)
        for process in list(engine._pool._processes.values()):
            process.kill()
            process.join()
        with pytest.raises(EngineError, match="worker process failed"):
            engine.decide(facts)
        assert engine.decide(facts) == expected
    finally:
        engine.close()


def test_close_stops_the_workers(policy: Policy, facts: Facts) -> None:
    engine = _in_workers(policy)
    engine.decide(facts)
    processes = list(engine._pool._processes.values())
    engine.close()
    assert processes and not any(p.is_alive() for p in processes)
    with pytest.raises(EngineError, match="after close"):
        engine.decide(facts)


def test_small_inputs_stay_in_process(policy: Policy, facts: Facts) -> None:
    engine = EmbeddedEngine(policy, chunk_resources=3, processes=3, parallel_above=10_000)
    engine.decide(facts)
    assert engine._pool is None
    engine.close()


def test_workers_exit_when_their_parent_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        "import time\n"
        "from support import POLICIES\n"
        "from support.control_estate import TODAY, changed\n"
        "from dpaguard.engine.embedded import EmbeddedEngine\n"
        "from dpaguard.normalise import normalise\n"
        "from dpaguard.policy import load_policy\n"
        "if __name__ == '__main__':\n"
        "    policy = load_policy(POLICIES)\n"
        "    engine = EmbeddedEngine(policy, chunk_resources=3, processes=3, parallel_above=0)\n"
        "    engine.decide(normalise([changed('prod', 'vpc', region='nl-ams')], policy.data, today=TODAY))\n"
        "    print(' '.join(str(p.pid) for p in engine._pool._processes.values()), flush=True)\n"
        "    time.sleep(600)\n"
    )
    # `support` comes from tests/ on the child's PYTHONPATH, as pytest puts it on this process's sys.path.
    path = os.pathsep.join([str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])])
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": path})
    try:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) == 2
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_prepare_starts_the_workers_that_evaluate_will_use(policy: Policy, facts: Facts) -> None:
    engine = _in_workers(policy)
    try:
        engine.prepare(len(facts["resources"]))
        pool = engine._pool
        assert pool is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(pool._processes) < 2:
            time.sleep(0.05)
        assert len(pool._processes) == 2  # started before any evaluation
        assert engine.decide(facts) == EmbeddedEngine(policy, processes=1).decide(facts)
        assert engine._pool is pool
    finally:
        engine.close()


def test_prepare_below_the_threshold_or_after_close_starts_nothing(policy: Policy) -> None:
    engine = EmbeddedEngine(policy, chunk_resources=3, processes=3, parallel_above=100)
    engine.prepare(100)
    assert engine._pool is None
    engine.close()
    engine.prepare(10_000)
    assert engine._pool is None


def test_workers_that_cannot_start_fail_the_evaluation_closed(policy: Policy, facts: Facts) -> None:
    engine = _in_workers(policy)
    engine._policy = (policy.data, {"broken.rego": "package broken\nthis is not rego"})
    try:
        engine.prepare(len(facts["resources"]))  # says nothing: the failure belongs to evaluate()
        with pytest.raises(EngineError, match="worker process failed"):
            engine.decide(facts)
    finally:
        engine.close()


def test_no_workers_where_the_process_may_use_one_cpu() -> None:
    code = ("import os; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]}); "
            "import dpaguard.engine.embedded as e; print(e.PROCESSES)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "1"
    from dpaguard.engine.embedded import PROCESSES

    assert PROCESSES == min(4, len(os.sched_getaffinity(0)))


def test_this_process_evaluates_what_no_worker_has_taken(policy: Policy, facts: Facts) -> None:
    # A cold pool: its worker needs a few hundred milliseconds to start, this process a few to
    # evaluate a part of one resource, so it evaluates most of them (measured: 36 of 51).
    engine = EmbeddedEngine(policy, chunk_resources=2, processes=2, parallel_above=0)
    here: list[int] = []
    evaluate_one = engine._decide_part

    def counted(part: Any) -> Any:
        here.append(len(part["resources"]))
        return evaluate_one(part)

    engine._decide_part = counted  # type: ignore[method-assign,assignment]
    try:
        decisions = engine.decide(facts)
        assert len(here) >= len(facts["resources"]) // 2 and set(here) == {1}  # parts of half a chunk
        assert decisions == EmbeddedEngine(policy, processes=1).decide(facts)
    finally:
        engine.close()
