"""Benchmark of the `dpaguard` command end to end (not collected by pytest; run it directly).

    .venv/bin/python tests/benchmarks/bench_cli.py [--runs N] [--resources N]

Targets (issue 4, on the 2-core machine): `dpaguard check --all-stacks` on the project's three
stacks under 8 s; `dpaguard audit` on a generated 10,000-resource stack export under 5 s. Prints
each run's wall time, the best and the median, and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DPAGUARD = Path(sys.executable).parent / "dpaguard"
SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:bench"}


def generate_export(count: int, *, stack: str = "prod", seed: int = 7) -> dict[str, Any]:
    """A `pulumi stack export` of `count` Scaleway resources (a few dozen outside France), deterministic."""
    rng = random.Random(seed)
    project = "dpa-estate"
    root = f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}"
    provider_urn = f"urn:pulumi:{stack}::{project}::pulumi:providers:scaleway::default_1_60_0"
    provider = {"region": "fr-par", "zone": "fr-par-1", "projectId": "cd2b649f-8cc2-4cae-b5b5-57d05b71f365",
                "version": "1.60.0"}
    resources: list[dict[str, Any]] = [
        {"urn": root, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {}},
        {"urn": provider_urn, "custom": True, "id": "prov-1", "type": "pulumi:providers:scaleway",
         "inputs": provider, "outputs": provider},
    ]
    kinds = [
        ("scaleway:network/vpc:Vpc", lambda i, r: {"name": f"vpc-{i}", "region": r}),
        ("scaleway:network/privateNetwork:PrivateNetwork", lambda i, r: {"name": f"pn-{i}", "region": r,
                                                                           "ipv4Subnet": {"subnet": "172.16.8.0/22"}}),
        ("scaleway:object/bucket:Bucket", lambda i, r: {"name": f"bucket-{i}", "region": r,
                                                         "tags": {"env": stack, "data-category": "call-logs"}}),
        ("scaleway:databases/instance:Instance", lambda i, r: {
            "name": f"db-{i}", "region": r, "engine": "PostgreSQL-15", "nodeType": "DB-PRO2-S", "isHaCluster": True,
            "backupSameRegion": True, "disableBackup": False, "backupScheduleRetention": 14, "encryptionAtRest": True,
            "password": SECRET, "userName": "app"}),
        ("scaleway:redis/cluster:Cluster", lambda i, r: {"name": f"redis-{i}", "zone": r + "-1", "tlsEnabled": True,
                                                          "nodeType": "RED1-S", "password": SECRET}),
        ("scaleway:instance/securityGroup:SecurityGroup", lambda i, r: {
            "name": f"sg-{i}", "zone": r + "-1", "inboundDefaultPolicy": "drop", "outboundDefaultPolicy": "accept",
            "inboundRules": [{"action": "accept", "port": 443, "ipRange": "10.0.0.0/8", "protocol": "TCP"}]}),
    ]
    for i in range(count):
        type_, make = kinds[i % len(kinds)]
        region = "nl-ams" if rng.random() < 0.005 else "fr-par"
        inputs = make(i, region)
        name = inputs["name"]
        resources.append({
            "urn": f"urn:pulumi:{stack}::{project}::{type_}::{name}", "custom": True, "id": f"{region}/{i:08x}",
            "type": type_, "inputs": inputs, "outputs": dict(inputs, id=f"{region}/{i:08x}"), "parent": root,
            "provider": f"{provider_urn}::prov-1", "dependencies": [], "propertyDependencies": {},
        })
    return {"version": 3, "deployment": {"manifest": {"time": "2026-11-27T00:00:00Z", "magic": "", "version": "v3"},
                                         "resources": resources}}


def timed(args: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall time of one `dpaguard` run and its process."""
    started = time.perf_counter()
    run = subprocess.run([str(DPAGUARD), *args], capture_output=True, text=True, cwd=REPO, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if run.returncode not in (0, 1):
        raise SystemExit(f"dpaguard {' '.join(args)} failed ({run.returncode}): {run.stderr.strip()}")
    return elapsed, run


def measure(label: str, args: list[str], runs: int, target: float | None) -> bool:
    """Run a command `runs` times, print the figures; True when the best run meets the target."""
    times = []
    summary: dict[str, Any] = {}
    for _ in range(runs):
        elapsed, run = timed(args)
        times.append(elapsed)
        if "--format" in args and args[args.index("--format") + 1] == "json":
            summary = json.loads(run.stdout)["summary"]
    best, median = min(times), statistics.median(times)
    verdict = "" if target is None else ("  OK" if best < target else "  MISSED")
    aim = "" if target is None else f" (target < {target:.0f} s)"
    print(f"{label}: best {best:.2f} s, median {median:.2f} s over {runs} run(s){aim}{verdict}")
    print(f"    runs: {', '.join(f'{t:.2f}' for t in times)} s; summary {summary}")
    return target is None or best < target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--resources", type=int, default=10_000)
    args = parser.parse_args()
    ok = True
    ok &= measure("dpaguard check --all-stacks (3 stacks, checkov included when installed)",
                  ["check", "--all-stacks", "--format", "json", "--fail-on", "never", "-q"], args.runs, 8.0)
    ok &= measure("dpaguard check --all-stacks --no-checkov",
                  ["check", "--all-stacks", "--no-checkov", "--format", "json", "--fail-on", "never", "-q"],
                  args.runs, 8.0)
    with tempfile.TemporaryDirectory() as folder:
        export = Path(folder) / "large-export.json"
        started = time.perf_counter()
        export.write_text(json.dumps(generate_export(args.resources)), encoding="utf-8")
        size = export.stat().st_size / 1e6
        print(f"generated {args.resources} resources: {size:.1f} MB in {time.perf_counter() - started:.2f} s")
        ok &= measure(f"dpaguard audit ({args.resources} resources)",
                      ["audit", "--state", str(export), "--format", "json", "--fail-on", "never"], args.runs, 5.0)
        report = Path(folder) / "report.html"
        ok &= measure(f"dpaguard audit ({args.resources} resources, every format)",
                      ["audit", "--state", str(export), "--format", "json", "--format", "sarif", "--format", "junit",
                       "--format", "markdown", "--format", "html", "--format", "text", "--output", "-", "--output",
                       str(Path(folder) / "r.sarif"), "--output", str(Path(folder) / "r.xml"), "--output",
                       str(Path(folder) / "r.md"), "--output", str(report), "--output", str(Path(folder) / "r.txt"),
                       "--fail-on", "never"], args.runs, None)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
