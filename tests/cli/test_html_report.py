"""The HTML compliance report in headless Chromium: it renders, its numbers match the JSON, a screenshot is taken."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from dpaguard.report._shared import cited_clauses
from support.cli import AuditRun
from support.devtools import chromium
from support.html_elements import Elements

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def _run_chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.chromium
def test_html_report_in_chromium_matches_the_json(audit_run: AuditRun, tmp_path: Path) -> None:
    html_path = audit_run.files["html"]
    source = html_path.read_text(encoding="utf-8")
    assert "<script" not in source
    # Self-contained: nothing is fetched from elsewhere (a source a finding cites, versions.yaml's say, is only text).
    fetches = re.compile(r"(?:src|href|srcset|action|data)\s*=\s*[\"']?\s*(?:https?:)?//|url\(\s*[\"']?\s*(?:https?:)?//|@import", re.I)
    assert not fetches.search(source.replace('xmlns="http://www.w3.org/2000/svg"', ""))
    dom = _run_chromium("--dump-dom", html_path.as_uri(), tmp_path=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = Elements()
    page.feed(dom.stdout)
    doc = audit_run.document

    for key in ("mandatory", "advisory", "waived", "controls", "resources"):
        cards = page.having(f"data-summary-{key}")
        assert [c[f"data-summary-{key}"] for c in cards] == [str(doc["summary"][key])], key

    rows = {r["data-stack"]: r for r in page.having("data-mandatory", "tr") if "data-environment" in r and
            "data-stack" in r}
    assert set(rows) == {s["name"] for s in doc["stacks"]}
    for stack in doc["stacks"]:
        mine = [f for f in doc["findings"] if f["stack"] == stack["name"]]
        row = rows[stack["name"]]
        assert row["data-resources"] == str(stack["resources"])
        assert row["data-environment"] == stack["environment"]
        assert row["data-mandatory"] == str(sum(1 for f in mine if not f["waived"] and f["enforcement"] == "mandatory"))
        assert row["data-advisory"] == str(sum(1 for f in mine if not f["waived"] and f["enforcement"] == "advisory"))
        assert row["data-waived"] == str(sum(1 for f in mine if f["waived"]))

    def clauses(text: str) -> set[str]:  # "Appendix C §1.1; Appendix B (DATAPACKET, FRANCE)" cites two (tests/report)
        return set(cited_clauses(text))

    # A finding is listed under each clause its control cites; so is a finding about the DPA and its
    # register (registerFindings), which is never among the program's findings.
    findings = page.having("data-urn", "tr")
    assert sorted((f["data-stack"], f["data-control"], f["data-urn"]) for f in findings) == sorted(
        (f["stack"], f["control"], f["urn"]) for f in doc["findings"] + doc["registerFindings"] for _ in clauses(f["clause"]))

    cells = page.having("data-clause", "g")
    outside = {c["id"] for c in doc["clauses"] if c.get("outside")}  # gate integrity, inventory aids: not in the grid
    assert outside and not outside & {c["data-clause"] for c in cells}
    assert cells and {c["data-clause"] for c in cells} >= {c for f in doc["findings"] for c in clauses(f["clause"])} - outside
    for cell in cells:
        unwaived = [f for f in doc["findings"] + doc["registerFindings"] if cell["data-clause"] in clauses(f["clause"])
                    and f["stack"] == cell["data-stack"] and not f["waived"]]
        assert cell["data-findings"] == str(len(unwaived))
        # undetermined has its own state: a violation at mandatory level fails, an undecided finding is undetermined
        violated = any(f["enforcement"] == "mandatory" and f["status"] == "violation" for f in unwaived)
        undecided = any(f["status"] == "undetermined" for f in unwaived)
        assert (cell["data-status"] == "failed") == violated
        assert (cell["data-status"] == "undetermined") == (undecided and not violated)
        assert (cell["data-status"] == "advisory") == (bool(unwaived) and not violated and not undecided)

    # Every clause of the ledger, in the page as in the JSON, with the same status.
    sections = {a["data-clause"]: a for a in page.having("data-clause", "section")}
    assert {c["id"]: c["status"] for c in doc["clauses"]} == {k: a["data-status"] for k, a in sections.items()}
    assert {c["id"]: str(c["resources"]) for c in doc["clauses"]} == {k: a["data-examined"] for k, a in sections.items()}
    assert {sections[c]["data-status"] for c in ("Article 7", "Appendix C §5", "Appendix C §9")} == {"organisational"}
    # §4's IAM part is checked (DPA-ACC-007); its premises and passwords only a person attests: never green
    assert sections["Appendix C §4"]["data-status"] != "passed"

    evidence = "".join(page.text)
    assert doc["policy"]["sha256"] in evidence and f"dpaguard {doc['tool']['version']}" in evidence
    # the scope block: the report id is the JSON report's, an audit's stacks are state with their manifest
    scope = {a["id"]: a for a in page.having("id", "dd") if a["id"].startswith("scope-")}
    assert {"scope-commit", "scope-policy", "scope-dpa", "scope-tool", "scope-today", "scope-report-id"} <= set(scope)
    assert doc["reportId"] in evidence and doc["scope"]["estateCommit"] is None
    assert {a["data-source"] for a in page.having("data-source", "li")} == {"state"}
    assert "verified in deployed state" not in evidence


@pytest.mark.chromium
def test_html_report_prints_on_a4(audit_run: AuditRun, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    printed = _run_chromium(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", audit_run.files["html"].as_uri(),
                            tmp_path=tmp_path)
    assert printed.returncode == 0, printed.stderr[-2000:]
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf.read_bytes())
    assert boxes, "no page in the PDF"
    # A4 is 595 x 842 points: every page, none in Letter (612 x 792).
    assert all(abs(float(w) - 595.3) < 1.5 and abs(float(h) - 841.9) < 1.5 for w, h in boxes), set(boxes)


@pytest.mark.chromium
def test_html_report_screenshot(audit_run: AuditRun, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    shot = _run_chromium(f"--screenshot={png}", "--window-size=1280,2000", audit_run.files["html"].as_uri(),
                         tmp_path=tmp_path)
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert png.is_file() and png.stat().st_size > 20_000
    assert _png_size(png) == (1280, 2000)
    keep = os.environ.get("DPAGUARD_SCREENSHOT")
    if keep:
        shutil.copyfile(png, keep)
