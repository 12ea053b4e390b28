"""The French report (issue 22 §8): every visible string in French, in a DPO's wording, the DPA's quotes
marked as the project's translation; the translation source (policies/dpa/i18n/fr.yaml) complete at load."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from dpaguard.checkov import NOT_FOUND_NOTICE
from dpaguard.cli import main
from dpaguard.model import Deployment, Result
from dpaguard.policy import Policy
from dpaguard.report import html, markdown
from dpaguard.source.state import export_json
from support import CLI_FIXTURES, POLICIES, REPO
from support.english import english_blocks, english_words, visible_blocks


def _without_names(blocks: list[str], policy: Policy) -> list[str]:
    """The blocks with Appendix B's sub-processor names left out: names ("DEEPL (with Empower)") are identifiers."""
    names = sorted((str(e["name"]) for e in policy.data["subprocessors"]["entries"]), key=len, reverse=True)
    for name in names:
        blocks = [block.replace(name, "") for block in blocks]
    return blocks


# The sample's messages as the Rego rules word them (the sample's own are shorthand no rule writes).
_RULE_MESSAGES = {
    "region nl-ams is outside France": "region nl-ams (from the provider) is outside France",
    "zone cannot be determined": "zone cannot be determined (no zone on the resource, its provider or the stack config)",
    "tlsEnabled is false": "Redis cluster does not enable TLS",
}


def _whole_ledger(result: Result, policy: Policy) -> Result:
    """The sample run over the repository's whole catalogue and ledger, with its French text and the rules' messages."""
    findings = tuple(dataclasses.replace(f, message=_RULE_MESSAGES.get(f.message, "stack config does not set "
                                         "dpaguard:callRecordingRetentionDays (call-recordings: kept for the period the client set)"))
                     for f in result.findings)
    return dataclasses.replace(result, controls=policy.controls, clauses=policy.clauses, french=policy.french,
                               findings=findings, notices=(NOT_FOUND_NOTICE,))


def test_the_detector_finds_english_and_spares_identifiers() -> None:
    assert english_words("the data stores are not reachable from the internet") == ["the", "data", "are", "not", "from", "the"]
    assert english_words("Aucun écart : DPA-RES-001 urn:pulumi:prod::dpa-estate::x::y fr-par-1 backupSameRegion") == []
    assert english_blocks(["passed", "vérifiée", "Scaleway DC 3"]) == ["'passed': ['passed']"]


def test_the_french_page_of_the_whole_ledger_has_no_english_block(result: Result, policy: Policy) -> None:
    run = _whole_ledger(result, policy)
    page = html.render(run, lang="fr")
    assert english_blocks(visible_blocks(page)) == []
    # a control agrees with "contrôle", a clause with "clause"
    assert '<span class="status passed">vérifié</span>' in page and '>vérifiée</text>' in page  # a control; the legend


def test_the_french_markdown_of_the_whole_ledger_has_no_english_line(result: Result, policy: Policy) -> None:
    text = markdown.render(_whole_ledger(result, policy), lang="fr")
    assert english_blocks(text.splitlines()) == []
    # the quote column holds the project's translation, each marked, not the English
    assert "| L'accord stipule |" in text and "Texte de l'accord (anglais)" not in text
    quoted = [c for c in policy.clauses if c.quote]  # a section outside the DPA's clauses quotes nothing
    assert text.count("(traduction du projet ; le texte signé fait foi en anglais)") == len(quoted)


def test_a_translated_quote_is_marked_and_keeps_the_signed_english_at_hand(result: Result, policy: Policy) -> None:
    page = html.render(_whole_ledger(result, policy), lang="fr")
    marker = "traduction du projet ; le texte signé fait foi en anglais"
    quotes = page.count('<blockquote')
    assert quotes == len([c for c in policy.clauses if c.quote]) and page.count(marker) >= quotes
    # the signed English is the quote's tooltip, and the block says which language it shows
    assert 'title="the Client is the Controller, Ringover is the Processor"' in page


