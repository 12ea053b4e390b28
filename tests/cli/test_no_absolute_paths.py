"""No report names the machine it ran on (issue 22 §3): an audit whose state files, stack config,
policies and baseline all live in a temporary folder shows none of their absolute paths, in any format."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from support import CLI_FIXTURES, POLICIES
from support.cli import dpaguard
from dpaguard.report import FORMATS


def test_no_format_of_an_audit_shows_an_absolute_path(tmp_path: Path) -> None:
    state = tmp_path / "states" / "prod export.json"
    state.parent.mkdir()
    shutil.copyfile(CLI_FIXTURES / "prod-drifted.json", state)
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    # a malformed staging waiver: a DPA-WAI-002 finding that points at the waiver file
    (policies / "waivers.yaml").write_text(
        "waivers:\n  - {control: DPA-RES-001, urn: '*', stack: staging, reason: r, expires: 2027-01-01}\n", encoding="utf-8")
    common = ("audit", "--state", state, "--policies", policies, "--today", "2026-11-27", "--quiet")
    first = dpaguard(*common, "--format", "json")
    assert first.returncode in (0, 1), first.stderr
    baseline = tmp_path / "baseline.json"
    baseline.write_text(first.stdout, encoding="utf-8")
    outputs = tmp_path / "out"
    outputs.mkdir()
    args: list[str | Path] = [*common, "--baseline", baseline]
    for name in FORMATS:
        args += ["--format", name, "--output", outputs / f"report.{name}"]
    run = dpaguard(*args)
    assert run.returncode in (0, 1), run.stderr
    reports = {name: (outputs / f"report.{name}").read_text(encoding="utf-8") for name in FORMATS}
    assert set(reports) == {"text", "json", "sarif", "junit", "markdown", "html"}
    doc = json.loads(reports["json"])
    assert any(f["control"] == "DPA-WAI-002" for f in doc["findings"]) and doc["changes"] is not None
    folder = str(tmp_path)
    for name, text in reports.items():
        assert folder not in text, f"{name} report shows {folder}"
        assert folder.replace(" ", "%20") not in text and "file://" not in text, name
    # the files are still named, by their name
    assert "prod export.json" in reports["text"] and "waivers.yaml" in reports["text"]
    assert "baseline.json" in reports["json"]
