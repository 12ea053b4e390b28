"""DPA-SUB-007, Article 4.3's notice of a deletion: "inform the Client in the event of the addition or
deletion of Sub-Processors at least ten (10) working days before such changes". A sub-processor taken
out of Appendix B is a register finding (never the exit code) unless its removal is recorded with ten
working days' notice; against a --baseline report the removal is also a change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from dpaguard.cli import main
from support import CLI_FIXTURES, POLICIES

TODAY = "2026-11-27"
COLT = "  - {name: COLT, service: Number rental, location: GB, transfer_measure: \"N/A, SCC or any other measure replacing them post-Brexit\", notified: null, added: null, packages: []}\n"


def _policies(tmp_path: Path, removed: str | None) -> Path:
    """The repository's policies with COLT taken out of Appendix B, and `removed` as given (None: not recorded)."""
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    register = policies / "dpa" / "subprocessors.yaml"
    text = register.read_text(encoding="utf-8")
    assert COLT in text
    text = text.replace(COLT, "")
    if removed is not None:
        text = text.replace("removed: []\n", f"removed:\n  - {removed}\n")
    register.write_text(text, encoding="utf-8")
    return policies


def _audit(tmp_path: Path, name: str, *extra: str | Path) -> tuple[int, dict[str, Any]]:
    out = tmp_path / f"{name}.json"
    code = main(["audit", "--state", str(CLI_FIXTURES / "prod-drifted.json"), "--today", TODAY, "--quiet",
                 "--format", "json", "--output", str(out), *map(str, extra)])
    return code, json.loads(out.read_text(encoding="utf-8"))


def _removals(doc: dict[str, Any]) -> list[dict[str, Any]]:
    assert not [f for f in doc["findings"] if f["control"] == "DPA-SUB-007"]  # never the program's
    return [f for f in doc["registerFindings"] if f["control"] == "DPA-SUB-007"]


def test_a_sub_processor_gone_since_the_baseline_without_a_record_is_undetermined(tmp_path: Path) -> None:
    code_before, before = _audit(tmp_path, "before")
    assert _removals(before) == []
    baseline = tmp_path / "before.json"
    code, now = _audit(tmp_path, "now", "--baseline", baseline, "--policies", _policies(tmp_path, None))
    assert code == code_before  # a register finding never moves the exit code
    found = _removals(now)
    assert [(f["status"], f["enforcement"]) for f in found] == [("undetermined", "advisory")]
    assert found[0]["message"].startswith("COLT was in Appendix B in the baseline (")
    assert {"kind": "subprocessor-removed", "subject": "COLT", "stack": None, "urn": None, "before": "in Appendix B",
            "after": None} in now["changes"]["items"]
    assert {c["id"]: c for c in now["clauses"]}["Article 4.3"]["status"] != "passed"


@pytest.mark.parametrize(("dates", "expected"), [
    ("notified: 2026-11-20, removed: 2026-11-25", [("violation", "COLT was removed from Appendix B (replaced by VONAGE) "
                                                   "3 working days after the client was notified (10 required)")]),
    ("notified: 2026-10-01, removed: 2026-11-02", []),  # well over ten working days
    ("notified: null, removed: null", [("undetermined", "COLT was removed from Appendix B (replaced by VONAGE), but the "
                                        "register records no notification or removal date, so Article 4.3's ten working "
                                        "days' notice cannot be shown")]),
])
def test_a_recorded_removal_is_judged_on_ten_working_days(tmp_path: Path, dates: str, expected: list[tuple[str, str]]) -> None:
    policies = _policies(tmp_path, f"{{name: COLT, {dates}, replaced_by: VONAGE}}")
    _, now = _audit(tmp_path, "now", "--policies", policies)
    assert [(f["status"], f["message"]) for f in _removals(now)] == expected
    coverage = {(c["control"], c["stack"]): c["resources"] for c in now["coverage"]}
    assert coverage[("DPA-SUB-007", "prod")] == 1


def test_a_removed_entry_still_in_the_register_does_not_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policies = _policies(tmp_path, "{name: SCALEWAY, notified: null, removed: null}")
    code = main(["audit", "--state", str(CLI_FIXTURES / "prod-drifted.json"), "--quiet", "--policies", str(policies)])
    assert code == 2 and "is both in `subprocessors` and `removed`" in capsys.readouterr().err
