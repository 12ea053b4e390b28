"""The reports of this tree against those of a baseline commit, byte for byte: what an optimisation must not change.

Both trees audit the same inputs with the same policies, the same project folder (a copy of the
policies without git, so that neither tree's commit enters a report), SOURCE_DATE_EPOCH and
`--today`, in every format (text, json, sarif, junit, markdown, html in English and French):
  - the house estate: the prod, staging and dev stacks of this repository, rendered once by this
    tree (rendering is not what is compared);
  - the command-line fixtures (tests/cli/fixtures: prod-drifted.json, dev.json);
  - the generated estates of the benchmarks (tests/support/estates.py): vs_checkov's, the
    finding-heavy one and the finding-heavy one whose resources all differ, at --size resources.
The baseline runs as `python -m dpaguard` with PYTHONPATH on a `git archive` of its dpaguard/
package. Prints one line per file that differs and exits 1 if any does.

    cd tests && ../.venv/bin/python -m benchmarks.same_outputs [--baseline main] [--size 4000] [--engine opa] [--keep DIR]

Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from dpaguard.source.state import to_export
from support import CLI_FIXTURES, REPO
from support.estates import finding_heavy_estate, vs_checkov_estate

FORMATS = (("text", "report.txt"), ("json", "report.json"), ("sarif", "report.sarif"), ("junit", "report.xml"),
           ("markdown", "report.md"), ("html", "report.html"))
ENV = {"SOURCE_DATE_EPOCH": "1800000000", "NO_COLOR": "1"}
TODAY = "2026-11-27"
HOUSE_STACKS = ("prod", "staging", "dev")


def _inputs(folder: Path, size: int) -> dict[str, list[Path]]:
    """Each audit's name and its stack exports, written under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    audits: dict[str, list[Path]] = {}
    for stack in HOUSE_STACKS:
        export = folder / f"house-{stack}.json"
        subprocess.run([sys.executable, "-m", "dpaguard", "render", "--stack", stack, "--project-dir", str(REPO),
                        "--output", str(export)], check=True,
                       env={**os.environ, **ENV, "PYTHONPATH": str(REPO / "infra" / "datapacket")})
        audits[f"house-{stack}"] = [export]
    audits["house-all"] = [folder / f"house-{stack}.json" for stack in HOUSE_STACKS]
    for fixture in ("prod-drifted.json", "dev.json"):
        audits[f"cli-{Path(fixture).stem}"] = [CLI_FIXTURES / fixture]
    for name, deployment in (("templated", vs_checkov_estate(size)), ("heavy", finding_heavy_estate(size)),
                             ("distinct", finding_heavy_estate(size, distinct=True))):
        export = folder / f"{name}-{size}.json"
        export.write_text(json.dumps(to_export(deployment)))
        audits[f"{name}-{size}"] = [export]
    return audits


def _baseline_tree(revision: str, folder: Path) -> Path:
    """The baseline's dpaguard/ package, extracted from git into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision, "dpaguard"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def _audit(states: list[Path], project: Path, out: Path, engine: str, pythonpath: Path | None) -> None:
    """Every format of one audit into `out`, and its exit code and stderr beside them."""
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **ENV}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    reports = [arg for fmt, name in FORMATS for arg in ("--format", fmt, "--output", str(out / name))]
    base = [sys.executable, "-m", "dpaguard", "audit", "--state", *map(str, states), "--project-dir", str(project),
            "--today", TODAY, "--engine", engine]
    for argv, tag in ((base + reports, "en"), (base + ["--lang", "fr", "--format", "html", "--output", str(out / "report.fr.html"),
                                                      "--format", "markdown", "--output", str(out / "report.fr.md")], "fr")):
        done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=out, check=False)
        (out / f"exit-{tag}.txt").write_text(f"{done.returncode}\n{done.stderr}")


def main(argv: list[str] | None = None) -> int:
    """Audit every input with both trees and compare the files."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="main", help="the git revision whose dpaguard/ is the reference (default: main)")
    parser.add_argument("--size", type=int, default=4000, help="resources of each generated estate (default: 4000)")
    parser.add_argument("--engine", default="opa", choices=("opa", "regopy"))
    parser.add_argument("--keep", type=Path, help="write everything here and keep it")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="dpaguard-same-outputs-"))
    project = work / "project"
    if not project.exists():
        shutil.copytree(REPO / "policies", project / "policies")
    audits = _inputs(work / "inputs", args.size)
    baseline = _baseline_tree(args.baseline, work / "baseline-tree")
    differ = 0
    for name, states in audits.items():
        _audit(states, project, work / "baseline" / name, args.engine, baseline)
        _audit(states, project, work / "current" / name, args.engine, None)
        for before in sorted((work / "baseline" / name).iterdir()):
            after = work / "current" / name / before.name
            same = after.is_file() and before.read_bytes() == after.read_bytes()
            differ += not same
            print(f"{'same' if same else 'DIFFERS'}  {name}/{before.name} ({before.stat().st_size:,} bytes)")
    print(f"{differ} file(s) differ" + ("" if args.keep else f" (files in {work})"))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
