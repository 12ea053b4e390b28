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

from collections import Counter
from html import escape
from typing import Callable, Iterable

from dpaguard.inventory import site_names
from dpaguard.model import Finding, Result, StackSummary, Translation
from dpaguard.report._shared import (
    CLAUSE_STATES,
    ClauseRow,
    ClauseState,
    Outcome,
    OutcomeStatus,
    clause_rows,
    inventory,
    outcomes,
    shown_path,
    sorted_findings,
    stack_label,
    stack_names,
)
from dpaguard.report.i18n import QUOTE_TRANSLATED, clause_label, format_date, french, strings, translator
from dpaguard.report.json import result_json, scope_json  # the report quotes the JSON document's scope and id

# Mandatory, advisory and waived are told apart by colour; organisational and not-covered are never green.
_COLOURS: dict[str, str] = {
    "failed": "#c62828", "undetermined": "#1565c0", "advisory": "#e08a00", "waived": "#6a4c93", "passed": "#2e7d32",
    "partly-verified": "#827717", "not-examined": "#b0b7bf", "organisational": "#546e7a", "not-covered": "#37474f",
    "not-applicable": "#8a939c",
}
_SYMBOLS = {"failed": "✗", "undetermined": "?", "advisory": "!", "waived": "~", "passed": "✓",
            "partly-verified": "◐", "not-examined": "–",
            "organisational": "○", "not-covered": "□"}

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2329;margin:0;background:#f4f6f8}
main{max-width:1180px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid #e3e7eb;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}h4{font-size:13px;margin:10px 0 4px}
.verdict{font-size:16px;font-weight:600;padding:10px 14px;border-radius:6px;margin:12px 0}
.verdict.failed{background:#fdecea;color:#8e1c1c}.verdict.advisory{background:#fff4e0;color:#7a4d00}
.verdict.passed{background:#e8f5e9;color:#1b5e20}
#summary{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0 20px;padding:0}
#summary div{flex:1;min-width:120px;border:1px solid #e3e7eb;border-radius:6px;padding:8px 12px}
#summary dt{color:#5b6670;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
#summary dd{margin:0;font-size:24px;font-weight:600}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e3e7eb;vertical-align:top;overflow-wrap:break-word}
th{background:#f4f6f8;font-weight:600;font-size:13px;overflow-wrap:normal}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:normal}
.status{display:inline-block;padding:1px 7px;border-radius:10px;color:#fff;font-size:12px;font-weight:600;white-space:nowrap}
.status.failed{background:#c62828}.status.advisory{background:#e08a00}.status.waived{background:#6a4c93}
.status.passed{background:#2e7d32}.status.not-examined{background:#8a939c}.status.not-applicable{background:#8a939c}
.status.organisational{background:#546e7a}.status.not-covered{background:#37474f}
.status.undetermined{background:#1565c0}.status.partly-verified{background:#827717}
.grade{display:inline-block;padding:0 6px;border:1px solid #9aa5ae;border-radius:10px;font-size:11px;color:#37474f;white-space:nowrap}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;word-break:break-all}
.muted{color:#5b6670}.clause{border-left:4px solid #e3e7eb;padding-left:14px;margin-top:22px}
.clause.failed{border-color:#c62828}.clause.advisory{border-color:#e08a00}.clause.waived{border-color:#6a4c93}
.clause.passed{border-color:#2e7d32}.clause.undetermined{border-color:#1565c0}.clause.partly-verified{border-color:#827717}.clause.organisational{border-color:#546e7a}.clause.not-covered{border-color:#37474f}
blockquote{margin:6px 0;padding:4px 10px;border-left:3px solid #cfd6dc;color:#37474f;font-style:italic}
dl.evidence{margin:6px 0}dl.evidence>div{display:grid;grid-template-columns:minmax(9em,28%) 1fr;gap:4px 16px;padding:2px 0}
dl.evidence dt{color:#5b6670}dl.evidence dd{margin:0;min-width:0}.notice{background:#fff4e0;border-left:4px solid #ef9f00;padding:6px 10px;margin:6px 0}
.dirty{color:#8e1c1c;font-weight:600}
svg{max-width:100%;height:auto}svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
#signatures td{height:42px;border-bottom:1px solid #1d2329}#signatures th{width:22%;background:none}
#attestation{font-size:15px;border:1px solid #9aa5ae;border-radius:6px;padding:10px 14px}
.grid-part{display:block;margin:0 0 4px}
@page{size:A4;margin:16mm 12mm 15mm}
@media print{
body{background:#fff;font-size:10.5px}main{max-width:none;padding:0}
h1,h2,h3,h4{break-after:avoid;break-inside:avoid}thead{display:table-header-group}
tr,blockquote,.grid-part,dl.evidence>div,#summary,.verdict,.notice{break-inside:avoid}
th,td{padding:3px 5px}code,.mono{font-size:9.5px}
.status,.grade{white-space:normal;font-size:9.5px}
.clause h3+*{break-before:avoid}
#signoff{break-before:page}#signatures,#attestation{break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""


def _page_css(report: str, t: dict[str, str]) -> str:
    """The running header (the report id) and the page numbers, in the page margins when printed."""
    def text(value: str) -> str:  # a CSS string
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'

    before, _, rest = t["page_of"].partition("{page}")
    middle, _, after = rest.partition("{pages}")
    numbers = " ".join(p for p in (text(before) if before else "", "counter(page)", text(middle) if middle else "",
                                   "counter(pages)", text(after) if after else "") if p)
    return ("@page{@top-left{content:" + text(t["running_header"].format(report_id=report)) +
            # no ligatures, so the id copied from a printed page reads as it is ("ff", not "ﬀ"): Chromium
            # ignores font-variant-ligatures in a margin box but draws no ligature across letter spacing
            ";font:8px system-ui,sans-serif;letter-spacing:.02em;color:#5b6670}"
            "@bottom-right{content:" + numbers + ";font:8px system-ui,sans-serif;color:#5b6670}}")


def _e(value: object) -> str:
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in str(value))
    return escape(text, quote=True)


def _status(status: str, t: dict[str, str], of: str = "st_") -> str:
    # `of` "ctl_": a control's state, where French agrees with "contrôle" (vérifié), not "clause" (vérifiée)
    label = t.get(f"{of}{status}") or t.get(f"st_{status}", status.replace("-", " "))
    return f'<span class="status {_e(status)}">{_e(label)}</span>'


def _grade(grade: str, t: dict[str, str]) -> str:
    return f'<span class="grade" data-grade="{_e(grade)}">{_e(t.get(f"gr_{grade}", grade))}</span>'


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _title(row: ClauseRow, lang: str) -> str:
    # No French text of the DPA is in the repository: a French heading is the project's translation (†);
    # a section outside the DPA's clauses is the project's own words in either language.
    if lang != "fr":
        return row.title
    return row.title_fr or row.title if row.outside else f"{row.title_fr} †" if row.title_fr else row.title


# Clauses per drawing of the grid: each part fits on an A4 page, so a printed grid never splits a row.
_GRID_ROWS = 16


def _grid(result: Result, rows: list[ClauseRow], stacks: list[str], lang: str, t: dict[str, str]) -> str:
    """The clause-by-stack grid as inline SVG, one drawing per _GRID_ROWS clauses (the legend under the last)."""
    chunks = [rows[i:i + _GRID_ROWS] for i in range(0, len(rows), _GRID_ROWS)] or [[]]
    return "".join(_grid_part(result, chunk, stacks, lang, t, part, part == len(chunks) - 1)
                   for part, chunk in enumerate(chunks))


def _grid_part(result: Result, rows: list[ClauseRow], stacks: list[str], lang: str, t: dict[str, str],
               part: int, legend: bool) -> str:
    label_w, cell_w, cell_h, head_h, legend_h = 330, 140, 26, 46, (58 if legend else 0)
    width = label_w + cell_w * max(1, len(stacks)) + 10
    height = head_h + cell_h * len(rows) + legend_h + 10
    ident = "clause-grid" if part == 0 else f"clause-grid-{part + 1}"
    parts = [f'<svg id="{ident}" class="grid-part" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(t["grid_title"])}">']
    parts.append(f"<title>{_e(t['grid_title'])}</title>")
    environments = {s.name: s.environment for s in result.stacks}
    for column, stack in enumerate(stacks):
        x = label_w + column * cell_w + cell_w / 2
        label = t["project_files"] if stack == "*" else stack
        parts.append(f'<text x="{x}" y="20" text-anchor="middle" font-size="14" font-weight="600">{_e(_short(label, 18))}</text>')
        parts.append(f'<text x="{x}" y="37" text-anchor="middle" font-size="11" fill="#5b6670">'
                     f'{_e(environments.get(stack, ""))}</text>')
    for index, row in enumerate(rows):
        y = head_h + index * cell_h
        text = f"{clause_label(row.id, lang)} {_title(row, lang)}".strip()
        parts.append(f'<text x="{label_w - 10}" y="{y + cell_h / 2 + 5}" text-anchor="end" font-size="12">'
                     f'<title>{_e(text)}</title>{_e(_short(text, 46))}</text>')
        for column, stack in enumerate(stacks):
            status = row.stacks.get(stack, "not-examined")
            mine = [o for o in row.outcomes if o.stack.name == stack]
            counts = Counter(o.status for o in mine)
            findings = sum(len(o.unwaived) for o in mine)
            x = label_w + column * cell_w
            label = {"failed": f"{_SYMBOLS['failed']} {findings}", "advisory": f"{_SYMBOLS['advisory']} {findings}",
                     "undetermined": f"{_SYMBOLS['undetermined']} {findings}"}.get(
                status, f"{_SYMBOLS[status]} {t.get('st_' + status, status)}")
            data = " ".join(f'data-{s}="{counts.get(s, 0)}"' for s in ("failed", "waived", "passed", "not-applicable"))
            tooltip = f"{clause_label(row.id, lang)} · {stack}: {t.get('st_' + status, status)}"
            parts.append(
                f'<g class="cell" data-clause="{_e(row.id)}" data-stack="{_e(stack)}" data-status="{status}" '
                f'data-findings="{findings}" {data}><title>{_e(tooltip)}</title>'
                f'<rect x="{x + 3}" y="{y + 2}" width="{cell_w - 6}" height="{cell_h - 4}" rx="4" '
                f'fill="{_COLOURS[status]}"/>'
                f'<text x="{x + cell_w / 2}" y="{y + cell_h / 2 + 4}" text-anchor="middle" font-size="11" '
                f'font-weight="600" fill="#fff">{_e(_short(label, 22))}</text></g>')
    legend_y = head_h + cell_h * len(rows) + 12
    for position, status in enumerate(CLAUSE_STATES if legend else ()):
        x = 10 + (position % 4) * 190
        y = legend_y + (position // 4) * 22
        parts.append(f'<rect x="{x}" y="{y}" width="14" height="14" rx="3" fill="{_COLOURS[status]}"/>'
                     f'<text x="{x + 20}" y="{y + 12}" font-size="12">{_e(t["st_" + status])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _where(finding: Finding, stack: StackSummary | None) -> str:
    """The source a finding points at: the program line, else the stack config key's line, else the file."""
    location = finding.location
    if location is not None and location.path:
        return f"{shown_path(location.path)}:{location.line}"
    return shown_path((stack.config_file or stack.origin) if stack else None) or ""


def _finding_row(finding: Finding, t: dict[str, str], lang: str, outcome: Outcome | None = None,
                 tr: Callable[[str], str] = str) -> str:
    """One finding: where (stack, resource, URN), which control, how bad, what, the source line, the fix."""
    level = t.get("lvl_" + finding.enforcement, finding.enforcement)
    where = _where(finding, outcome.stack if outcome else None)
    fix = tr(outcome.control.help) if outcome else ""
    waiver = finding.waiver
    waiver_cells = (f"<td>{_e(waiver.reason)}"
                    + (f'<br><strong>{_e(t["compensating"])}:</strong> {_e(waiver.compensating)}' if waiver.compensating else "")
                    + f"</td><td>{_e(waiver.approver)}"
                    + (f'<br>{_e(t["reference"])} <code>{_e(waiver.reference)}</code>' if waiver.reference else "")
                    + f"</td><td>{_e(format_date(waiver.expires.isoformat(), lang))}</td>" if waiver else "")
    return (f'<tr class="finding" data-control="{_e(finding.control)}" data-stack="{_e(finding.stack)}" '
            f'data-urn="{_e(finding.urn)}" data-enforcement="{_e(finding.enforcement)}" '
            f'data-waived="{str(finding.waived).lower()}" data-status="{_e(finding.status)}" '
            f'data-where="{_e(where)}">'
            f"<td>{_e(stack_label(finding.stack))}</td><td>{_e(finding.name)}<br><span class=\"muted mono\">{_e(finding.type)}</span>"
            f'<br><span class="muted mono urn">{_e(finding.urn)}</span></td>'
            f"<td><code>{_e(finding.control)}</code><br>{_e(level)}</td><td>{_e(tr(finding.message))}"
            + (f'<br><span class="muted">{_e(t["source_line"])} <code class="where">{_e(where)}</code></span>' if where else "")
            + (f'<br><span class="fix"><strong>{_e(t["fix"])}</strong> {_e(fix)}</span>' if fix else "")
            + f"</td>{waiver_cells}</tr>")


def _outcome_status(outcome: Outcome) -> str:
    """A control's cell: failed split into mandatory (failed) and advisory; passed only where it examined something."""
    if outcome.status == "failed":
        if any(f.enforcement == "mandatory" and f.status == "violation" for f in outcome.unwaived):
            return "failed"
        return "undetermined" if any(f.status == "undetermined" for f in outcome.unwaived) else "advisory"
    if outcome.status == "passed" and not (outcome.covered or 0) > 0:
        return "not-examined"
    return "not-examined" if outcome.status == "not-applicable" else outcome.status


def _quote(row: ClauseRow, lang: str, t: dict[str, str], translation: Translation | None) -> str:
    """The clause's quote: the signed English, or the project's translation marked as such, the English at hand."""
    translated = french(translation, row.quote) if lang == "fr" else None
    if translated:
        return (f'<span class="muted quote-language">{_e(t["quote"])}</span><blockquote lang="fr" class="quote translated" '
                f'title="{_e(row.quote)}">« {_e(translated)} » <span class="muted quote-translated">{_e(QUOTE_TRANSLATED)}'
                "</span></blockquote>")
    label = f'<span class="muted quote-language">{_e(t["quote_language"])}</span>' if lang != "en" else ""
    return f'{label}<blockquote lang="en" class="quote" title="{_e(t["quote_language"])}">“{_e(row.quote)}”</blockquote>'


def _clause_section(row: ClauseRow, index: int, stacks: list[str], lang: str, t: dict[str, str],
                    translation: Translation | None) -> str:
    tr = translator(translation, lang)
    label = clause_label(row.id, lang)
    parts = [f'<section class="clause {row.status}" id="clause-{index}" data-clause="{_e(row.id)}" '
             f'data-status="{row.status}" data-evidence="{_e(row.grade)}" data-examined="{row.examined}">',
             f"<h3>{_e(label)} {_e(_title(row, lang))} {_status(row.status, t)} {_grade(row.grade, t)}</h3>"]
    if row.quote:
        parts.append(_quote(row, lang, t, translation))
    if row.note:
        parts.append(f'<p class="muted note">{_e(tr(row.note))}</p>')
    if row.status in ("organisational", "not-covered", "not-examined", "partly-verified"):
        parts.append(f'<p class="muted">{_e(t[row.status.replace("-", "_") + "_note"])}</p>')
    if row.attestation is not None:
        a = row.attestation
        line = t["attested_line"].format(document=a.document, owner=a.owner, date=format_date(a.date, lang),
                                          reference=a.reference)
        parts.append(f'<p class="attestation" data-reference="{_e(a.reference)}"><strong>{_e(t["attested_by"])}</strong> '
                     f'<span lang="en">{_e(line)}</span></p>')
    elif row.status == "organisational" or any(p.evidence == "organisational" for p in row.parts):
        parts.append(f'<p class="muted not-attested">{_e(t["not_attested"])}</p>')
    if row.parts and (len(row.parts) > 1 or row.status != "passed"):
        items = "".join(
            f'<tr class="part" data-status="{_e(p.state)}" data-evidence="{_e(p.evidence)}" data-resources="{p.resources}">'
            f'<td>{_e(tr(p.what))}</td><td>{_grade(p.evidence, t)}</td><td>{_status(p.state, t)}</td>'
            f'<td>{_e(", ".join(p.controls) or "—")}</td><td>{_e(tr(p.why))}</td></tr>' for p in row.parts)
        parts.append(f'<table class="parts"><thead><tr><th>{_e(t["part"])}</th><th style="width:16%">'
                     f'{_e(t["evidence_grade"])}</th><th style="width:13%">{_e(t["status"])}</th>'
                     f'<th style="width:16%">{_e(t["controls"])}</th><th>{_e(t["why"])}</th></tr></thead>'
                     f"<tbody>{items}</tbody></table>")
    controls: list[str] = []
    for outcome in row.outcomes:
        if str(outcome.control.id) not in controls:
            controls.append(str(outcome.control.id))
    if controls:
        present = [s for s in stacks if any(o.stack.name == s for o in row.outcomes)]
        head = "".join(f'<th class="num">{_e(t["project_files"] if s == "*" else s)}</th>' for s in present)
        body = []
        for control_id in controls:
            per_stack = {o.stack.name: o for o in row.outcomes if str(o.control.id) == control_id}
            control = next(iter(per_stack.values())).control
            cells = []
            for stack in present:
                if stack not in per_stack:
                    cells.append("<td></td>")
                    continue
                outcome = per_stack[stack]
                covered = "?" if outcome.covered is None else str(outcome.covered)
                status = _outcome_status(outcome)
                cells.append(f'<td class="num" data-control="{_e(control_id)}" data-stack="{_e(stack)}" '
                             f'data-status="{status}" data-covered="{_e(covered)}" '
                             f'data-enforcement="{_e(outcome.enforcement)}">{_status(status, t, "ctl_")}'
                             f'<br><span class="muted">{_e(covered)} · {_e(t.get("lvl_" + outcome.enforcement, outcome.enforcement))}</span></td>')
            body.append(f'<tr class="control" data-control="{_e(control_id)}"><td><code>{_e(control_id)}</code></td>'
                        f"<td>{_e(tr(control.title))}<br><span class=\"muted\">{_e(tr(control.category))} · "
                        f"{_e(t.get('sev_' + control.severity, control.severity))}"
                        f"</span></td>{''.join(cells)}</tr>")
        parts.append(f'<table><thead><tr><th>{_e(t["control"])}</th><th>{_e(t["what_it_checks"])}</th>{head}</tr>'
                     f'</thead><tbody>{"".join(body)}</tbody></table>')
    owner = {id(f): o for o in row.outcomes for f in o.findings}  # each finding's control and stack
    unwaived = sorted_findings(f for o in row.outcomes for f in o.unwaived)
    violations = [f for f in unwaived if f.status == "violation"]
    undetermined = [f for f in unwaived if f.status == "undetermined"]
    waived = sorted_findings(f for o in row.outcomes for f in o.waived)
    columns = (f"<th>{_e(t['stack'])}</th><th>{_e(t['resource'])}</th><th>{_e(t['control'])} · {_e(t['level'])}</th>"
               f"<th>{_e(t['finding'])}</th>")
    for key, kind, found in (("failed_findings", "violations", violations),
                             ("undetermined_findings", "undetermined", undetermined)):
        if found:
            parts.append(f'<h4 class="{kind}">{_e(t[key])}</h4><table class="findings {kind}"><thead><tr>{columns}'
                         f"</tr></thead><tbody>" + "".join(_finding_row(f, t, lang, owner.get(id(f)), tr) for f in found) + "</tbody></table>")
    if waived:
        parts.append(f"<h4>{_e(t['waived_findings'])}</h4><table><thead><tr>{columns}<th>{_e(t['reason'])}</th>"
                     f"<th>{_e(t['approver'])}</th><th>{_e(t['expires'])}</th></tr></thead><tbody>"
                     + "".join(_finding_row(f, t, lang, owner.get(id(f)), tr) for f in waived) + "</tbody></table>")
    parts.append("</section>")
    return "".join(parts)


def _clause_table(rows: list[ClauseRow], lang: str, t: dict[str, str]) -> str:
    def files(row: ClauseRow) -> str:  # checkov's repository files, counted once, never added to resources
        return f'<br><span class="muted">+ {row.files} {_e(t["files"])}</span>' if row.files else ""

    body = "".join(
        f'<tr class="clause-row" data-clause="{_e(r.id)}" data-status="{r.status}" data-evidence="{_e(r.grade)}" '
        f'data-examined="{r.examined}" data-files="{r.files}"><td><a href="#clause-{i}">{_e(clause_label(r.id, lang))}</a></td>'
        f"<td>{_e(_title(r, lang))}</td><td>{_grade(r.grade, t)}</td><td>{_status(r.status, t)}</td>"
        f'<td>{_e(", ".join(r.controls) or "—")}</td><td class="num">{r.examined}{files(r)}</td></tr>'
        for i, r in enumerate(rows))
    return (f'<table id="clauses"><thead><tr><th style="width:14%">{_e(t["clause"])}</th><th>{_e(t["heading"])}</th>'
            f'<th style="width:16%">{_e(t["evidence_grade"])}</th><th style="width:14%">{_e(t["status"])}</th>'
            f'<th style="width:22%">{_e(t["controls"])}</th><th class="num" style="width:9%">{_e(t["examined"])}</th>'
            f"</tr></thead><tbody>{body}</tbody></table>")


def _counts(findings: Iterable[Finding]) -> dict[str, int]:
    items = list(findings)
    return {
        "mandatory": sum(1 for f in items if not f.waived and f.enforcement == "mandatory"),
        "advisory": sum(1 for f in items if not f.waived and f.enforcement == "advisory"),
        "waived": sum(1 for f in items if f.waived),
    }


def _overview(result: Result, t: dict[str, str]) -> str:
    rows = []
    for stack in result.stacks:
        counts = _counts(f for f in result.findings if f.stack == stack.name)
        rows.append(f'<tr class="stack" data-stack="{_e(stack.name)}" data-environment="{_e(stack.environment)}" '
                    f'data-resources="{stack.resources}" data-mandatory="{counts["mandatory"]}" '
                    f'data-advisory="{counts["advisory"]}" data-waived="{counts["waived"]}">'
                    f"<td>{_e(stack.name)}</td><td>{_e(stack.environment)}</td><td>{_e(t.get('src_' + stack.source, stack.source))}</td>"
                    f'<td class="num">{stack.resources}</td><td class="num">{counts["mandatory"]}</td>'
                    f'<td class="num">{counts["advisory"]}</td><td class="num">{counts["waived"]}</td></tr>')
    environments: dict[str, list[str]] = {}
    for stack in result.stacks:
        environments.setdefault(stack.environment, []).append(stack.name)
    env_rows = []
    for environment, names in environments.items():
        counts = _counts(f for f in result.findings if f.stack in names)
        resources = sum(s.resources for s in result.stacks if s.name in names)
        env_rows.append(f'<tr class="environment" data-environment="{_e(environment)}" data-resources="{resources}" '
                        f'data-mandatory="{counts["mandatory"]}" data-advisory="{counts["advisory"]}" '
                        f'data-waived="{counts["waived"]}"><td>{_e(environment)}</td><td>{_e(", ".join(names))}</td>'
                        f'<td class="num">{resources}</td><td class="num">{counts["mandatory"]}</td>'
                        f'<td class="num">{counts["advisory"]}</td><td class="num">{counts["waived"]}</td></tr>')
    numbers = "".join(f'<th class="num">{_e(t[k])}</th>' for k in ("resources", "mandatory", "advisory", "waived"))
    return (f"<h2>{_e(t['stacks'])}</h2><table id=\"stacks\"><thead><tr><th>{_e(t['stack'])}</th>"
            f"<th>{_e(t['environment'])}</th><th>{_e(t['source'])}</th>{numbers}</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>"
            f"<h2>{_e(t['environments'])}</h2><table id=\"environments\"><thead><tr><th>{_e(t['environment'])}</th>"
            f"<th>{_e(t['stacks'])}</th>{numbers}</tr></thead><tbody>" + "".join(env_rows) + "</tbody></table>")


def _inventory(result: Result, stacks: list[str], t: dict[str, str], tr: Callable[[str], str]) -> str:
    used, places, unused, sites_unseen = inventory(result)
    real = [s.name for s in result.stacks]
    head = "".join(f'<th class="num">{_e(s)}</th>' for s in real) + f'<th class="num">{_e(t["total"])}</th>'

    def yes(flag: bool | None) -> str:
        return t["unknown"] if flag is None else t["yes"] if flag else t["no"]

    def counts(row_resources: dict[str, int]) -> str:
        return "".join(f'<td class="num">{row_resources.get(s, 0)}</td>' for s in real) + \
            f'<td class="num">{sum(row_resources.values())}</td>'

    processors = "".join(
        f'<tr class="subprocessor" data-name="{_e(r.name)}" data-listed="{_e(yes(r.listed))}" data-total="{r.total}">'
        f"<td>{_e(r.name)}</td><td>{_e(yes(r.listed))}</td><td>{_e(tr(r.detail))}</td><td>{_e(r.country or '')}</td>"
        f"{counts(r.resources)}</tr>" for r in used)
    locations = "".join(
        f'<tr class="location" data-name="{_e(r.name)}" data-named="{_e(t["in_part"] if r.partly else yes(r.listed))}" '
        f'data-total="{r.total}">'
        f"<td>{_e(r.name)}</td><td>{_e(r.country or t['unknown'])}</td><td>{_e(t['sites_or'].join(site_names(r.detail)) if r.detail else t['unknown'])}</td>"
        f"<td>{_e(t['in_part'] if r.partly else yes(r.listed))}</td>{counts(r.resources)}</tr>" for r in places)
    return (f'<h2 id="inventory-heading">{_e(t["inventory"])}</h2><div id="inventory"><p class="muted">{_e(t["inventory_intro"])}</p>'
            f"<h3>{_e(t['subprocessors'])}</h3><table id=\"inventory-subprocessors\"><thead><tr>"
            f"<th>{_e(t['subprocessor'])}</th><th>{_e(t['listed'])}</th><th>{_e(t['service'])}</th>"
            f"<th>{_e(t['country'])}</th>{head}</tr></thead><tbody>{processors}</tbody></table>"
            f'<p id="inventory-unused" data-count="{len(unused)}"><strong>{_e(t["listed_unused"])}</strong> ({len(unused)}){t["colon"]}'
            f'{_e(", ".join(unused) or t["none"])}</p>'
            f"<h3>{_e(t['locations'])}</h3><table id=\"inventory-locations\"><thead><tr>"
            f"<th>{_e(t['location'])}</th><th>{_e(t['country'])}</th><th>{_e(t['site'])}</th><th>{_e(t['named'])}</th>"
            f"{head}</tr></thead><tbody>{locations}</tbody></table>"
            f'<p id="inventory-sites-unseen" data-count="{len(sites_unseen)}"><strong>{_e(t["sites_unused"])}</strong>{t["colon"]}'
            f'{_e(", ".join(sites_unseen) or t["none"])}</p></div>')


def _stages(result: Result, t: dict[str, str], tr: Callable[[str], str]) -> str:
    rows = "".join(
        f'<tr data-stage="{_e(s.name)}" data-ran="{str(s.ran).lower()}"><td>{_e(t.get("stage_" + s.name, s.name))}</td>'
        f"<td>{_status('passed' if s.ran else 'not-examined', {'st_passed': t['ran'], 'st_not-examined': t['not_run']})}</td>"
        f"<td>{_e(tr(s.detail))}</td></tr>" for s in result.stages)
    return (f"<h2>{_e(t['stages'])}</h2><table id=\"stages\"><thead><tr><th>{_e(t['stage'])}</th>"
            f"<th style=\"width:14%\">{_e(t['status'])}</th><th></th></tr></thead><tbody>{rows}</tbody></table>")


def _evidence(result: Result, t: dict[str, str], lang: str = "en") -> str:
    stacks = "".join(
        f'<li data-stack="{_e(s.name)}"><strong>{_e(s.name)}</strong> ({_e(t.get("src_" + s.source, s.source))}){t["colon"]}'
        f"<code>{_e(shown_path(s.config_file or s.origin) or t['no_config_file'])}</code>"
        + (f' {_e(t["config_digest"])} <code class="digest">{_e(s.config_sha256)}</code>' if s.config_sha256 else "")
        + (f'<br>{_e(t["deployment_digest"])} <code class="deployment-digest" data-stack="{_e(s.name)}">'
           f"{_e(s.deployment_sha256)}</code>" if s.deployment_sha256 else "") + "</li>"
        for s in result.stacks)
    if result.git_dirty is None:
        tree = f'<dd id="evidence-dirty" data-dirty="unknown">{_e(t["not_git"])}</dd>'
    elif result.git_dirty:
        tree = (f'<dd id="evidence-dirty" data-dirty="true" class="dirty">{_e(t["modified"])} '
                f'<code id="evidence-diff">{_e(result.git_diff_sha256 or "")}</code></dd>')
    else:
        tree = f'<dd id="evidence-dirty" data-dirty="false">{_e(t["clean"])}</dd>'
    versions = ", ".join(f"{name} {version or t['not_available']}" for name, version in result.versions.items())
    # A stack export records no commit and no packages: in an audit these are dpaguard's, not the estate's.
    audit = bool(result.stacks) and all(s.source == "state" for s in result.stacks)
    commit_key, versions_key = ("checker_commit", "checker_versions") if audit else ("git_commit", "versions")
    return (f'<h2>{_e(t["evidence"])}</h2><dl class="evidence" id="evidence">'
            f'<div><dt>{_e(t["tool"])}</dt><dd id="evidence-tool">dpaguard {_e(result.tool_version)}</dd></div>'
            f'<div><dt>{_e(t["policy_digest"])}</dt><dd><code id="evidence-policy">{_e(result.policy_sha256)}</code></dd></div>'
            f'<div><dt>{_e(t["engine"])}</dt><dd id="evidence-engine">{_e(result.engine or t["not_recorded"])}</dd></div>'
            f'<div><dt>{_e(t[commit_key])}</dt><dd><code id="evidence-commit">{_e(result.git_commit or t["not_available"])}</code></dd></div>'
            f'<div><dt>{_e(t["work_tree"])}</dt>{tree}</div>'
            f'<div><dt>{_e(t["generated"])}</dt><dd id="evidence-time">{_e(format_date(result.generated_at, lang) or t["not_recorded"])}</dd></div>'
            f'<div><dt>{_e(t[versions_key])}</dt><dd id="evidence-versions">{_e(versions or t["not_recorded"])}</dd></div>'
            f"<div><dt>{_e(t['stacks'])}</dt><dd><ul>{stacks}</ul></dd></div></dl>")


def _scope(result: Result, lang: str, t: dict[str, str]) -> str:
    """The scope block: what was examined, by what, against what, and the report's id (the JSON report's digest)."""
    scope = scope_json(result)
    report = result_json(result)["reportId"]

    def row(key: str, value: str, ident: str, code: bool = False) -> str:
        shown = f"<code>{_e(value)}</code>" if code else _e(value)
        return f'<div><dt>{_e(t[key])}</dt><dd id="scope-{ident}">{shown}</dd></div>'

    stacks = []
    for stack in scope["stacks"]:
        if stack["source"] == "state":
            made = t["scope_state"].format(time=format_date(stack["stateTime"], lang) if stack["stateTime"] else t["not_recorded"],
                                           version=stack["statePulumiVersion"] or t["not_recorded"])
        else:
            made = t["scope_program"]
        stacks.append(f'<li data-stack="{_e(stack["name"])}" data-source="{_e(stack["source"])}"><strong>'
                      f'{_e(stack["name"])}</strong> ({_e(stack["environment"])}){t["colon"]}{_e(made)}'
                      + (f' · <code>{_e(stack["from"])}</code>' if stack["from"] else "") + "</li>")
    commit = scope["estateCommit"] or (t["scope_no_commit_state"] if result.stacks and not any(
        s.source == "program" for s in result.stacks) else t["not_available"])
    if scope["estateWorkTree"] == "modified":
        commit += f" ({t['scope_modified']})"
    engine = scope["dpaguard"]["engine"] or t["not_recorded"]
    checker = f"dpaguard {result.tool_version} · {engine}"
    if scope["dpaguard"]["workTreeCommit"]:
        checker += f" · {t['scope_checker_commit']} {scope['dpaguard']['workTreeCommit']}"
    return (f'<section id="scope"><h2>{_e(t["scope"])}</h2><dl class="evidence">'
            + row("scope_projects", ", ".join(scope["projects"]) or t["none"], "projects")
            + row("scope_commit", commit, "commit", bool(scope["estateCommit"]))
            + f'<div><dt>{_e(t["stacks"])}</dt><dd id="scope-stacks"><ul>{"".join(stacks)}</ul></dd></div>'
            + row("policy_digest", result.policy_sha256, "policy", True)
            + row("scope_dpa", scope["dpaSha256"] or t["scope_dpa_missing"], "dpa", bool(scope["dpaSha256"]))
            + row("tool", checker, "tool")
            + row("scope_today", format_date(scope["waiversJudgedOn"], lang) if scope["waiversJudgedOn"]
                  else t["not_recorded"], "today")
            + row("scope_report_id", report, "report-id", True)
            + "</dl></section>")


def _signoff(result: Result, report: str, lang: str, t: dict[str, str]) -> str:
    """The attestation the signer makes, the exceptions accepted (the waivers in force) and the signature block."""
    today = result.today.isoformat() if result.today else ""
    in_force = [w for w in result.waivers if not today or w.expires.isoformat() >= today]
    if in_force:
        rows = "".join(
            f'<tr class="exception" data-control="{_e(w.control)}" data-stack="{_e(w.stack)}" data-urn="{_e(w.urn_pattern)}" '
            f'data-reference="{_e(w.reference)}" data-expires="{_e(w.expires.isoformat())}">'
            f'<td><code>{_e(w.control)}</code><br>{_e(stack_label(w.stack))}</td>'
            f'<td><span class="mono">{_e(w.urn_pattern)}</span></td>'
            f'<td lang="en">{_e(w.reason)}'
            + (f'<br><strong>{_e(t["compensating"])}:</strong> <span class="compensating" lang="en">{_e(w.compensating)}</span>'
               if w.compensating else "")
            + f'</td><td>{_e(w.approver)}'
            + (f'<br>{_e(t["approved"])} {_e(format_date(w.approved.isoformat(), lang))}' if w.approved else "")
            + (f'<br>{_e(t["reference"])} <code>{_e(w.reference)}</code>' if w.reference else "")
            + f'</td><td>{_e(format_date(w.expires.isoformat(), lang))}</td></tr>' for w in in_force)
        exceptions = (f'<table id="exceptions"><thead><tr><th style="width:16%">{_e(t["control"])}</th>'
                      f'<th style="width:24%">{_e(t["resource"])}</th><th>{_e(t["reason"])}</th>'
                      f'<th style="width:20%">{_e(t["approver"])}</th><th style="width:12%">{_e(t["expires"])}</th></tr></thead>'
                      f"<tbody>{rows}</tbody></table>")
    else:
        exceptions = f'<p id="exceptions" class="muted">{_e(t["no_exceptions"])}</p>'
    signatures = "".join(f"<tr><th>{_e(t[k])}</th><td></td></tr>" for k in ("name", "role", "date", "signature"))
    return (f'<section id="signoff" data-report-id="{_e(report)}"><h2>{_e(t["signoff"])}</h2>'
            f'<p id="attestation">{_e(t["attestation"].format(report_id=report))}</p>'
            f'<h3>{_e(t["exceptions"].format(today=format_date(today, lang)))}</h3>{exceptions}'
            f'<p>{_e(t["signoff_intro"])}</p><table id="signatures">{signatures}</table></section>')


def _changes(result: Result, lang: str, t: dict[str, str]) -> str:
    """What changed since --baseline: findings, waivers, the ledger, the catalogue; one line without a baseline."""
    changes = result.changes
    head = f'<section id="changes"><h2>{_e(t["changes"])}</h2>'
    if changes is None:
        return head + f'<p class="muted">{_e(t["changes_none_run"])}</p></section>'
    when = ", ".join(p for p in (format_date(changes.generated_at or "", lang),
                                 changes.git_commit and f"commit {changes.git_commit[:12]}") if p)
    parts = [head, f'<p id="changes-baseline">{_e(t["changes_baseline"].format(baseline=changes.baseline, when=when))}</p>']
    if not changes.waivers_recorded:
        parts.append(f'<p class="muted">{_e(t["changes_waivers_unrecorded"])}</p>')
    if not changes.items:
        parts.append(f'<p class="muted">{_e(t["changes_none"])}</p>')
    else:
        counts = Counter(c.kind for c in changes.items)
        parts.append('<p id="changes-counts">' + " · ".join(
            f'<span data-kind="{_e(k)}" data-count="{n}">{_e(t["chg_" + k])}: {n}</span>'
            for k, n in counts.items()) + "</p>")
        rows = "".join(
            f'<tr class="change" data-kind="{_e(c.kind)}" data-subject="{_e(c.subject)}" data-stack="{_e(c.stack)}" '
            f'data-urn="{_e(c.urn)}"><td>{_e(t["chg_" + c.kind])}</td><td><code>{_e(c.subject)}</code>'
            + (f"<br>{_e(stack_label(c.stack))}" if c.stack else "")
            + (f'<br><span class="mono muted">{_e(c.urn)}</span>' if c.urn else "")
            + f'</td><td lang="en">{_e(c.before)}</td><td lang="en">{_e(c.after)}</td></tr>' for c in changes.items)
        parts.append(f'<table id="changes-table"><thead><tr><th style="width:16%">{_e(t["change"])}</th>'
                     f'<th style="width:30%">{_e(t["subject"])}</th><th>{_e(t["before"])}</th><th>{_e(t["after"])}</th>'
                     f"</tr></thead><tbody>{rows}</tbody></table>")
    parts.append(f'<p class="muted">{_e(t["changes_gate"])}</p></section>')
    return "".join(parts)


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
