"""dpaguard audit (every control) against checkov (five custom checks) on the same generated Scaleway estate.

For each size N (default 1,000, 4,000 and 10,000 resources) this script generates an estate with
seeded violations, writes it as a stack export and as its Terraform-plan export
(`dpaguard.export.tfplan`), then, in the same run:
  - checkov --framework terraform_plan --external-checks-dir policies/checkov/custom
            --check CKV2_DPA_1..5   against the plan;
  - dpaguard audit --state <export> --format json   with every control of the catalogue.
Both run as subprocesses under /usr/bin/time -v: wall time, CPU time (user + system; steadier than
wall time on a busy machine) and peak RSS (the largest process of the tree) are reported, with the
ratios, and whether both flagged the same resources for the five
controls the checkov policies express.

    cd tests && ../.venv/bin/python -m benchmarks.vs_checkov [--sizes 1000 4000 10000] [--rounds 3] [--heavy [--distinct]]
                                                        [--baseline-tree DIR] [--keep DIR]

`--distinct` makes every resource of the finding-heavy estate differ from every other (a service tag,
a backup retention, an inbound rule of its own), so that judging one of each group of equal resources
gains nothing. `--baseline-tree DIR` also times `python -m dpaguard` with DIR (a `git archive` of
another commit's dpaguard/) first on PYTHONPATH, in the same turns: before and after in one run.

With `--rounds R` the two tools take turns R times on each size and the medians are reported
(wall time: the run of median wall time; CPU time: the median), with each round's wall ratio.

Needs checkov (DPAGUARD_CHECKOV, PATH or .checkov-venv). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dpaguard.checkov.runner import find_checkov
from dpaguard.export.tfplan import to_tfplan
from dpaguard.source.state import to_export
from support import CHECKOV_CUSTOM, REPO
from support.estates import finding_heavy_estate, vs_checkov_estate
from support.cli import dpaguard_command

# checkov custom policy -> the dpaguard controls it expresses
EQUIVALENT = {
    "CKV2_DPA_1": ("DPA-RES-001", "DPA-RES-002"),  # region / zone in France
    "CKV2_DPA_2": ("DPA-BAK-001",),  # RDB backups enabled
    "CKV2_DPA_3": ("DPA-RES-003",),  # RDB backups in the same region
    "CKV2_DPA_4": ("DPA-TLS-004",),  # Redis TLS
    "CKV2_DPA_5": ("DPA-ACC-001",),  # security group drops inbound by default
}
CONTROL_TO_CHECK = {control: check for check, controls in EQUIVALENT.items() for control in controls}
@dataclass(frozen=True)
class Timed:
    """One measured subprocess: exit code, wall seconds, CPU seconds (user + system), peak RSS in MB."""

    returncode: int
    seconds: float
    peak_mb: float
    cpu: float = float("nan")


def timed(command: list[str], stdout_file: Path, cwd: Path) -> Timed:
    """Run under /usr/bin/time -v; stdout to a file, the time report parsed from stderr."""
    with stdout_file.open("w") as out:
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-v", *command], stdout=out, stderr=subprocess.PIPE, text=True, cwd=cwd,
                              check=False)
        wall = time.perf_counter() - start
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if done.returncode not in (0, 1):
        tail = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("\t")][-3:]
        print(f"  ! {Path(command[0]).name} exited {done.returncode}: {' | '.join(tail)}", file=sys.stderr)
    cpu = sum(float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr))
    return Timed(done.returncode, wall, int(match.group(1)) / 1024 if match else float("nan"), cpu)


def checkov_flags(report_file: Path, addresses: dict[str, str]) -> set[tuple[str, str]]:
    """(check id, URN) of every failed check in checkov's JSON."""
    text = report_file.read_text()
    data: Any = json.loads(text) if text.strip() else []
    flagged = set()
    for report in data if isinstance(data, list) else [data]:
        for failed in (report.get("results") or {}).get("failed_checks", []):
            flagged.add((failed["check_id"], addresses.get(failed["resource"], failed["resource"])))
    return flagged


def dpaguard_flags(report_file: Path) -> set[tuple[str, str]] | None:
    """(equivalent check id, URN) of every dpaguard violation of the five controls; None if no report."""
    try:
        data = json.loads(report_file.read_text())
    except (OSError, ValueError):
        return None
    return {(CONTROL_TO_CHECK[f["control"]], f["urn"]) for f in data.get("findings", [])
            if f["control"] in CONTROL_TO_CHECK and f.get("status", "violation") == "violation"}


