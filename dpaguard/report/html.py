"""The compliance report: one self-contained HTML page organised by DPA clause, fit to sign and print on A4.

No scripts, no fonts, no images from anywhere: inline CSS and inline SVG only, so the page can be
archived as evidence and opened offline. Every value is escaped. Every clause of the ledger
(policies/dpa/clauses.yaml) is listed with its quote, its evidence grade and its status: "passed" only
where a control examined something, organisational and not-covered clauses as such, never green.
The numbers a reader (or a test) needs carry `data-*` attributes: `#summary [data-summary-*]`,
`tr.stack[data-stack]`, `tr.environment[data-environment]`, `g.cell[data-clause][data-stack]`,
`section.clause[data-clause][data-status][data-evidence]`, `tr.finding`, `#inventory tr[data-name]`,
`#stages tr[data-stage][data-ran]`, `#evidence-dirty[data-dirty]`.
"""

from __future__ import annotations

from dpaguard.model import Result
from dpaguard.report._shared import clause_rows, outcomes, stack_names
from dpaguard.report.html_clauses import _clause_section, _clause_table, _grid
from dpaguard.report.html_clauses import _finding_row as _finding_row  # tests build one finding's row
from dpaguard.report.html_sections import _changes, _evidence, _inventory, _overview, _scope, _signoff, _stages
from dpaguard.report.html_style import _COLOURS as _COLOURS  # tests compare the status colours
from dpaguard.report.html_style import _CSS, _e, _page_css
from dpaguard.report.i18n import format_date, strings, translator
from dpaguard.report.json import result_json  # the page's running header and sign-off carry the report's id


def render(result: Result, *, lang: str = "en") -> str:
    """The run as a self-contained HTML compliance report, in English or French (`lang`)."""
    t = strings(lang)
    all_outcomes = outcomes(result)
    every_row = clause_rows(result, all_outcomes)
    rows = [r for r in every_row if not r.outside]  # the DPA's clauses: the table, the grid, the sections
    apart = [r for r in every_row if r.outside]  # the gate's own integrity, inventory aids: never a clause
    stacks = stack_names(result, all_outcomes)
    summary = result.summary()
    if summary["mandatory"]:
        verdict, verdict_class = t["verdict_failed"].format(n=summary["mandatory"]), "failed"
    elif summary["advisory"]:
        verdict, verdict_class = t["verdict_advisory"].format(n=summary["advisory"]), "advisory"
    else:
        verdict, verdict_class = t["verdict_passed"], "passed"
    names = ", ".join(s.name for s in result.stacks)
    cards = "".join(
        f'<div><dt>{_e(t[key])}</dt><dd data-summary-{key}="{summary[key]}" id="summary-{key}">{summary[key]}</dd></div>'
        for key in ("mandatory", "advisory", "waived", "controls", "resources"))
    tr = translator(result.french, lang)
    sections = "".join(_clause_section(row, index, stacks, lang, t, result.french) for index, row in enumerate(rows))
    if apart:
        sections += (f'<h2 id="outside">{_e(t["outside"])}</h2><p class="muted">{_e(t["outside_intro"])}</p>'
                     + "".join(_clause_section(row, len(rows) + index, stacks, lang, t, result.french)
                               for index, row in enumerate(apart)))
    notices = "".join(f'<p class="notice">{_e(tr(n))}</p>' for n in result.notices)
    if t["translation_note"]:  # French headings are the project's translation: no French DPA text is in the repository
        notices += f'<p class="muted" id="translation-note">{_e(t["translation_note"])}</p>'
    if lang == "fr" and result.french is None:  # a policy set of one's own may have no French: say so, do not pass it off
        notices += f'<p class="notice" id="no-french">{_e(t["no_french"])}</p>'
    report = result_json(result)["reportId"]
    return (
        f'<!DOCTYPE html>\n<html lang="{_e(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        f"<title>dpaguard · {_e(t['title'])}: {_e(names)}</title><style>{_CSS}{_page_css(report, t)}</style></head><body><main>"
        f"<h1>{_e(t['title'])}</h1><p class=\"muted\">{_e(t['stacks'])} {_e(names)} · dpaguard {_e(result.tool_version)}"
        f" · {_e(format_date(result.generated_at or '', lang))}</p>"
        f'<p class="verdict {verdict_class}" id="verdict">{_e(verdict)}</p>'
        f'<dl id="summary">{cards}</dl>{notices}{_scope(result, lang, t)}'
        f"{_stages(result, t, tr)}{_changes(result, lang, t)}"
        f"<h2>{_e(t['clause_summary'])}</h2>{_clause_table(rows, lang, t)}"
        f"<h2>{_e(t['grid'])}</h2>{_grid(result, rows, stacks, lang, t)}"
        f"{_overview(result, t)}<h2>{_e(t['by_clause'])}</h2>{sections}"
        f"{_inventory(result, stacks, t, tr)}{_evidence(result, t, lang)}{_signoff(result, report, lang, t)}"
        "</main></body></html>\n"
    )
