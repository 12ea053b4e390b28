"""Benchmark: the engines dpaguard can evaluate with, on the same facts, interleaved, in one run.

For each estate (vs_checkov's at 4,000 and 10,000 resources; the finding-heavy one at 4,000 and
10,000, where every resource breaks at least two controls), the facts are normalised once, then
each engine evaluates them `--repeat` times, the engines taking turns, so that a busy machine slows
them alike. Reported per engine: median wall and CPU seconds of `evaluate` (CPU of this process:
OPA's Go threads and regopy's interpreter run here; regopy's worker processes are not counted,
which flatters it), the number of decisions, and whether they equal OPA's exactly.

Engines: `opa` (the real OPA in process, the default: resources equal in every fact sent once),
`opa-all` (the same sending every resource, the cost of an estate whose resources all differ),
`opa-1` (every resource, one instance, no thread split), `regopy` (rego-cpp, the fallback).
regorus (Microsoft's Rust engine; the only build installable here is the fork
`gordon-to-regorus` 0.13.0) refuses the policies
(`retention.rego:153: var k used before definition`, valid OPA), so it is not conformant and not
measured.

    cd tests && ../.venv/bin/python -m benchmarks.bench_engines [--sizes 4000 10000] [--repeat 3] [--engines opa,opa-all,opa-1,regopy]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import sys
import time
from typing import Any, Callable

from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.engine.opa_inprocess import OpaInProcessEngine
from dpaguard.normalise import normalise
from dpaguard.policy import load_policy
from support import POLICIES
from support.estates import finding_heavy_estate, vs_checkov_estate

TODAY = dt.date(2026, 11, 29)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    """Print one line per estate and engine."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engines", default="opa,opa-all,opa-1,regopy")
    args = parser.parse_args(argv)
    policy = load_policy(POLICIES)
    makers: dict[str, Callable[[], Any]] = {
        "opa": lambda: OpaInProcessEngine(policy),
        "opa-all": lambda: OpaInProcessEngine(policy, distinct_resources=False),
        "opa-1": lambda: OpaInProcessEngine(policy, threads=1, distinct_resources=False),
        "regopy": lambda: EmbeddedEngine(policy),
    }
    names = [n for n in args.engines.split(",") if n in makers]
    engines = {name: makers[name]() for name in names}
    print(f"{'estate':>22} {'N':>6} | {'engine':>7} | {'wall s':>7} {'cpu s':>7} | {'decisions':>9} | same as OPA")
    try:
        for label, make in (("vs_checkov", vs_checkov_estate), ("finding-heavy", finding_heavy_estate)):
            for size in args.sizes:
                facts = normalise([make(size)], policy.data, today=TODAY)
                for engine in engines.values():
                    engine.prepare(size)
                walls: dict[str, list[float]] = {n: [] for n in names}
                cpus: dict[str, list[float]] = {n: [] for n in names}
                answers: dict[str, set[Any]] = {}
                for _ in range(args.repeat):
                    for name, engine in engines.items():
                        c0, t0 = _cpu(), time.perf_counter()
                        decisions = engine.decide(facts)
                        walls[name].append(time.perf_counter() - t0)
                        cpus[name].append(_cpu() - c0)
                        answers[name] = set(decisions)
                reference = answers.get("opa") or answers.get("opa-1")
                for name in names:
                    same = "-" if reference is None else ("yes" if answers[name] == reference else "NO")
                    print(f"{label:>22} {size:>6} | {name:>7} | {statistics.median(walls[name]):>7.2f} "
                          f"{statistics.median(cpus[name]):>7.2f} | {len(answers[name]):>9} | {same}", flush=True)
    finally:
        for engine in engines.values():
            engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
