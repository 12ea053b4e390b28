"""Benchmark: all controls over a generated 100 / 1,000 / 10,000-resource stack with the embedded engine.

Each size runs in a fresh process (peak RSS is per process). Reports normalise and engine time,
total wall time, decisions and peak RSS. Target at 10,000 resources: < 2 s and < 500 MB.
Run: cd tests && ../.venv/bin/python -m benchmarks.bench_controls [--sizes 100,1000,10000] [--json]

Run CPU s is the whole run's user + system time, workers included (normalise, the first evaluation,
which also starts the workers, and the second); worker MB is the largest worker's peak RSS.
`--processes 1` evaluates in-process, as below PARALLEL_ABOVE.

Measured 2026-11-27 05:32-06:22 UTC on the 2-core machine (load average 0.5 to 1.5):
    resources  normalise s  engine s  evaluate s  run CPU s  peak MB  worker MB
          100        0.003     0.025      0.027      0.060     55.6          -
        1 000        0.017     0.165      0.193      0.383     83.1          -
       10 000        0.243     1.114      1.357      4.622    127.2        93.4   (this process + 1 worker)
       10 000        0.235     1.747      1.96       3.95     140.4          -    (--processes 1)
(04:29 UTC, before `prop_or` lost its `else` and buckets were judged by group: 1.273 s with two
workers, 2.16 s in-process at 10 000. The evaluate figure at 10 000 varies by 0.1 s run to run.)
Before the engine changes of that day (commit 567f96c), at load 2.4: 10 000 resources, normalise
0.32 s, engine 3.11 s, evaluate 3.86 s, 297 MB. The 2 s target is met with the two workers when
the second core is free (at load 3 it sometimes is not: evaluate 2.35 s), and memory is 302 MB in
all (< 500 MB).
Where the CPU goes at 10 000 resources in-process: ~0.8 s converting the input into rego-cpp
nodes (one ctypes call per node; the input now holds only the facts rules read, ~100 000 calls
per 2 000 resources instead of ~160 000) and ~1.1 s in the queries, ~80 % of it in the
type-specific rules (tens of microseconds per rule body per resource). Already applied:
value-indexed facts (broad rules visit only rejected values), properties only for examined
types, compact facts, only the facts rules read, chunks of 500 resources (rego-cpp set insertion
is quadratic: 16 000 decisions in one query took 98 s; on this stack 250 to 4 000 cost the same,
on vs_checkov's estate 500 costs 25 % less than 2 000).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

from dpaguard.engine.embedded import PROCESSES
from support import POLICIES, TESTS
from support.control_estate import compliant_resources, deployment, resource as estate_resource


# Resource types no control reads properties of (judged on locality, project, tags, provider only).
GENERIC: list[tuple[str, dict[str, Any]]] = [
    ("scaleway:instance/server:Server", {"type": "PRO2-S", "image": "ubuntu_jammy", "tags": ["env:prod"]}),
    ("scaleway:instance/ip:Ip", {"tags": ["env:prod"]}),
    ("scaleway:block/volume:Volume", {"sizeInGb": 50, "iops": 5000, "tags": ["env:prod"]}),
    ("scaleway:domain/record:Record", {"dnsZone": "example.org", "type": "A", "data": "203.0.113.7"}),
    ("scaleway:kubernetes/pool:Pool", {"nodeType": "PRO2-M", "size": 3, "tags": ["env:prod"]}),
]


def generated_stack(size: int) -> Any:
    """A prod stack of `size` resources: half generic types, half the examined compliant templates; 2 % break residency."""
    templates: list[Any] = compliant_resources("prod")
    templates = [t for pair in zip(templates, [estate_resource("prod", t, t.split(":")[-1].lower(), i) for t, i in GENERIC * 4]) for t in pair]
    resources = []
    for n in range(size):
        template = templates[n % len(templates)]
        item = json.loads(json.dumps(template))
        item["urn"] = f"{template['urn']}-{n}"
        item["id"] = f"{template['id']}-{n}"
        if n % 100 == 0 and template["type"] == "scaleway:network/vpc:Vpc" or n % 100 == 1:
            item["inputs"]["region"] = "nl-ams"
        resources.append(item)
    return deployment("prod", resources)


def run_one(size: int, processes: int) -> dict[str, Any]:
    """Measure one size in this process."""
    from dpaguard.engine.embedded import EmbeddedEngine
    from dpaguard.pipeline import run_stages
    from dpaguard.normalise import normalise
    from dpaguard.deployment.types import scaleway_types
    from dpaguard.policy import load_policy

    policy = load_policy(POLICIES)
    engine = EmbeddedEngine(policy, processes=processes)
    scaleway_types()  # the one-off scan of the provider package, not part of an evaluation
    stack = generated_stack(size)
    today = dt.date(2026, 11, 27)
    start, cpu_before = time.perf_counter(), _cpu()
    facts = normalise([stack], policy.data, today=today)
    normalised = time.perf_counter()
    decisions = engine.decide(facts)  # above PARALLEL_ABOVE resources this call also starts the workers
    evaluated = time.perf_counter()
    findings = run_stages([stack], policy, engine, today=today).findings
    whole = time.perf_counter() - evaluated
    engine.close()  # waits for the workers, so their CPU time and peak memory are counted
    return {
        "resources": size,
        "normalise_s": round(normalised - start, 3),
        "engine_s": round(evaluated - normalised, 3),
        "evaluate_s": round(whole, 3),
        "run_cpu_s": round(_cpu() - cpu_before, 3),  # normalise, both evaluations, the workers' start-up
        "decisions": len(decisions),
        "findings": len(findings),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "worker_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }


def _cpu() -> float:
    """User and system time of this process and its waited-for children (the engine's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    """Run each size in a child process and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--processes", type=int, default=PROCESSES, help="processes evaluating at once, this one included (1: in-process)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.processes)))
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, "-m", "benchmarks.bench_controls", "--one", str(size), "--processes", str(args.processes)],
                             capture_output=True, text=True, check=True, cwd=TESTS)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'resources':>9} {'normalise s':>11} {'engine s':>8} {'evaluate s':>10} {'run CPU s':>9} {'per 1k s':>8} {'decisions':>9} {'peak MB':>8} {'worker MB':>9}")
    for row in rows:
        per_k = row["evaluate_s"] / row["resources"] * 1000
        print(
            f"{row['resources']:>9} {row['normalise_s']:>11} {row['engine_s']:>8} {row['evaluate_s']:>10} {row['run_cpu_s']:>9}"
            f" {per_k:>8.3f} {row['decisions']:>9} {row['peak_rss_mb']:>8} {row['worker_peak_rss_mb']:>9}"
        )


if __name__ == "__main__":
    main()
