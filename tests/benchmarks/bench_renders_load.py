"""Benchmark (issue 21 §2): many concurrent renders on a loaded machine; every one answers, or fails in one line.

Run: cd tests && ../.venv/bin/python -m benchmarks.bench_renders_load [--concurrent 20] [--rounds 5]

Each round starts `--concurrent` `dpaguard render` processes at once, cycling through the corpus
programs (tests/corpus, each with its expected stack, three of them under their own pinned SDK's
virtualenv) and the house estate's three stacks; a round ends when all have. A render passes when
it exits 0 with a stack export holding the same resources as that program's first render; any other
end is a failure, printed with the exit code and dpaguard's last line (which must name the program's
file:line and exception, never a bare exit code). Prints per round its wall time and the load
average, then the total of failures. Exit code 1 if any render failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"


def programs() -> list[tuple[Path, str]]:
    """(project folder, stack) of every corpus program and of the house estate's stacks."""
    chosen = []
    for expected in sorted(CORPUS.glob("*/expected.yaml")):
        chosen.append((expected.parent, str(yaml.safe_load(expected.read_text(encoding="utf-8"))["stack"])))
    for stack in ("prod", "staging", "dev"):
        chosen.append((ROOT, stack))
    return chosen


def render(project: Path, stack: str, out: Path) -> tuple[int, str, list[str]]:
    """Render one stack: (exit code, dpaguard's last stderr line, the URNs of its export, sorted)."""
    command = [str(Path(sys.executable).parent / "dpaguard"), "render", "--project-dir", str(project),
               "--stack", stack, "--output", str(out)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    urns: list[str] = []
    if run.returncode == 0:
        deployment = json.loads(out.read_text(encoding="utf-8"))
        urns = sorted(r["urn"] for r in deployment.get("deployment", deployment).get("resources", []))
    return run.returncode, lines[-1] if lines else "", urns


def main() -> None:
    """Run the rounds and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrent", type=int, default=20, help="renders started at once (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    args = parser.parse_args()
    targets = programs()
    first: dict[tuple[Path, str], list[str]] = {}
    failures = renders = 0
    with tempfile.TemporaryDirectory(prefix="bench-renders-") as work:
        for round_number in range(1, args.rounds + 1):
            jobs = [targets[(round_number * args.concurrent + i) % len(targets)] for i in range(args.concurrent)]
            outputs = [Path(work, f"r{round_number}-{i}.json") for i in range(len(jobs))]
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.concurrent) as pool:
                results = list(pool.map(lambda job: render(job[0][0], job[0][1], job[1]), zip(jobs, outputs)))
            elapsed = time.perf_counter() - started
            bad = 0
            for (project, stack), (code, last, urns) in zip(jobs, results):
                renders += 1
                name = f"{project.relative_to(ROOT) if project != ROOT else 'infra'}:{stack}"
                expected = first.setdefault((project, stack), urns) if code == 0 else None
                if code != 0 or not urns or urns != expected:
                    bad += 1
                    why = last if code != 0 else f"{len(urns)} resources, first render had {len(expected or [])}"
                    print(f"  FAILED {name}: exit {code}: {why}")
            failures += bad
            print(f"round {round_number}: {len(jobs)} concurrent renders in {elapsed:.1f} s, {bad} failed,"
                  f" load average {os.getloadavg()[0]:.1f}")
    print(f"{renders} renders over {len(first)} programs and stacks, {args.rounds} rounds of {args.concurrent}:"
          f" {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
