"""A clause is "passed" only when every part of its promise was verified and held (issue 22 §1, §2).

The run-based tests evaluate small stack exports with the repository's policies and the embedded
engine, then read the JSON report: a control whose evidence is absent examined nothing, a zone or
site control never counts the regional resources it does not judge, and a clause's count is of
distinct resources, never more than the estate holds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from dpaguard import pipeline
from dpaguard.errors import PolicyError
from dpaguard.model import Clause, ClausePart, ControlId, Deployment, Result
from dpaguard.policy import Policy
from dpaguard.policy.tables import load_clauses
from dpaguard.report import html
from dpaguard.report import json as json_report
from dpaguard.report.i18n import STRINGS, format_date
from support import POLICIES
from support.estates import vs_checkov_estate

TODAY = dt.date(2026, 1, 5)


def _options() -> pipeline.RunOptions:
    return pipeline.RunOptions(policies_dir=POLICIES, engine="regopy", today=TODAY, generated_at="2026-01-05T00:00:00Z")


def _regional_estate() -> Deployment:
    """A dev stack export of two regional stores, one in Amsterdam, and no stack config (an audit)."""
    urn = "urn:pulumi:dev::shop::{}::{}".format
    provider = urn("pulumi:providers:scaleway", "default")
    tags = {"env": "dev", "data-category": "call-logs"}
    resources: list[dict[str, Any]] = [
        {"urn": urn("pulumi:pulumi:Stack", "shop-dev"), "custom": False, "type": "pulumi:pulumi:Stack"},
        {"urn": provider, "custom": True, "id": "p", "type": "pulumi:providers:scaleway",
         "inputs": {"region": "fr-par", "projectId": "11111111-2222-4333-8444-555555555555"}},
        {"urn": urn("scaleway:object/bucket:Bucket", "logs"), "custom": True, "id": "b",
         "type": "scaleway:object/bucket:Bucket", "provider": f"{provider}::p",
         "inputs": {"name": "logs", "region": "nl-ams", "tags": tags}, "outputs": {"region": "nl-ams", "tags": tags}},
        {"urn": urn("scaleway:databases/instance:Instance", "db"), "custom": True, "id": "d",
         "type": "scaleway:databases/instance:Instance", "provider": f"{provider}::p",
         "inputs": {"name": "db", "region": "fr-par", "engine": "PostgreSQL-16"}, "outputs": {"region": "fr-par"}},
    ]
    return Deployment(stack="dev", project="shop", source="state", resources=tuple(resources),
                      config={"dpaguard:environment": "dev"})


@pytest.fixture(scope="module")
def regional(policy: Policy) -> Result:
    return pipeline.evaluate([_regional_estate()], policy, _options())


def _clauses(result: Result) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in json.loads(json_report.render(result))["clauses"]}


def test_controls_without_their_evidence_examined_nothing(regional: Result) -> None:
    coverage = regional.coverage
    # every notice date of subprocessors.yaml is null, policies/waivers.yaml holds no waiver, an export has no config
    for control in ("DPA-SUB-003", "DPA-WAI-001", "DPA-WAI-002", "DPA-WAI-003", "DPA-SEC-002", "DPA-RET-005",
                    "DPA-RES-007"):
        assert coverage[(control, "dev")] == 0, control
    # a zone or hosting-site control never judged a regional bucket or database
    assert coverage[("DPA-RES-002", "dev")] == 0 and coverage[("DPA-RES-006", "dev")] == 0
    assert coverage[("DPA-RES-001", "dev")] == 2  # the region control judged both
    assert regional.examined[("DPA-RES-001", "dev")] == frozenset(
        {"urn:pulumi:dev::shop::scaleway:object/bucket:Bucket::logs",
         "urn:pulumi:dev::shop::scaleway:databases/instance:Instance::db"})


def test_green_but_partial_clauses_are_not_passed(regional: Result) -> None:
    clauses = _clauses(regional)
    assert clauses["Appendix C §1.1"]["status"] == "failed"  # the bucket in Amsterdam
    # no zonal resource, no DataPacket server: nothing was shown about the hosting sites
    assert clauses["Appendix C §1.2"]["status"] == "not-examined"
    assert clauses["Article 4.3"]["status"] != "passed"
    parts = {p["part"]: p for p in clauses["Appendix C §1.2"]["parts"]}
    assert parts["zonal resources and DataPacket servers are in a named hosting site"]["why"] == (
        "DPA-RES-007: no zonal resources to examine")
    assert parts["the hosts hold the certifications listed"]["status"] == "organisational"
    for clause in ("Article 2.4", "Article 3.2", "Article 5.1", "Appendix A", "Appendix C §2", "Appendix C §6",
                   "Appendix C §8.1"):
        assert clauses[clause]["status"] != "passed", clause
    five_one = {p["part"]: p for p in clauses["Article 5.1"]["parts"]}
    # the waivers are the gate's own integrity, outside the DPA's clauses: they never colour Article 5.1
    assert not any(c.startswith("DPA-WAI") for c in clauses["Article 5.1"]["controls"])
    gate = clauses["Gate integrity"]
    assert gate["outside"] and not clauses["Article 5.1"]["outside"]
    waivers = {p["part"]: p for p in gate["parts"]}["the waivers are current, well-formed and each about one reviewed deviation"]
    assert gate["status"] == "not-examined" and "DPA-WAI-001: no waivers to examine" in waivers["why"]
    assert five_one["security is not substantially reduced since the last report"]["why"] == (
        "DPA-RAT-001: no earlier report to compare with (--baseline)")


def test_counts_are_distinct_resources_never_more_than_the_estate(policy: Policy) -> None:
    estate = vs_checkov_estate(60)
    result = pipeline.evaluate([estate, dataclasses.replace(estate, stack="staging")], policy, _options())
    doc = json.loads(json_report.render(result))
    total = sum(s["resources"] for s in doc["stacks"])
    assert doc["examined"]["estate"] == total == 120
    assert 0 < doc["examined"]["resources"] <= total
    five_one = next(c for c in doc["clauses"] if c["id"] == "Article 5.1")
    # a sum over controls and stacks would count each bucket once per control that reads it
    summed = sum(n for (control, _), n in result.coverage.items() if control in five_one["controls"])
    assert summed > total and five_one["resources"] <= total
    assert all(c["resources"] <= total for c in doc["clauses"])


def test_the_grade_says_what_was_examined(regional: Result) -> None:
    assert _clauses(regional)["Appendix C §1.1"]["evidence"] == "verified-deployed"  # a stack export
    program = dataclasses.replace(regional, stacks=tuple(dataclasses.replace(s, source="program") for s in regional.stacks))
    clauses = _clauses(program)
    assert clauses["Appendix C §1.1"]["evidence"] == "verified-program"  # what the program says, not what is deployed
    assert clauses["Article 2.4"]["evidence"] == "declared"  # a tag a person types
    page = html.render(program)
    heading = re.search(r'<section class="clause [^"]*"[^>]*data-clause="Appendix C §1.1"[^>]*><h3>(.*?)</h3>', page)
    assert heading and "verified on the program" in heading[1] and "deployed" not in heading[1].replace("not deployed", "")


def _one_clause(result: Result, *parts: ClausePart) -> Result:
    clause = Clause("Appendix C §1.1", "Location", "located in France", "verified-deployed",
                    tuple(c for p in parts for c in p.controls), parts=parts)
    return dataclasses.replace(result, clauses=(clause,), findings=())


def test_passed_only_when_every_part_was_verified_and_held(result: Result) -> None:
    checked = ClausePart("in France", "verified", (ControlId("DPA-RES-001"),))
    assert _clauses(_one_clause(result, checked))["Appendix C §1.1"]["status"] == "passed"
    for other in (ClausePart("physically", "organisational", why="a person attests it"),
                  ClausePart("not yet", "not-covered", why="no control"),
                  ClausePart("typed", "declared", (ControlId("DPA-RET-001"),))):
        row = _clauses(_one_clause(result, checked, other))["Appendix C §1.1"]
        assert row["status"] == "partly-verified", other
        assert [p["status"] for p in row["parts"]][0] == "passed"


def test_undetermined_has_its_own_colour_and_heading(result: Result) -> None:
    undetermined = dataclasses.replace(result, findings=tuple(
        f for f in result.findings if f.status == "undetermined"))
    clause = Clause("Appendix C §1.1", "Location", "located in France", "verified-deployed", (ControlId("DPA-RES-001"),))
    undetermined = dataclasses.replace(undetermined, clauses=(clause,))
    assert _clauses(undetermined)["Appendix C §1.1"]["status"] == "undetermined"
    page = html.render(undetermined)
    cell = re.search(r'<g class="cell" data-clause="Appendix C §1.1" data-stack="prod" data-status="(\w+)".*?'
                     r'<rect [^>]*fill="([^"]+)"', page)
    assert cell and cell[1] == "undetermined"
    assert cell[2] == html._COLOURS["undetermined"] != html._COLOURS["advisory"]
    headings = re.findall(r"<h4[^>]*>(.*?)</h4>", page)
    assert headings == ["Undetermined: the gate could not decide"]


def test_a_ledger_part_must_hold_every_listed_control(tmp_path: Path) -> None:
    ledger = tmp_path / "clauses.yaml"
    ledger.write_text(
        "clauses:\n  - id: Article 5.1\n    title: Security\n    quote: q\n    status: verified-deployed\n"
        "    controls: [DPA-A-001, DPA-B-002]\n    parts:\n      - part: one\n        evidence: verified\n"
        "        controls: [DPA-A-001]\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"controls \['DPA-B-002'\] belong to no part"):
        load_clauses(ledger, {"DPA-A-001", "DPA-B-002"})
    ledger.write_text(ledger.read_text(encoding="utf-8").replace("controls: [DPA-A-001]\n", "controls: [DPA-A-001, DPA-B-002]\n"
                      "      - part: two\n        evidence: organisational\n"), encoding="utf-8")
    with pytest.raises(PolicyError, match="say `why`"):
        load_clauses(ledger, {"DPA-A-001", "DPA-B-002"})


def test_the_repository_ledger_gives_the_green_but_partial_clauses_their_parts(policy: Policy) -> None:
    ledger = {c.id: c for c in policy.clauses}
    # (Article 5.1 is whole once the ratchet runs: its parts are all verifiable)
    for clause in ("Article 2.4", "Article 3.2", "Appendix A", "Appendix C §1.2", "Appendix C §2",
                   "Appendix C §6", "Appendix C §8.1"):
        evidence = {p.evidence for p in ledger[clause].parts}
        assert evidence - {"verified", "verified-code"}, clause  # a part that is declared, attested or not covered


def test_french_wording(result: Result) -> None:
    words = " ".join(STRINGS["fr"].values()).lower()
    for calque in ("constat obligatoire", "cliquet", "conforme ", "recommandation"):
        assert calque not in words, calque
    assert "écart(s) bloquant(s)" in STRINGS["fr"]["verdict_failed"]
    assert "contrôle de non-régression" in STRINGS["fr"]["stage_baseline"]
    assert format_date("2026-11-27T03:00:00Z", "fr") == "27 novembre 2026 à 03:00 UTC"
    assert format_date("2027-01-31", "fr") == "31 janvier 2027" and format_date("2027-01-31", "en") == "2027-01-31"
    clause = Clause("Appendix C §1.1", "Location", "located in France", "verified-deployed", (ControlId("DPA-RES-001"),),
                    title_fr="Localisation")
    page = html.render(dataclasses.replace(result, clauses=(clause,)), lang="fr")
    assert "Localisation †" in page and "Traduction du projet" in page
    assert "bloquant" in page and "· mandatory<" not in page  # levels in French too
    subtitle = re.search(r"</h1><p[^>]*>(.*?)</p>", page)
    assert subtitle and "27 novembre 2026 à 03:00 UTC" in subtitle[1] and "2026-11-27T03" not in subtitle[1]


def test_a_place_with_a_named_and_an_unnamed_site_is_named_in_part(result: Result) -> None:
    from dpaguard.model import Usage

    usage = (Usage("prod", "location", "fr-par-1", 30, "FR", "Scaleway DC 2 or Scaleway DC 3"),)
    run = dataclasses.replace(result, usage=usage, hosting_sites=(("Scaleway DC 3", "Vitry-sur-Seine"),))
    place = json.loads(json_report.render(run))["inventory"]["locations"][0]
    assert place["namedInAppendixC"] is False and place["namedInPart"] is True  # as DPA-RES-007 says
    assert 'data-named="in part (not every site of the place)"' in html.render(run)
    from dpaguard.report import markdown

    assert "| fr-par-1 | FR | Scaleway DC 2 or Scaleway DC 3 | in part (not every site of the place) |" in markdown.render(run)
    quoted = dataclasses.replace(run, clauses=(Clause("Appendix C §1.1", "Location", "located in France",
                                                      "verified-deployed", (ControlId("DPA-RES-001"),)),))
    assert "Texte de l&#x27;accord (anglais)</span><blockquote" in html.render(quoted, lang="fr")  # shown, not hovered


def test_the_french_markdown_speaks_french(result: Result) -> None:
    from dpaguard.report import markdown

    clause = Clause("Appendix C §1.1", "Location", "located in France", "verified-deployed", (ControlId("DPA-RES-001"),),
                    title_fr="Localisation")
    text = markdown.render(dataclasses.replace(result, clauses=(clause,)), lang="fr")
    assert "| bloquant (indéterminé) |" in text and "| non bloquant |" in text  # an écart, masculine
    assert "| mandatory" not in text and "31 janvier 2027" in text and "2027-01-31" not in text
    assert "Localisation †" in text and "Traduction du projet" in text


def test_checkovs_files_are_counted_once_and_never_as_resources(result: Result) -> None:
    from dpaguard.model import Control

    secrets = Control(id=ControlId("DPA-SEC-101"), title="No credential in the repository", description="",
                      clause="Appendix C §1.1", category="secrets", severity="high",
                      enforcement={"prod": "mandatory", "staging": "mandatory", "dev": "mandatory"},
                      applies_to=("file",))
    clause = Clause("Appendix C §1.1", "Location", "located in France", "verified-deployed",
                    (ControlId("DPA-RES-001"), ControlId("DPA-SEC-101")))
    coverage = {**result.coverage, ("DPA-SEC-101", "prod"): 122, ("DPA-SEC-101", "dev"): 122}
    run = dataclasses.replace(result, controls=(*result.controls, secrets), clauses=(clause,), coverage=coverage)
    row = _clauses(run)["Appendix C §1.1"]
    assert row["files"] == 122  # the repository's files, once, not once per stack
    assert row["resources"] == 52  # the two stacks' resources, without the files


def test_the_gate_integrity_and_inventory_aids_stay_out_of_the_clause_grid(regional: Result) -> None:
    page = html.render(regional)
    table = re.search(r'<table id="clauses">.*?</table>', page, re.S)
    grid = re.search(r'<svg id="clause-grid".*?</svg>', page, re.S)
    assert table and grid
    for outside in ("Gate integrity", "Inventory aids"):
        assert f'data-clause="{outside}"' not in table[0] and f'data-clause="{outside}"' not in grid[0], outside
        # ... and shown in their own section, after the heading that says they are not clauses of the DPA
        assert re.search(r'<h2 id="outside">.*<section class="clause [^"]*"[^>]*data-clause="' + outside, page, re.S)
    assert 'data-clause="Appendix C §6"' in table[0]
    six = _clauses(regional)["Appendix C §6"]
    assert "DPA-SEG-002" not in six["controls"]  # a tag separates nothing
    assert {p["part"]: p["status"] for p in six["parts"]}["physically separated"] == "organisational"
    from dpaguard.report import markdown

    text = markdown.render(regional)
    clauses_part, _, apart = text.partition("**Outside the DPA's clauses**")
    assert "| Gate integrity |" in apart and "| Gate integrity |" not in clauses_part


def test_an_attesting_document_is_shown_and_its_absence_said(regional: Result) -> None:
    from dpaguard.model import Attestation

    audits = Clause("Article 7", "Audits", "Audits may be conducted no more than once per year per Client", "organisational",
                    attestation=Attestation("Audit procedure", "Security officer", "2026-10-01", "SEC-PROC-7"))
    contracts = Clause("Article 4.1", "Authorisation", "a written agreement", "organisational")
    run = dataclasses.replace(regional, clauses=(audits, contracts))
    assert _clauses(run)["Article 7"]["attestation"] == {
        "document": "Audit procedure", "owner": "Security officer", "date": "2026-10-01", "reference": "SEC-PROC-7"}
    assert _clauses(run)["Article 4.1"]["attestation"] is None
    page = html.render(run)
    seven = re.search(r'<section [^>]*data-clause="Article 7".*?</section>', page, re.S)
    four = re.search(r'<section [^>]*data-clause="Article 4.1".*?</section>', page, re.S)
    assert seven and 'data-reference="SEC-PROC-7"' in seven[0] and "kept by Security officer, reviewed 2026-10-01" in seven[0]
    assert four and "not-attested" in four[0] and "a person must attest it" in four[0]
    assert "revu le 1er octobre 2026" in html.render(run, lang="fr")
