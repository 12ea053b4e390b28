"""Benchmark of the offline render: the prod stack end to end, and generated programs of growing size.

Run: cd tests && ../.venv/bin/python -m benchmarks.bench_render [--sizes 100,1000,5000] [--repeat 3]
Prints wall times (best of --repeat) and the time per resource, so the growth can be read directly.
Each figure includes a whole `dpaguard render` run: interpreter start, Pulumi SDK import, the program
in its child process, JSON export.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from support import REPO

# Used when the dispatcher cannot load yet: the same work as `dpaguard render`, minus argument parsing.
RENDER_SNIPPET = (
    "import sys\n"
    "from dpaguard.source.program import render_stack\n"
    "from dpaguard.source.state import export_json\n"
    "open(sys.argv[3], 'w').write(export_json(render_stack(sys.argv[1], sys.argv[2], timeout=600)))\n"
)

PROGRAM = '''"""Generated benchmark program: {count} resources in components of 50."""
import pulumi
import pulumiverse_scaleway as scaleway

COUNT = {count}


class Segment(pulumi.ComponentResource):
    def __init__(self, name, size, opts=None):
        super().__init__("bench:index:Segment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        vpc = scaleway.network.Vpc(f"{{name}}-vpc", name=f"{{name}}-vpc", tags=["env:bench"], opts=child)
        made = 1
        while made < size:
            if made % 3 == 1:
                scaleway.network.PrivateNetwork(
                    f"{{name}}-pn-{{made}}", vpc_id=vpc.id, ipv4_subnet={{"subnet": f"10.{{made % 250}}.0.0/24"}}, opts=child
                )
            else:
                scaleway.object.Bucket(
                    f"{{name}}-bucket-{{made}}",
                    name=f"{{name}}-bucket-{{made}}",
                    tags={{"env": "bench", "data-category": "call-logs"}},
                    versioning={{"enabled": True}},
                    lifecycle_rules=[{{"enabled": True, "expiration": {{"days": 365}}}}],
                    opts=child,
                )
            made += 1
        self.register_outputs({{}})


remaining, index = COUNT, 0
while remaining > 0:
    size = min(50, remaining - 1) if remaining > 1 else 1
    Segment(f"seg{{index}}", size)
    remaining -= size + 1
    index += 1
'''


def command(project: Path, stack: str, output: Path) -> list[str]:
    script = Path(sys.executable).parent / "dpaguard"
    probe = subprocess.run([str(script), "--version"], capture_output=True) if script.exists() else None
    if probe is not None and probe.returncode == 0:
        return [str(script), "render", "--stack", stack, "--project-dir", str(project), "--output", str(output)]
    return [sys.executable, "-c", RENDER_SNIPPET, str(project), stack, str(output)]


def timed(project: Path, stack: str, repeat: int) -> tuple[float, int, str]:
    best = float("inf")
    resources = 0
    with tempfile.TemporaryDirectory() as work:
        output = Path(work) / "out.json"
        argv = command(project, stack, output)
        for _ in range(repeat):
            started = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            best = min(best, time.perf_counter() - started)
        resources = len(json.loads(output.read_text())["deployment"]["resources"])
    how = "dpaguard render" if argv[0].endswith("dpaguard") else "render_stack (dispatcher not loadable)"
    return best, resources, how


def generated(directory: Path, count: int) -> Path:
    project = directory / f"gen{count}"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(f"name: gen{count}\nruntime: python\n")
    (project / "Pulumi.bench.yaml").write_text(
        "config:\n  scaleway:region: fr-par\n  scaleway:zone: fr-par-1\n"
        "  scaleway:projectId: 11111111-2222-3333-4444-555555555555\n"
    )
    (project / "__main__.py").write_text(PROGRAM.format(count=count))
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    seconds, resources, how = timed(REPO, "prod", args.repeat)
    verdict = "OK" if seconds < 5 else "OVER TARGET"
    print(f"prod stack ({how}): {seconds:.2f} s for {resources} resources (target < 5 s: {verdict})")
    directory = Path(tempfile.mkdtemp(prefix="dpaguard-bench-"))
    try:
        previous: tuple[int, float] | None = None
        print(f"{'program resources':>18} {'exported':>9} {'wall s':>8} {'ms/resource':>12} {'growth':>8}")
        for count in (int(s) for s in args.sizes.split(",")):
            seconds, resources, _ = timed(generated(directory, count), "bench", args.repeat)
            growth = ""
            if previous is not None:
                growth = f"x{seconds / previous[1]:.1f}"
            print(f"{count:>18} {resources:>9} {seconds:>8.2f} {1000 * seconds / count:>12.2f} {growth:>8}")
            previous = (count, seconds)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
