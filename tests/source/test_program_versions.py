"""The evidence records the SDK and provider versions the program ran with, and every report names its interpreter (issue 21 §6, §1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import REPO
from support.cli import dpaguard
from support.html_elements import Elements

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
    assert versions["interpreter"] == str(VENV_PYTHON) and versions["python"]
    ran = f"orders: the program ran under {VENV_PYTHON} (Python {versions['python']}; pulumi 3.200.0, pulumiverse-scaleway 1.30.0)"
    assert ran in document["notices"]
    assert f"note: {ran}" in text.read_text(encoding="utf-8")
    page = Elements()
    page.feed(html.read_text(encoding="utf-8"))
    shown = "".join(page.text)
    assert ran in shown and "pulumi 3.200.0" in shown and f"interpreter {VENV_PYTHON}" in shown
