"""Where the time of one `dpaguard audit` goes, stage by stage, in CPU seconds (steadier than wall time on a busy machine).

Each run is a fresh process (`python -m benchmarks.bench_stages --child ...`) that imports the
command line, wraps the stages' functions with CPU timers (process time: the engine's Go threads
included) and runs `dpaguard.cli.main` on a generated estate's stack export, as the console script
would. The estates are tests/support/estates.py's: `templated` (vs_checkov's), `heavy` (finding-heavy)
and `distinct` (finding-heavy, every resource different from every other). Prints the median of
--runs runs per stage, the whole run's wall and CPU time and peak RSS, and the load average.

    cd tests && ../.venv/bin/python -m benchmarks.bench_stages [--estate distinct] [--resources 4000] [--runs 5] [--format json]

Not collected by pytest.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from support import REPO

# (label, module, attribute): the stages of an audit, as the command line calls them. A stage whose
# function a refactoring moved is looked for in each place in turn (the first found is timed).
STAGES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("read the stack export", (("dpaguard.source.state", "load_state"),)),
    ("load the policy (OPA compile)", (("dpaguard.policy", "load_policy"),)),
    ("open the engine", (("dpaguard.engine", "create_engine"),)),
    ("normalise", (("dpaguard.normalise", "normalise"),)),
    ("engine: evaluate", (("dpaguard.engine.opa_inprocess", "OpaInProcessEngine.decide"),)),
    ("findings, coverage", (("dpaguard.findings", "findings_of"),)),
    ("assemble (digest, inventory)", (("dpaguard.pipeline", "assemble"),)),
    ("render the report", (("dpaguard.report", "render"),)),
    ("write the report", (("dpaguard.cli._common", "write_report"),)),
)


def _wrap(owner: Any, name: str, label: str, spent: dict[str, float]) -> None:
    """Time every call of owner.name, also where a module imported it by name."""
    original: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.process_time() - start

    setattr(owner, name, timed)
    for module in list(sys.modules.values()):
        if module is not None and module is not owner and getattr(module, name, None) is original:
            setattr(module, name, timed)


def child(argv: list[str], out: Path) -> None:
    """One audit in this process, its stages timed; the figures to `out` as JSON."""
    spent: dict[str, float] = {}
    import dpaguard.cli
    import dpaguard.cli.audit  # noqa: F401  (its imports are the start-up of an audit)

    spent["start-up and imports"] = time.process_time()
    for label, places in STAGES:
        for module_name, attribute in places:
            owner: Any = importlib.import_module(module_name)
            *path, name = attribute.split(".")
            for part in path:
                owner = getattr(owner, part, None)
            if owner is not None and hasattr(owner, name):
                _wrap(owner, name, label, spent)
                break
    code = dpaguard.cli.main(argv)
    spent["whole run"] = time.process_time()
    out.write_text(json.dumps({"exit": code, "spent": spent}))


def main(argv: list[str] | None = None) -> int:
    """Generate the estate, run --runs children, print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--estate", choices=("templated", "heavy", "distinct"), default="distinct")
    parser.add_argument("--resources", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--format", default="json", help="the report format (default: json)")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[1:], Path(args.child[0]))
        return 0
    from dpaguard.source.state import to_export
    from support.estates import finding_heavy_estate, vs_checkov_estate

    work = Path(tempfile.mkdtemp(prefix="dpaguard-stages-"))
    deployment = (vs_checkov_estate(args.resources) if args.estate == "templated"
                  else finding_heavy_estate(args.resources, distinct=args.estate == "distinct"))
    export = work / "estate.json"
    export.write_text(json.dumps(to_export(deployment)))
    project = work / "project"
    (project / "policies").parent.mkdir(parents=True, exist_ok=True)
    os.symlink(REPO / "policies", project / "policies")
    runs: list[dict[str, float]] = []
    walls, peaks, loads = [], [], []
    for _ in range(args.runs):
        figures = work / "figures.json"
        loads.append(os.getloadavg()[0])
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "benchmarks.bench_stages", "--child", str(figures), "audit", "--state", str(export),
                        "--project-dir", str(project), "--format", args.format, "--output", str(work / "report"), "--quiet"],
                       check=True, cwd=Path(__file__).resolve().parents[1])
        walls.append(time.perf_counter() - start)
        # ru_maxrss of the children is the largest child so far: a later, smaller run does not lower it
        peaks.append(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024)
        done = json.loads(figures.read_text())
        runs.append(done["spent"])
    print(f"dpaguard audit --format {args.format}, {args.estate} estate of {len(deployment.resources):,} resources, "
          f"{args.runs} runs, load average {min(loads):.1f} to {max(loads):.1f}")
    print(f"{'stage':<34} {'CPU s (median)':>14}")
    for label in ["start-up and imports", *(label for label, _ in STAGES), "whole run"]:
        values = [run.get(label, 0.0) for run in runs]
        print(f"{label:<34} {statistics.median(values):>14.2f}")
    print(f"{'wall s (median)':<34} {statistics.median(walls):>14.2f}")
    print(f"{'peak RSS MB (largest run)':<34} {max(peaks):>14.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
