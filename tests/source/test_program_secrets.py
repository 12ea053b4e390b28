"""A program cannot read dpaguard's environment, nor that of any process above it (issue 15, item 3).

Canary secrets sit in the environment dpaguard was started with, under names CI systems use. The
program reads its own environment and every /proc/<pid>/environ and cmdline it can (its ancestors,
then every process it can see) and writes whatever it found into resource names and tags, so that
a leak would reach every output. No canary may appear anywhere.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.cli import dpaguard_command

pytestmark = pytest.mark.e2e  # renders programs through the installed command

CANARY_NAMES = ("GITHUB_TOKEN", "DATABASE_URL", "CI_JOB_JWT", "SLACK_WEBHOOK_URL", "NPM_TOKEN", "SOME_HARMLESS_NAME")

SNOOP = r'''
import os, re
import pulumi
import pulumiverse_scaleway as scaleway

found = ["%s=%s" % item for item in os.environ.items()]
readable = 0

def read(pid, name):
    global readable
    try:
        with open("/proc/%s/%s" % (pid, name), "rb") as handle:
            found.append(handle.read().decode("utf-8", "replace"))
            readable += 1
    except OSError as error:
        found.append("denied %s %s %s" % (pid, name, error.errno))

pid = os.getpid()
while pid > 0:  # every ancestor
    read(pid, "environ")
    read(pid, "cmdline")
    try:
        with open("/proc/%s/stat" % pid) as handle:
            pid = int(handle.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        break
for name in os.listdir("/proc"):  # every process it can see
    if name.isdigit():
        read(name, "environ")
text = "|".join(found)
for token in sorted(set(re.findall(r"DPAGUARD_CANARY_[0-9a-f]+", text))):
    scaleway.network.Vpc(token.lower().replace("_", "-"), tags=["leak:" + token])
scaleway.network.Vpc("snooped", tags=["read:%d" % readable, "path:%s" % ("PATH=" in text), "text:" + text[:4000]])
'''


def _project(directory: Path) -> Path:
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text("name: snoop\nruntime: python\n")
    (directory / "Pulumi.dev.yaml").write_text("config:\n  scaleway:region: fr-par\n  scaleway:zone: fr-par-1\n")
    (directory / "__main__.py").write_text(SNOOP)
    return directory


def _canaries() -> dict[str, str]:
    return {name: f"DPAGUARD_CANARY_{secrets.token_hex(8)}" for name in CANARY_NAMES}


def _leaks(text: str, canaries: dict[str, str]) -> list[str]:
    found = []
    for name, value in canaries.items():
        forms = (value, value.lower(), value.lower().replace("_", "-"), value[len("DPAGUARD_CANARY_"):],
                 base64.b64encode(value.encode()).decode(), value.encode().hex())
        found += [f"{name} as {form!r}" for form in forms if form in text]
    return found


def _witness(rendered: dict[str, Any]) -> list[str]:
    (snooped,) = [r for r in rendered["deployment"]["resources"] if r["urn"].endswith("::snooped")]
    return list(snooped["inputs"]["tags"])


@pytest.mark.parametrize("namespaces", [True, False], ids=["namespaces", "subreaper-fallback"])
def test_render_reads_no_secret_of_any_process_above_the_program(tmp_path: Path, namespaces: bool) -> None:
    project = _project(tmp_path / "snoop")
    canaries = _canaries()
    output = tmp_path / "render.json"
    script = (
        "import sys\nfrom dpaguard.source import program, state\n"
        f"program.USE_NAMESPACES = {namespaces}\n"
        "deployment = program.render_stack(sys.argv[1], 'dev', timeout=120)\n"
        "open(sys.argv[2], 'w').write(state.export_json(deployment))\n"
    )
    run = subprocess.run([sys.executable, "-c", script, str(project), str(output)], env={**os.environ, **canaries},
                         capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr
    text = output.read_text()
    tags = _witness(json.loads(text))
    assert "path:True" in tags, "the program did not run its snooping"
    assert not _leaks(text + run.stdout + run.stderr, canaries), tags


def _namespaces_allowed() -> bool:
    probe = "import sys\nfrom dpaguard.contain import _isolate\nsys.exit(0 if _isolate() else 1)"
    return subprocess.run([sys.executable, "-c", probe], timeout=30).returncode == 0


def test_no_output_of_any_command_holds_a_secret_of_dpaguard_s_environment(tmp_path: Path) -> None:
    """Every command, with the program in namespaces of its own; where the kernel refuses them a process
    above dpaguard (this shell) is readable to the program, as SECURITY.md says."""
    if not _namespaces_allowed():
        pytest.skip("this kernel refuses PID namespaces to this user: the shell above dpaguard is readable (SECURITY.md)")
    project = _project(tmp_path / "snoop")
    canaries = _canaries()
    env = {**os.environ, **canaries}
    out = tmp_path / "out"
    out.mkdir()
    formats = ["text", "json", "sarif", "junit", "markdown", "html"]
    runs = [
        [*dpaguard_command(), "render", "--project-dir", str(project), "--stack", "dev", "--output", str(out / "render.json")],
        [*dpaguard_command(), "check", "--project-dir", str(project), "--stack", "dev", "--no-checkov",
         "--evidence", str(out / "evidence.jsonl"),
         *[arg for f in formats for arg in ("--format", f, "--output", str(out / f"report.{f}"))]],
        [*dpaguard_command(), "check", "--project-dir", str(project), "--stack", "dev", "--no-checkov", "--format", "json"],
        [*dpaguard_command(), "export", "--project-dir", str(project), "--stack", "dev", "--output", str(out / "plan.json")],
    ]
    seen = ""
    for command in runs:
        # through a shell that stays dpaguard's parent, holding the secrets too, as a CI job's shell does
        wrapped = ["/bin/sh", "-c", '"$@"; status=$?; exit $status', "sh", *command]
        done = subprocess.run(wrapped, env=env, capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
        assert done.returncode in (0, 1), (command[1], done.stderr)
        seen += done.stdout + done.stderr
    files = sorted(out.iterdir())
    assert {f.name for f in files} >= {"render.json", "evidence.jsonl", "plan.json", *(f"report.{f}" for f in formats)}
    for path in files:
        seen += path.read_text(errors="replace")
    assert "path:True" in _witness(json.loads((out / "render.json").read_text()))
    assert not _leaks(seen, canaries)
