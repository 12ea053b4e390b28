"""The evidence records the SDK and provider versions the program ran with, and every report names its interpreter (issue 21 §6, §1)."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from support import REPO
from support.cli import dpaguard
from support.html_elements import Elements

from dpaguard.source.program import render_stack

pytestmark = pytest.mark.e2e  # renders a program in its own virtualenv

# A corpus program pinned to older SDKs than dpaguard's (requirements.txt), run in the virtualenv .ci/setup makes.
PINNED = REPO / "tests" / "corpus" / "old_sdk_rdb"
VENV_PYTHON = PINNED / "venv" / "bin" / "python"


def test_the_versions_are_the_programs_and_every_report_names_its_interpreter(tmp_path: Path) -> None:
    if not VENV_PYTHON.exists():
        pytest.skip("tests/corpus/old_sdk_rdb/venv is made by .ci/setup (python -m venv, pip install -r requirements.txt)")
    text, html = tmp_path / "report.txt", tmp_path / "report.html"
    run = dpaguard("check", "--project-dir", PINNED, "--stack", "prod", "--no-checkov", "--fail-on", "never",
                   "--format", "json", "--format", "text", "--format", "html", "--output", "-", "--output", text,
                   "--output", html)
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    versions = document["evidence"]["versions"]
    # pinned in requirements.txt, not dpaguard's own (3.27x, 1.60): read inside the program's own process
    assert (versions["pulumi"], versions["pulumiverse-scaleway"]) == ("3.200.0", "1.30.0")
    assert versions["interpreter"] == "venv/bin/python" and versions["python"]  # relative to the project
    ran = f"orders: the program ran under venv/bin/python (Python {versions['python']}; pulumi 3.200.0, pulumiverse-scaleway 1.30.0)"
    assert ran in document["notices"]
    assert f"note: {ran}" in text.read_text(encoding="utf-8")
    page = Elements()
    page.feed(html.read_text(encoding="utf-8"))
    shown = "".join(page.text)
    assert ran in shown and "pulumi 3.200.0" in shown and "interpreter venv/bin/python" in shown


def test_the_versions_are_read_in_the_programs_own_environment(tmp_path: Path) -> None:
    # Its own virtualenv, whose metadata names SDK versions other than dpaguard's (the code comes from
    # dpaguard's environment through a `.pth`, as in test_interpreter: no network here to install old ones).
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: own\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n")
    (project / "Pulumi.dev.yaml").write_text("config:\n  scaleway:region: fr-par\n")
    (project / "__main__.py").write_text("import pulumiverse_scaleway as scaleway\nscaleway.network.Vpc('vpc')\n")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(project / "venv")], check=True, capture_output=True)
    python = project / "venv" / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    own = sysconfig.get_paths()["purelib"]
    (site / "zz-sdk.pth").write_text("".join(f"{p}\n" for p in [own, *(p for p in sys.path if p.endswith("site-packages"))]))
    for name, version in (("pulumi", "3.201.0"), ("pulumiverse_scaleway", "1.31.0")):
        info = site / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n")
    deployment = render_stack(project, "dev", timeout=120)
    assert deployment.runtime["pulumi"] == "3.201.0" and deployment.runtime["pulumiverse-scaleway"] == "1.31.0"
    assert deployment.runtime["interpreter"] == "venv/bin/python"  # inside the project: relative to it
    (notice,) = deployment.notices
    assert notice == (f"own: the program ran under venv/bin/python (Python {deployment.runtime['python']};"
                      " pulumi 3.201.0, pulumiverse-scaleway 1.31.0)")
