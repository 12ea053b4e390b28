"""The report by clause (JSON `clauses`, HTML sections, Markdown table) over a hand-built ledger: "passed"
only where a control examined something, organisational and not-covered clauses never green, mandatory,
advisory and waived told apart; the inventory; the stages; French."""

from __future__ import annotations

import dataclasses
import json

import pytest

from dpaguard.model import Clause, ControlId, RegisteredProcessor, Result, Stage, Usage
from dpaguard.report import html, markdown
from dpaguard.report import json as json_report
from support.html_elements import Elements
from support.markdown_table import cells as _cells


def _ledger_result(result: Result) -> Result:
    clauses = (
        Clause("Article 5.2", "Security updates", "no significant degradation", "verified-deployed",
               (ControlId("DPA-TLS-001"),), "Mises à jour de sécurité"),
        Clause("Article 7", "Audits", "Audits may be conducted no more than once per year", "organisational",
               title_fr="Audits"),
        Clause("Article 8.2", "Data transfer", "a mechanism to cover such a transfer", "not-covered",
               title_fr="Transfert des données"),
        Clause("Appendix A §2", "Retention", "kept for one (1) year", "declared", (ControlId("DPA-RET-001"),),
               "Conservation"),
        Clause("Appendix C §1.1", "Location", "located in France", "verified-deployed", (ControlId("DPA-RES-001"),),
               "Localisation"),
    )
    usage = (Usage("prod", "subprocessor", "SCALEWAY", 38), Usage("prod", "subprocessor", "ACME", 2),
             Usage("dev", "subprocessor", "SCALEWAY", 12),
             Usage("prod", "location", "fr-par-1", 30, "FR", "Scaleway DC 3"),
             Usage("prod", "location", "nl-ams", 2, "NL", None))
    return dataclasses.replace(
        result, clauses=clauses, usage=usage,
        subprocessors=(RegisteredProcessor("SCALEWAY", "cloud", "FR"), RegisteredProcessor("COLT", "numbers", "GB")),
        hosting_sites=(("Scaleway DC 3", "Vitry-sur-Seine"), ("Telehouse 2", "Paris")),
        stages=(Stage("render", True, "2 stacks"), Stage("checkov", False, "skipped (--no-checkov)")),
        git_dirty=True, git_diff_sha256="d" * 64, versions={"pulumi": "3.0.0", "checkov": None},
    )


@pytest.fixture()
def ledger_result(result: Result) -> Result:
    """The sample run with a clause ledger, an inventory and stages."""
    return _ledger_result(result)


def test_json_clauses_follow_the_ledger(ledger_result: Result) -> None:
    doc = json.loads(json_report.render(ledger_result))
    clauses = {c["id"]: c for c in doc["clauses"]}
    assert list(clauses) == ["Article 5.2", "Article 7", "Article 8.2", "Appendix A §2", "Appendix C §1.1"]
    assert clauses["Article 5.2"]["status"] == "advisory"  # dev has an unwaived advisory finding, prod a waived one
    assert clauses["Article 5.2"]["stacks"] == {"prod": "waived", "dev": "advisory"}
    assert clauses["Article 7"] == {"id": "Article 7", "title": "Audits", "quote": "Audits may be conducted no more than once per year",
                                    "evidence": "organisational", "status": "organisational", "controls": [],
                                    "resources": 0, "files": 0, "stacks": {"prod": "organisational", "dev": "organisational"},
                                    "note": None, "parts": [], "outside": False, "attestation": None}
    assert clauses["Article 8.2"]["status"] == "not-covered"
    assert clauses["Appendix A §2"]["evidence"] == "declared"
    assert clauses["Appendix A §2"]["stacks"]["dev"] == "not-examined"  # disabled in dev: nothing examined
    assert clauses["Appendix C §1.1"]["status"] == "failed" and clauses["Appendix C §1.1"]["resources"] == 52
    assert clauses["Appendix C §1.1"]["stacks"]["dev"] == "passed"
    # The fields documented before are still there, unchanged.
    assert {"tool", "policy", "generatedAt", "gitCommit", "stacks", "findings", "coverage", "notices", "summary"} <= set(doc)
    assert [c["id"] for c in doc["controls"]] == ["DPA-RES-001", "DPA-TLS-001", "DPA-RET-001"]
    assert doc["controls"][1]["enforcement"] == {"prod": "mandatory", "staging": "advisory", "dev": "advisory"}


def test_passed_needs_a_resource_examined(ledger_result: Result) -> None:
    nothing = dataclasses.replace(ledger_result, findings=(), coverage={k: 0 for k in ledger_result.coverage})
    doc = json.loads(json_report.render(nothing))
    assert {c["status"] for c in doc["clauses"]} == {"not-examined", "organisational", "not-covered"}
    examined = dataclasses.replace(nothing, coverage=ledger_result.coverage)
    statuses = {c["id"]: c["status"] for c in json.loads(json_report.render(examined))["clauses"]}
    assert statuses["Appendix C §1.1"] == "passed" and statuses["Article 7"] == "organisational"