def _median(runs: list[Timed]) -> Timed:
    """The run of median wall time, with the median CPU time and the largest peak RSS of the rounds."""
    by_wall = sorted(runs, key=lambda r: r.seconds)
    middle = by_wall[len(by_wall) // 2]
    return Timed(middle.returncode, middle.seconds, max(r.peak_mb for r in runs), statistics.median(r.cpu for r in runs))


def bench(n: int, workdir: Path, checkov: Path, heavy: bool = False, rounds: int = 1, distinct: bool = False,
          baseline: Path | None = None) -> dict[str, Any]:
    """Generate, write both exports, run both tools `rounds` times in turn (medians), compare."""
    deployment = finding_heavy_estate(n, distinct=distinct) if heavy else vs_checkov_estate(n, distinct=distinct)
    state = workdir / f"estate-{n}.json"
    plan_file = workdir / f"estate-{n}.tfplan.json"
    state.write_text(json.dumps(to_export(deployment)))
    plan = to_tfplan(deployment)
    plan_file.write_text(json.dumps(plan))
    checkov_out = workdir / f"checkov-{n}.json"
    dpaguard_out = workdir / f"dpaguard-{n}.json"
    dpaguard_bin = Path(dpaguard_command()[0])
    checkov_runs: list[Timed] = []
    dpaguard_runs: list[Timed] = []
    baseline_runs: list[Timed] = []
    audit = ["audit", "--state", str(state), "--project-dir", str(REPO), "--format", "json", "--quiet"]
    # The tools take turns, so that a machine whose load changes slows both alike.
    for _ in range(rounds):
        checkov_runs.append(timed(
            [str(checkov), "-f", plan_file.name, "--framework", "terraform_plan", "--external-checks-dir", str(CHECKOV_CUSTOM),
             "--check", ",".join(EQUIVALENT), "-o", "json", "--skip-download"],
            checkov_out, workdir,
        ))
        dpaguard_runs.append(timed([str(dpaguard_bin), *audit], dpaguard_out, workdir))
        if baseline is not None:
            baseline_runs.append(timed(["env", f"PYTHONPATH={baseline}", sys.executable, "-m", "dpaguard", *audit],
                                       workdir / f"baseline-{n}.json", workdir))
    dpaguard_run = _median(dpaguard_runs)
    flagged_checkov = checkov_flags(checkov_out, plan["dpaguard_addresses"])
    flagged_dpaguard = dpaguard_flags(dpaguard_out) if dpaguard_run.returncode in (0, 1) else None
    return {
        "n": len(deployment.resources), "checkov": _median(checkov_runs), "dpaguard": dpaguard_run,
        "checkov_flagged": flagged_checkov, "dpaguard_flagged": flagged_dpaguard,
        "ratios": sorted(c.seconds / d.seconds for c, d in zip(checkov_runs, dpaguard_runs)),
        "baseline": _median(baseline_runs) if baseline_runs else None,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for each size and print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 10000])
    parser.add_argument("--keep", type=Path, help="write the generated files here and keep them")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run both tools this many times in turn and report the medians (and each round's ratio)")
    parser.add_argument("--heavy", action="store_true",
                        help="the finding-heavy estate: every resource breaks two controls, checkov's five on a quarter")
    parser.add_argument("--distinct", action="store_true", help="every resource differs from every other")
    parser.add_argument("--baseline-tree", type=Path, help="also time `python -m dpaguard` with this dpaguard/ tree on PYTHONPATH")
    args = parser.parse_args(argv)
    checkov = find_checkov()
    if checkov is None:
        print("checkov not found (run `bash .ci/setup` or set DPAGUARD_CHECKOV)", file=sys.stderr)
        return 2
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="dpaguard-vs-checkov-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"{'N':>6} | {'checkov s':>9} {'cpu s':>6} {'MB':>6} | {'dpaguard s':>10} {'cpu s':>6} {'MB':>6} | "
          f"{'ratio':>6} {'cpu':>6} | {'flagged ck/dg':>13} | same")
    for n in args.sizes:
        load_before = os.getloadavg()[0]
        row = bench(n, workdir, checkov, heavy=args.heavy, rounds=args.rounds, distinct=args.distinct,
                    baseline=args.baseline_tree.resolve() if args.baseline_tree else None)
        ck, dg = row["checkov"], row["dpaguard"]
        dg_flagged = row["dpaguard_flagged"]
        if dg_flagged is None:
            print(f"{row['n']:>6} | {ck.seconds:>9.2f} {ck.cpu:>6.1f} {ck.peak_mb:>6.0f} | {'n/a':>10} | "
                  f"{len(row['checkov_flagged']):>6}/{'n/a':<6} | dpaguard audit did not produce a report")
            continue
        same = dg_flagged == row["checkov_flagged"]
        print(f"{row['n']:>6} | {ck.seconds:>9.2f} {ck.cpu:>6.1f} {ck.peak_mb:>6.0f} | "
              f"{dg.seconds:>10.2f} {dg.cpu:>6.1f} {dg.peak_mb:>6.0f} | "
              f"{ck.seconds / dg.seconds:>5.1f}x {ck.cpu / dg.cpu:>5.1f}x | "
              f"{len(row['checkov_flagged']):>6}/{len(dg_flagged):<6} | {'yes' if same else 'NO'}")
        print(f"       load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
        if row["baseline"] is not None:
            base = row["baseline"]
            print(f"       baseline dpaguard: {base.seconds:.2f} s, {base.cpu:.1f} s CPU, {base.peak_mb:.0f} MB "
                  f"(checkov / baseline: {ck.seconds / base.seconds:.1f}x wall, {ck.cpu / base.cpu:.1f}x CPU)")
        if len(row["ratios"]) > 1:
            print(f"       wall ratio of each round: {', '.join(f'{r:.1f}x' for r in row['ratios'])}")
        if not same:
            for label, diff in (("checkov only", row["checkov_flagged"] - dg_flagged),
                                ("dpaguard only", dg_flagged - row["checkov_flagged"])):
                for item in sorted(diff)[:5]:
                    print(f"    {label}: {item[0]} {item[1]}")
    if not args.keep:
        print(f"(files in {workdir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
