"""Benchmark of the `dpaguard` command end to end (not collected by pytest; run it as a module from tests/).

    cd tests && ../.venv/bin/python -m benchmarks.bench_cli [--runs N] [--resources N] [--stages]

Targets (issue 4, on the 2-core machine): `dpaguard check --all-stacks` on the project's three
stacks under 8 s; `dpaguard audit` on a generated 10,000-resource stack export under 5 s. Prints
each run's wall time, the best and the median, and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dpaguard.source.state import to_export
from support import POLICIES, REPO
from support.estates import vs_checkov_estate
from support.cli import dpaguard_command

DPAGUARD = Path(dpaguard_command()[0])


def generate_export(count: int) -> dict[str, Any]:
    """A `pulumi stack export` of `count` resources: vs_checkov's generated estate (seeded violations)."""
    return to_export(vs_checkov_estate(count))


def replicate_stack(count: int, stack: str = "prod") -> dict[str, Any]:
    """The project's own stack, rendered, its resources copied (renamed) up to `count`: a compliant large estate."""
    render = subprocess.run([str(DPAGUARD), "render", "--stack", stack], capture_output=True, text=True, cwd=REPO,
                            check=True, stdin=subprocess.DEVNULL)
    export: dict[str, Any] = json.loads(render.stdout)
    resources = export["deployment"]["resources"]
    shared = [r for r in resources if r["type"] == "pulumi:pulumi:Stack" or r["type"].startswith("pulumi:providers:")]
    own = [r for r in resources if r not in shared]
    urns = [r["urn"] for r in own]
    text = json.dumps(own)
    copies: list[dict[str, Any]] = list(shared)
    copy = 0
    while len(copies) < count:
        renamed = text
        for urn in urns:  # the URN itself and every parent/dependency reference to it
            renamed = renamed.replace(f'"{urn}"', f'"{urn}-c{copy}"')
        copies.extend(json.loads(renamed))
        copy += 1
    export["deployment"]["resources"] = copies[:count]
    return export


def stages(export: Path) -> None:
    """Where the time of an audit goes, stage by stage, in this process."""
    import datetime as dt

    from dpaguard.engine import create_engine
    from dpaguard.pipeline import run_stages
    from dpaguard.normalise import normalise
    from dpaguard.policy import load_policy
    from dpaguard.report import FORMATS, render
    from dpaguard.source.state import load_state

    figures: list[tuple[str, float]] = []
    started = time.perf_counter()

    def lap(label: str) -> None:
        nonlocal started
        now = time.perf_counter()
        figures.append((label, now - started))
        started = now

    policy = load_policy(POLICIES)
    engine = create_engine(policy)
    lap("load policies + build engine")
    deployment = load_state(export)
    lap("load state")
    facts = normalise([deployment], policy.data, today=dt.date(2026, 11, 27))
    lap("normalise")
    engine.decide(facts)
    lap("engine (Rego)")
    evaluation = run_stages([deployment], policy, engine, today=dt.date(2026, 11, 27))
    lap("evaluate again (normalise + engine + findings)")
    import dpaguard.pipeline as pipeline

    result = pipeline.evaluate([deployment], policy, pipeline.RunOptions(policies_dir=POLICIES))
    lap("pipeline.evaluate (the CLI's path)")
    for name in FORMATS:
        render(name, result)
    lap(f"render {len(FORMATS)} formats ({len(evaluation.findings)} findings)")
    print("    stages: " + "; ".join(f"{label} {seconds:.2f} s" for label, seconds in figures))


def timed(args: list[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall time and CPU time (user + system, with its children) of one `dpaguard` run, and its process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run = subprocess.run([str(DPAGUARD), *args], capture_output=True, text=True, cwd=REPO, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if run.returncode not in (0, 1):
        raise SystemExit(f"dpaguard {' '.join(args)} failed ({run.returncode}): {run.stderr.strip()}")
    return elapsed, cpu, run


def measure(label: str, args: list[str], runs: int, target: float | None) -> bool:
    """Run a command `runs` times, print the figures; True when the best run meets the target."""
    times, cpus = [], []
    summary: dict[str, Any] = {}
    for _ in range(runs):
        elapsed, cpu, run = timed(args)
        times.append(elapsed)
        cpus.append(cpu)
        if "--format" in args and args[args.index("--format") + 1] == "json":
            summary = json.loads(run.stdout)["summary"]
    best, median = min(times), statistics.median(times)
    verdict = "" if target is None else ("  OK" if best < target else "  MISSED")
    aim = "" if target is None else f" (target < {target:.0f} s)"
    print(f"{label}: best {best:.2f} s, median {median:.2f} s over {runs} run(s){aim}{verdict}")
    print(f"    runs: {', '.join(f'{t:.2f}' for t in times)} s wall; {', '.join(f'{c:.2f}' for c in cpus)} s CPU "
          f"(dpaguard and its children); load average {os.getloadavg()[0]:.1f}; summary {summary}")
    return target is None or best < target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--stages", action="store_true", help="also time each stage of the audit in-process")
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
        if args.stages:
            stages(export)
        compliant = Path(folder) / "prod-replicated.json"
        compliant.write_text(json.dumps(replicate_stack(args.resources)), encoding="utf-8")
        ok &= measure(f"dpaguard audit ({args.resources} resources copied from the prod stack, compliant)",
                      ["audit", "--state", str(compliant), "--format", "json", "--fail-on", "never"], args.runs, 5.0)
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
