"""Benchmark of many CI runners on one real OPA server (not collected by pytest; run it as a module from tests/).

    cd tests && ../.venv/bin/python -m benchmarks.bench_opa_server [--clients 16] [--resources 4000] [--bundle]
        [--opa-timeout 60]

Starts the real `opa run --server` (`.tools/bin/opa`, built by `.ci/real-tools`) on 127.0.0.1, empty
(push mode) or with `--bundle` serving `dpaguard bundle`'s file, then runs `--clients` concurrent
`dpaguard audit --opa-url` on a generated estate of `--resources` resources (vs_checkov's, seeded
violations), all at the project's policy revision, each with `--opa-timeout` (the time limit of
one HTTP exchange). Prints the median and p95 wall time of a run, the slowest, the wall time of
the whole wave, the server's peak and final resident memory (VmHWM, VmRSS from
/proc/<pid>/status) and its CPU time, and checks every run's findings against one in-process
run: a wrong answer or a failed run exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dpaguard.source.state import to_export
from support import POLICIES, REPO
from support.cli import dpaguard_command
from support.estates import vs_checkov_estate
from support.opa_server import RealOpa


def audit(state: Path, *extra: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall time and process of one `dpaguard audit` of `state`."""
    started = time.perf_counter()
    run = subprocess.run([*dpaguard_command(), "audit", "--state", str(state), "--format", "json", "--quiet",
                          "--fail-on", "never", *extra], capture_output=True, text=True, cwd=REPO,
                         stdin=subprocess.DEVNULL)
    return time.perf_counter() - started, run


def findings(run: subprocess.CompletedProcess[str]) -> list[tuple[str, str, str, str]] | None:
    """The findings of a JSON report; None (and its error line printed) when the run failed."""
    if run.returncode != 0:
        print(f"    failed ({run.returncode}): {run.stderr.strip()}")
        return None
    return sorted((f["control"], f["urn"], f["status"], f["message"]) for f in json.loads(run.stdout)["findings"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--resources", type=int, default=4000)
    parser.add_argument("--bundle", action="store_true", help="serve dpaguard's bundle instead of an empty server")
    parser.add_argument("--opa-timeout", default="60", help="each run's --opa-timeout (default 60 s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "estate.json"
        state.write_text(json.dumps(to_export(vs_checkov_estate(args.resources))), encoding="utf-8")
        bundle = None
        if args.bundle:
            bundle = Path(folder) / "dpa.tar.gz"
            subprocess.run([*dpaguard_command(), "bundle", "--policies", str(POLICIES), "--output", str(bundle)],
                           check=True, cwd=REPO, stdin=subprocess.DEVNULL)
        alone, reference = audit(state)
        expected = findings(reference)
        if expected is None:
            return 1
        print(f"in process (OPA wheel), one run: {alone:.2f} s, {len(expected)} findings on {args.resources} resources")
        with RealOpa(bundle=bundle) as server:
            started = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                results = list(pool.map(lambda _: audit(state, "--opa-url", server.url, "--opa-timeout", args.opa_timeout),
                                        range(args.clients)))
            wave = time.perf_counter() - started
            memory = server.memory()
            cpu = server.cpu_seconds()
        times = sorted(elapsed for elapsed, _ in results)
        answers = [findings(run) for _, run in results]
        failed = sum(answer is None for answer in answers)
        wrong = sum(answer is not None and answer != expected for answer in answers)
        p95 = times[min(len(times) - 1, max(0, -(-95 * len(times) // 100) - 1))]
        mode = "bundle (--bundle dpa.tar.gz)" if args.bundle else "push (empty server)"
        print(f"{args.clients} concurrent `dpaguard audit --opa-url URL --opa-timeout {args.opa_timeout}` on "
              f"{args.resources} resources, real OPA server in {mode}:")
        print(f"    median {statistics.median(times):.2f} s, p95 {p95:.2f} s, slowest {times[-1]:.2f} s; "
              f"the whole wave {wave:.2f} s; failed runs: {failed}; wrong answers: {wrong}")
        print(f"    server memory: VmHWM {memory.get('VmHWM', 0) / 1024:.0f} MB (peak), "
              f"VmRSS {memory.get('VmRSS', 0) / 1024:.0f} MB (after the wave); server CPU {cpu:.1f} s in all")
        print(f"    load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 1 if wrong or failed else 0


if __name__ == "__main__":
    sys.exit(main())
