"""dpaguard installs as a wheel and carries its policy set: a fresh virtual environment with the
wheel and nothing of this checkout can list the controls and check the estate (with no policies/)."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from support import POLICIES, REPO
from dpaguard.policy import load_policy

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist", ".venv", ".checkov-venv")

pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    # No PYTHONPATH: a checkout on it would be imported instead of what the environment holds.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the sources (the build writes nothing into the checkout)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for folder in ("dpaguard", "policies"):
        shutil.copytree(REPO / folder, source / folder, ignore=_IGNORE)
    dist = tmp_path_factory.mktemp("dist")
    # No build isolation and no index: the build uses this environment's setuptools, offline.
    built = _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                 "--wheel-dir", dist, source, cwd=source)
    assert built.returncode == 0, built.stderr[-2000:]
    (path,) = dist.glob("dpaguard-*.whl")
    return path


@pytest.fixture(scope="module")
def fresh(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment holding the wheel; its dependencies are read from this one's site-packages."""
    venv = tmp_path_factory.mktemp("venv") / "fresh"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=venv.parent)
    assert made.returncode == 0, made.stderr
    installed = _run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--quiet", "--no-deps",
                     "--no-index", wheel, cwd=venv.parent)
    assert installed.returncode == 0, installed.stderr[-2000:]
    (fresh_site,) = (venv / "lib").glob("python3.*/site-packages")
    # Only directories, never this environment's .pth files: its editable install of the checkout stays out.
    (fresh_site / "_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return venv


def test_the_wheel_carries_the_policy_set_and_the_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {n.removeprefix("dpaguard/_policies/") for n in names if n.startswith("dpaguard/_policies/")}
    tracked = {str(p.relative_to(POLICIES)) for p in (POLICIES).rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert shipped == tracked
    assert "dpaguard/export/scaleway_terraform.yaml" in names and "dpaguard/py.typed" in names
    assert not [n for n in names if n.startswith(("policies/", "tests/", "infra/"))]


def test_the_installed_dpaguard_is_the_wheel_not_the_checkout(fresh: Path, tmp_path: Path) -> None:
    where = _run(fresh / "bin" / "python", "-c", "import dpaguard, dpaguard.policy as p; print(dpaguard.__file__); print(p.SHIPPED_POLICIES)",
                 cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    module, policies = where.stdout.split()
    assert Path(module).is_relative_to(fresh) and Path(policies).is_relative_to(fresh)


def test_controls_lists_the_shipped_catalogue(fresh: Path, tmp_path: Path) -> None:
    listed = _run(fresh / "bin" / "dpaguard", "controls", "--format", "json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    ids = {c["id"] for c in json.loads(listed.stdout)["controls"]}
    assert ids == {c.id for c in load_policy(POLICIES).controls}


def test_check_evaluates_an_estate_with_no_policies_folder(fresh: Path, tmp_path: Path) -> None:
    estate = tmp_path / "estate"
    estate.mkdir()
    shutil.copy2(REPO / "Pulumi.yaml", estate / "Pulumi.yaml")
    for folder in ("infra", "stacks"):
        shutil.copytree(REPO / folder, estate / folder, ignore=_IGNORE)
    (fresh_site,) = (fresh / "lib").glob("python3.*/site-packages")
    # The estate's own requirement (its DataPacket provider), as `pip install -r requirements.txt` would give it.
    (fresh_site / "_estate.pth").write_text(f"{estate / 'infra' / 'datapacket'}\n")
    report = tmp_path / "report.json"
    done = _run(fresh / "bin" / "dpaguard", "check", "--project-dir", estate, "--stack", "prod", "--no-checkov",
                "--today", "2026-11-29", "--format", "json", "--output", report, "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(report.read_text())
    assert document["policy"]["sha256"] == load_policy(POLICIES).sha256
    assert [s["name"] for s in document["stacks"]] == ["prod"] and document["summary"]["resources"] > 40
