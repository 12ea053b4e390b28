"""Benchmark of the offline render: `dpaguard check` on a 126-resource program, the prod stack, programs of growing size.

Run: cd tests && ../.venv/bin/python -m benchmarks.bench_render [--sizes 100,1000,5000] [--repeat 3] [--check-only]

First `dpaguard check --no-checkov` on a generated 126-resource program (issue 21 §7): warm (the
bytecode of dpaguard, the SDK and the provider written), target under 2 s; then with
PYTHONDONTWRITEBYTECODE=1 set for the whole run and the program in a virtualenv of its own holding no
bytecode at all (as `uv` makes one, or pip on such a machine), target under 4 s once dpaguard's
bytecode cache is filled (the first, cold run is printed too). Then `dpaguard render` wall times
(best of --repeat) and the time per resource, so the growth can be read directly; each includes a
whole run: interpreter start, Pulumi SDK import, the program in its child process, JSON export.
Exits 1 when a check target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
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


# What the generated check program's virtualenv holds: the SDK, the provider and what they require.
CHECK_DISTRIBUTIONS = ("pulumi", "pulumiverse-scaleway")
CHECK_RESOURCES = 126
WARM_TARGET_S = 2.0
NO_BYTECODE_TARGET_S = 4.0


def _closure(names: tuple[str, ...]) -> list[metadata.Distribution]:
    """The installed distributions `names` need, their requirements' requirements included (no extras)."""
    from packaging.requirements import Requirement

    found: dict[str, metadata.Distribution] = {}
    todo = list(names)
    while todo:
        distribution = metadata.distribution(todo.pop())
        key = distribution.metadata["Name"].lower().replace("_", "-")
        if key in found:
            continue
        found[key] = distribution
        for text in distribution.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return list(found.values())


def venv_without_bytecode(path: Path) -> Path:
    """A virtualenv holding the SDK and the provider, as installed but without a single .pyc (as `uv` leaves one)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, capture_output=True)
    python = path / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    for distribution in _closure(CHECK_DISTRIBUTIONS):
        for file in distribution.files or []:
            if "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            source = Path(str(distribution.locate_file(file)))
            target = (site / file).resolve()
            if source.is_file() and str(target).startswith(str(site)):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
    return python


def _cpu() -> float:
    """CPU seconds of the processes this one waited for (dpaguard, its launchers, the programs they ran)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_check(project: Path, env: dict[str, str], repeat: int) -> tuple[float, list[float], int, float]:
    """`dpaguard check --no-checkov` on the bench stack: (first run, the next `repeat` runs, resources, best CPU s)."""
    argv = [str(Path(sys.executable).parent / "dpaguard"), "check", "--project-dir", str(project), "--stack", "bench",
            "--no-checkov", "--quiet", "--format", "json", "--output", "-", "--fail-on", "never"]
    times, cpus, resources = [], [], 0
    for _ in range(repeat + 1):
        started, cpu = time.perf_counter(), _cpu()
        run = subprocess.run(argv, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - started)
        cpus.append(_cpu() - cpu)
        if run.returncode != 0:
            raise SystemExit(f"dpaguard check failed: {run.stderr.strip()}")
        resources = json.loads(run.stdout)["summary"]["resources"]
    return times[0], times[1:], resources, min(cpus[1:])


def bench_check(directory: Path, repeat: int) -> bool:
    """The check figures of issue 21 §7; whether both targets are met."""
    project = generated(directory, CHECK_RESOURCES)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    _, warm, resources, cpu = timed_check(project, env, repeat)
    print(f"check, {resources} resources, warm: best {min(warm):.2f} s ({cpu:.2f} s CPU),"
          f" runs {', '.join(f'{t:.2f}' for t in warm)}"
          f" (target < {WARM_TARGET_S:g} s: {'OK' if min(warm) < WARM_TARGET_S else 'OVER TARGET'})")
    bare = directory / "bare"
    venv_without_bytecode(bare / "venv")
    shutil.copytree(project, bare / "project")
    (bare / "project" / "Pulumi.yaml").write_text(
        f"name: gen{CHECK_RESOURCES}\nruntime:\n  name: python\n  options:\n    virtualenv: {bare / 'venv'}\n")
    cache = directory / "bytecode-cache"  # dpaguard's cache, empty at first: the cold run fills it
    quiet = {**env, "PYTHONDONTWRITEBYTECODE": "1", "DPAGUARD_BYTECODE_CACHE": str(cache)}
    cold, runs, _, cpu = timed_check(bare / "project", quiet, repeat)
    print(f"check, PYTHONDONTWRITEBYTECODE=1, a virtualenv without bytecode: cold {cold:.2f} s, then best"
          f" {min(runs):.2f} s ({cpu:.2f} s CPU), runs {', '.join(f'{t:.2f}' for t in runs)}"
          f" (target < {NO_BYTECODE_TARGET_S:g} s: {'OK' if min(runs) < NO_BYTECODE_TARGET_S else 'OVER TARGET'})")
    return min(warm) < WARM_TARGET_S and min(runs) < NO_BYTECODE_TARGET_S


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--check-only", action="store_true", help="only the `dpaguard check` figures of issue 21 §7")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="dpaguard-bench-check-") as work:
        met = bench_check(Path(work), args.repeat)
    if args.check_only:
        sys.exit(0 if met else 1)
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
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
