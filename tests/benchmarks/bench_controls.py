"""Benchmark: all controls over a generated 100 / 1,000 / 10,000-resource stack with the embedded engine.

Each size runs in a fresh process (peak RSS is per process). Reports normalise and engine time,
total wall time, decisions and peak RSS. Target at 10,000 resources: < 2 s and < 500 MB.
Run: .venv/bin/python tests/benchmarks/bench_controls.py [--sizes 100,1000,10000] [--json]

Measured on the 2-core machine while other jobs ran (load average 5), 2026-11-27:
    resources  normalise s  engine s  whole evaluate s  per 1k s  peak MB
          100        0.012     0.099             0.131     1.31      58.5
        1 000        0.067     0.78              0.961     0.96     146.5
       10 000        0.863     8.02              8.98      0.90     305.4
Growth is linear (per-1k cost flat); memory is within budget; the 2 s target is NOT met. At
10 000 resources regopy spends ~3 s converting the input (Python-side, node by node, GIL-bound)
and ~3 s evaluating, ~80 % of it in the type-specific rules (tens of microseconds per rule body
per resource). Already applied: value-indexed facts (broad rules visit only rejected values),
properties only for examined types, compact facts, chunks of 2 000 resources (rego-cpp set
insertion is quadratic: 16 000 decisions in one query took 98 s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "policies"))


# Resource types no control reads properties of (judged on locality, project, tags, provider only).
GENERIC = [
    ("scaleway:instance/server:Server", {"type": "PRO2-S", "image": "ubuntu_jammy", "tags": ["env:prod"]}),
    ("scaleway:instance/ip:Ip", {"tags": ["env:prod"]}),
    ("scaleway:block/volume:Volume", {"sizeInGb": 50, "iops": 5000, "tags": ["env:prod"]}),
    ("scaleway:domain/record:Record", {"dnsZone": "example.org", "type": "A", "data": "203.0.113.7"}),
    ("scaleway:kubernetes/pool:Pool", {"nodeType": "PRO2-M", "size": 3, "tags": ["env:prod"]}),
]


def generated_stack(size: int) -> Any:
    """A prod stack of `size` resources: half generic types, half the examined compliant templates; 2 % break residency."""
    from control_estate import compliant_resources, deployment, resource

    templates = compliant_resources("prod")
    templates = [t for pair in zip(templates, [resource("prod", t, t.split(":")[-1].lower(), i) for t, i in GENERIC * 4]) for t in pair]
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


def run_one(size: int) -> dict[str, Any]:
    """Measure one size in this process."""
    from dpaguard.engine.embedded import EmbeddedEngine
    from dpaguard.findings import evaluate
    from dpaguard.normalise import normalise
    from dpaguard.normalise.types import scaleway_types
    from dpaguard.policy import load_policy

    policy = load_policy(ROOT / "policies")
    engine = EmbeddedEngine(policy)
    scaleway_types()  # the one-off scan of the provider package, not part of an evaluation
    stack = generated_stack(size)
    today = dt.date(2026, 11, 27)
    start = time.perf_counter()
    facts = normalise([stack], policy.data, today=today)
    normalised = time.perf_counter()
    decisions = engine.evaluate(facts)
    evaluated = time.perf_counter()
    findings = evaluate([stack], policy, engine, today=today).findings
    whole = time.perf_counter() - evaluated
    return {
        "resources": size,
        "normalise_s": round(normalised - start, 3),
        "engine_s": round(evaluated - normalised, 3),
        "evaluate_s": round(whole, 3),
        "decisions": len(decisions),
        "findings": len(findings),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    """Run each size in a child process and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'resources':>9} {'normalise s':>11} {'engine s':>8} {'evaluate s':>10} {'per 1k s':>8} {'decisions':>9} {'peak MB':>8}")
    for row in rows:
        per_k = row["evaluate_s"] / row["resources"] * 1000
        print(
            f"{row['resources']:>9} {row['normalise_s']:>11} {row['engine_s']:>8} {row['evaluate_s']:>10} {per_k:>8.3f} {row['decisions']:>9} {row['peak_rss_mb']:>8}"
        )


if __name__ == "__main__":
    main()