def test_json_inventory_and_evidence(ledger_result: Result) -> None:
    doc = json.loads(json_report.render(ledger_result))
    inventory = doc["inventory"]
    used = {p["name"]: p for p in inventory["subprocessors"]}
    assert used["SCALEWAY"]["resources"] == {"prod": 38, "dev": 12} and used["SCALEWAY"]["inAppendixB"] is True
    assert used["ACME"]["inAppendixB"] is False
    assert inventory["unusedSubprocessors"] == ["COLT"]
    places = {p["name"]: p for p in inventory["locations"]}
    assert places["fr-par-1"]["namedInAppendixC"] is True and places["nl-ams"]["namedInAppendixC"] is None
    assert inventory["hostingSitesNotSeen"] == ["Telehouse 2"]
    assert doc["evidence"]["gitDirty"] is True and doc["evidence"]["gitDiffSha256"] == "d" * 64
    assert doc["evidence"]["stages"][1] == {"name": "checkov", "ran": False, "detail": "skipped (--no-checkov)"}


def _page(result: Result, lang: str = "en") -> tuple[str, Elements]:
    source = html.render(result, lang=lang)
    page = Elements()
    page.feed(source)
    return source, page


def test_html_sections_colours_and_inventory(ledger_result: Result) -> None:
    source, page = _page(ledger_result)
    sections = {a["data-clause"]: a for t, a in page.elements if t == "section" and "data-clause" in a}
    assert sections["Article 7"]["data-status"] == "organisational" and sections["Article 7"]["data-evidence"] == "organisational"
    assert sections["Article 8.2"]["data-status"] == "not-covered"
    cells = {(a["data-clause"], a["data-stack"]): a for a in page.having("data-clause", "g")}
    assert cells[("Article 5.2", "dev")]["data-status"] == "advisory"
    assert cells[("Article 5.2", "prod")]["data-status"] == "waived"
    assert cells[("Appendix C §1.1", "prod")]["data-status"] == "failed"
    assert cells[("Article 7", "prod")]["data-status"] == "organisational"
    fills = {}
    for status in ("failed", "advisory", "waived", "passed", "organisational", "not-covered", "not-examined"):
        marker = f'data-status="{status}"'
        at = source.index(marker, source.index('id="clause-grid"'))
        fills[status] = source[source.index('fill="', at) + 6: source.index('"', source.index('fill="', at) + 6)]
    assert len(set(fills.values())) == len(fills), fills  # seven states, seven colours
    assert fills["organisational"] != fills["passed"] and fills["not-covered"] != fills["passed"]
    rows = {a["data-name"]: a for a in page.having("data-name", "tr")}
    assert rows["ACME"]["data-listed"] == "no" and rows["SCALEWAY"]["data-total"] == "50"
    assert page.having("data-count", "p")[0]["data-count"] == "1"  # COLT listed, unused
    stages = {a["data-stage"]: a["data-ran"] for a in page.having("data-stage", "tr")}
    assert stages == {"render": "true", "checkov": "false"}
    assert page.having("data-dirty")[0]["data-dirty"] == "true" and "d" * 64 in source
    assert "@page{size:A4" in source and 'id="signoff"' in source
    text = "".join(page.text)
    for label in ("Name", "Role", "Date", "Signature", "Audits may be conducted no more than once per year"):
        assert label in text


def test_html_in_french(ledger_result: Result) -> None:
    source, page = _page(ledger_result, "fr")
    assert '<html lang="fr">' in source
    text = "".join(page.text)
    assert "Annexe C §1.1" in text and "Appendix C §1.1" not in text
    assert "Article 8.2" in text and "Transfert des données" in text and "Par clause de l'accord" in text
    assert "Signature" in text and "Fonction" in text
    # Ids in data attributes stay the catalogue's, so tools read one language.
    assert any(a["data-clause"] == "Appendix C §1.1" for a in page.having("data-clause", "section"))


def test_markdown_by_clause_and_in_french(ledger_result: Result) -> None:
    lines = markdown.render(ledger_result).splitlines()
    start = lines.index("### By DPA clause") + 4
    rows = [_cells(line) for line in lines[start:start + 5]]
    assert [r[0] for r in rows] == ["Article 5.2", "Article 7", "Article 8.2", "Appendix A §2", "Appendix C §1.1"]
    assert rows[1][2:4] == ["organisational", "organisational"] and rows[2][3] == "not covered"
    assert rows[4][3] == "failed (mandatory)" and rows[4][5] == "52" and rows[4][6] == "located in France"
    assert "**Listed in Appendix B, used by no evaluated stack** (1): COLT" in lines
    assert any("checkov" in line and "not run" in line for line in lines)
    french = markdown.render(ledger_result, lang="fr")
    assert "### Par clause de l'accord" in french and "| Annexe C §1.1 | Localisation † |" in french
    assert "Appendix C §1.1 |" not in french
