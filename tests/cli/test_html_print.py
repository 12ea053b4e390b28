"""The HTML report printed to A4 by headless Chromium (issue 22 §7), checked on the page boxes:
- in print media at the A4 content width, no element runs past the page and no word wraps inside
  itself (letter by letter, "stagin/g"); each drawing of the clause grid fits on one page;
- in the PDF Chromium prints, every page is A4 and carries the running header with the report id and
  "Page n of N", and no page ends on a heading;
- the sign-off names the report id, says what the signer attests and lists the exceptions in force.
In English and in French, for an audit with a prod waiver in force and a baseline (the longest report).
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from support import CLI_FIXTURES, POLICIES
from support.cli import dpaguard
from support.devtools import Page, chromium
from support.html_elements import Elements

# A4 is 210 mm wide; the report's @page leaves 12 mm each side: 186 mm at 96 CSS px per inch.
CONTENT_WIDTH = round(186 / 25.4 * 96)
# 297 mm less the 16 mm and 15 mm margins.
CONTENT_HEIGHT = round((297 - 31) / 25.4 * 96)

MEASURE = r"""
(() => {
  const width = document.documentElement.clientWidth;
  const overflow = [];
  for (const el of document.querySelectorAll('main *')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.right > width + 1 || box.left < -1) {
      overflow.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.getAttribute('class') || ''} right=${Math.round(box.right)}`);
    }
  }
  // A run of letters or digits drawn on two lines was broken inside a word. Digests and URNs
  // (code, .mono) may break anywhere; the grid is a drawing.
  const broken = [];
  const range = document.createRange();
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.parentElement || node.parentElement.closest('code, .mono, svg')) continue;
    for (const match of node.data.matchAll(/[\p{L}\p{N}]{2,}/gu)) {
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (lines.size > 1) broken.push(match[0]);
    }
  }
  const grids = Array.from(document.querySelectorAll('svg.grid-part')).map(svg => Math.round(svg.getBoundingClientRect().height));
  const headings = Array.from(document.querySelectorAll('main h1, main h2, main h3, main h4'))
    .map(h => h.innerText.replace(/\s+/g, ' ').trim());
  return {width, overflow, broken, grids, headings};
})()
"""


def _page_texts(pdf: bytes) -> tuple[list[str], list[tuple[float, float]]]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    boxes = [(float(page.mediabox.width), float(page.mediabox.height)) for page in reader.pages]
    return [page.extract_text() or "" for page in reader.pages], boxes


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An audit of prod and dev with a prod waiver in force and a baseline: its HTML in English and French."""
    out = tmp_path_factory.mktemp("print")
    states: list[str | Path] = ["--state", CLI_FIXTURES / "prod-drifted.json", CLI_FIXTURES / "dev.json",
              "--stack-config", CLI_FIXTURES / "Pulumi.dev.yaml", "--today", "2026-11-27", "--quiet"]
    first = dpaguard("audit", *states, "--format", "json")
    assert first.returncode in (0, 1), first.stderr
    before = json.loads(first.stdout)
    baseline = out / "baseline.json"
    baseline.write_text(first.stdout, encoding="utf-8")
    (finding,) = [f for f in before["findings"] if f["stack"] == "prod" and f["control"] == "DPA-TLS-004"][:1]
    policies = out / "policies"
    shutil.copytree(POLICIES, policies)
    (policies / "waivers.yaml").write_text(
        "waivers:\n"
        f"  - control: {finding['control']}\n    urn: '{finding['urn']}'\n    stack: prod\n"
        "    reason: the cache is rebuilt with TLS in the December maintenance window\n"
        "    approver: dpo@example.org\n    approved: 2026-11-02\n    expires: 2027-01-31\n    reference: DPO-42\n"
        "    compensating: the cache is reachable from the private network only, its traffic logged\n",
        encoding="utf-8")
    documents: dict[str, Any] = {}
    for lang in ("en", "fr"):
        html = out / f"report-{lang}.html"
        run = dpaguard("audit", *states, "--policies", policies, "--baseline", baseline, "--lang", lang,
                       "--format", "json", "--format", "html", "--output", "-", "--output", html)
        assert run.returncode in (0, 1), run.stderr
        documents[lang] = {"json": json.loads(run.stdout), "html": html, "waiver": finding}
    return documents


@pytest.mark.chromium
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_report_prints_on_a4_without_overflow_split_rows_or_orphan_headings(
        reports: dict[str, Any], lang: str, tmp_path: Path) -> None:
    run = reports[lang]
    report_id = run["json"]["reportId"]
    with Page(chromium(), tmp_path / "profile") as page:
        page.call("Emulation.setEmulatedMedia", media="print")
        page.call("Emulation.setScrollbarsHidden", hidden=True)  # a printed page has no scroll bar
        page.call("Emulation.setDeviceMetricsOverride", width=CONTENT_WIDTH, height=CONTENT_HEIGHT, deviceScaleFactor=1,
                  mobile=False)
        page.open(run["html"].as_uri())
        measured = page.evaluate(MEASURE)
        pdf = page.print_to_pdf()
    assert measured["width"] == CONTENT_WIDTH
    assert measured["overflow"] == [], "wider than an A4 page"
    assert measured["broken"] == [], "words wrapped inside themselves"
    assert measured["grids"] and max(measured["grids"]) <= CONTENT_HEIGHT, "a drawing of the grid taller than a page"

    texts, boxes = _page_texts(pdf)
    assert len(texts) >= 3
    # A4 is 595 x 842 points: every page.
    assert all(abs(w - 595.3) < 1.5 and abs(h - 841.9) < 1.5 for w, h in boxes), set(boxes)
    numbering = "Page {} of {}" if lang == "en" else "Page {} sur {}"
    headings = {h for h in measured["headings"] if len(h) > 3}
    for number, text in enumerate(texts, 1):
        flat = " ".join(text.split())
        assert report_id in flat, f"page {number} has no running header with the report id"
        # drawn without ligatures ("identifiant", "ff" in the id): the id copied from the page is the id
        header = next(line for line in text.splitlines() if report_id in line)
        assert not re.search("[\ufb00-\ufb06]", header), header
        assert numbering.format(number, len(texts)) in flat, f"page {number} has no page number"
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        body = [line for line in lines if report_id not in line and not re.fullmatch(r"Page \d+ (of|sur) \d+", line)]
        if number < len(texts) and body:
            last = " ".join(body[-1].split())
            assert last not in headings, f"page {number} ends on the heading {last!r}"


@pytest.mark.chromium
def test_the_sign_off_names_the_report_the_attestation_and_the_exceptions(reports: dict[str, Any], tmp_path: Path) -> None:
    run = reports["en"]
    doc, waiver = run["json"], run["waiver"]
    page = Elements()
    page.feed(run["html"].read_text(encoding="utf-8"))
    (section,) = page.having("data-report-id", "section")
    assert section["data-report-id"] == doc["reportId"]
    text = " ".join(" ".join(page.text).split())
    assert f"I have reviewed this report, id {doc['reportId']}, against the Data Processing Agreement" in text
    (exception,) = page.having("data-reference", "tr")
    assert (exception["data-control"], exception["data-urn"], exception["data-reference"], exception["data-expires"]) == (
        waiver["control"], waiver["urn"], "DPO-42", "2027-01-31")
    assert "the cache is reachable from the private network only, its traffic logged" in text
    assert [w["reference"] for w in doc["waivers"]] == ["DPO-42"]
    french = " ".join(reports["fr"]["html"].read_text(encoding="utf-8").split())
    assert f"J'ai examiné ce rapport, identifiant {reports['fr']['json']['reportId']}" in french.replace("&#x27;", "'")