@pytest.fixture(scope="module")
def estate_audit(rendered_stacks: dict[str, Deployment], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An audit of the project's own estate (its three stacks as stack exports), in French: HTML and Markdown."""
    folder = tmp_path_factory.mktemp("audit-fr")
    states = []
    for name, deployment in rendered_stacks.items():
        states.append(folder / f"{name}.json")
        states[-1].write_text(export_json(deployment), encoding="utf-8")
    page, text, plain = folder / "report.html", folder / "report.md", folder / "report.txt"
    configs = [arg for name in rendered_stacks for arg in ("--stack-config", str(REPO / "stacks" / f"Pulumi.{name}.yaml"))]
    code = main(["audit", "--state", *map(str, states), *configs, "--project-dir", str(REPO), "--quiet",
                 "--today", "2026-12-07", "--lang", "fr", "-f", "html", "-o", str(page), "-f", "markdown", "-o", str(text),
                 "-f", "text", "-o", str(plain)])
    assert code in (0, 1)
    checked = folder / "check.html"  # and a check of its programs, rendered offline
    code = main(["check", "--all-stacks", "--no-checkov", "--project-dir", str(REPO), "--quiet", "--today", "2026-12-07",
                 "--lang", "fr", "-f", "html", "-o", str(checked)])
    assert code in (0, 1)
    return {"html": page.read_text(encoding="utf-8"), "markdown": text.read_text(encoding="utf-8"),
            "check": checked.read_text(encoding="utf-8"), "text": plain.read_text(encoding="utf-8")}


def test_an_audit_of_the_estate_in_french_has_no_english_block(estate_audit: dict[str, str], policy: Policy) -> None:
    assert english_blocks(_without_names(visible_blocks(estate_audit["html"]), policy)) == []
    assert english_blocks(_without_names(estate_audit["markdown"].splitlines(), policy)) == []
    assert english_blocks(_without_names(visible_blocks(estate_audit["check"]), policy)) == []
    assert "vérifiée sur le programme (rendu, non déployé)" in estate_audit["check"]


def test_the_text_report_of_the_estate_in_french_has_no_english_line(estate_audit: dict[str, str], policy: Policy) -> None:
    # the terminal's report (issue 22 §4): its own lines, the controls' titles, messages, notices and ledger lines
    text = estate_audit["text"]
    assert english_blocks(_without_names(text.splitlines(), policy)) == []
    assert text.splitlines()[-1].startswith("dpaguard : ") and "bloquant" in text
    assert "registre : DPA-SUB-006" in text and "mandatory" not in text and "finding(s)" not in text


def test_the_text_report_stays_english_by_default(result: Result) -> None:
    from dpaguard.report import text as text_report

    english = text_report.render(result)
    assert "finding(s)" in english and english == text_report.render(result, lang="en")
    assert "écart" in text_report.render(result, lang="fr")


def test_the_french_wording_is_a_dpos(estate_audit: dict[str, str]) -> None:
    page = estate_audit["html"].lower()
    for calque in ("constat obligatoire", "cliquet", "conforme", "recommandation"):
        assert calque not in page, calque
    assert "sous-traitant ultérieur" in page and "7 décembre 2026" in page



def test_a_policy_set_without_french_says_its_texts_stay_english(result: Result) -> None:
    assert result.french is None
    page, text = html.render(result, lang="fr"), markdown.render(result, lang="fr")
    assert 'id="no-french"' in page and "restent en anglais" in text
    assert 'id="no-french"' not in html.render(result) and "restent en anglais" not in markdown.render(result)


_WAIVERS = """waivers:
  - {control: DPA-HYG-001, urn: "*", stack: "*", reason: legacy group, approver: me, expires: 2029-11-01}
  - {control: DPA-RES-001, urn: "*::main-db", stack: prod, reason: migration, approver: dpo@example.com, expires: 2026-01-01}
  - {control: DPA-HYG-001, urn: "*::x", stack: prod}
  - {control: DPA-NOPE-001, urn: "*", stack: prod, reason: r, approver: a, expires: 2026-12-31}
"""


def test_waiver_findings_read_in_french(tmp_path: Path, policy: Policy) -> None:
    # expired, blanket and malformed waivers: DPA-WAI-001/002/003 findings with dpaguard's own messages
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    (policies / "waivers.yaml").write_text(_WAIVERS, encoding="utf-8")
    page = tmp_path / "report.html"
    code = main(["audit", "--state", str(CLI_FIXTURES / "prod-drifted.json"), "--policies", str(policies), "--quiet",
                 "--today", "2026-11-27", "--lang", "fr", "-f", "html", "-o", str(page)])
    assert code == 1
    text = page.read_text(encoding="utf-8")
    assert all(f'data-control="DPA-WAI-00{n}"' in text for n in (1, 2, 3))
    # the waivers' reasons are the organisation's own words, not the report's
    blocks = [b for b in visible_blocks(text) if b not in ("legacy group", "migration")]
    assert english_blocks(_without_names(blocks, policy)) == []


def test_the_sites_of_a_place_read_in_french(result: Result, policy: Policy) -> None:
    from dpaguard.model import Usage

    run = dataclasses.replace(_whole_ledger(result, policy), hosting_sites=(("Scaleway DC 3", "Vitry-sur-Seine"),),
                              usage=(Usage("prod", "location", "fr-par-1", 30, "FR", "Scaleway DC 2 or Scaleway DC 3"),))
    assert "<td>Scaleway DC 2 ou Scaleway DC 3</td><td>en partie" in html.render(run, lang="fr")
    assert "| Scaleway DC 2 ou Scaleway DC 3 | en partie" in markdown.render(run, lang="fr")
