"""The HTML report's clause parts: the clause-by-clause table, the clause-by-stack grid (inline SVG),
each clause's section (quote, parts, controls by stack) and its findings' rows."""

from __future__ import annotations

from collections import Counter
from typing import Callable

from dpaguard.model import Finding, Result, StackSummary, Translation
from dpaguard.report._shared import CLAUSE_STATES, ClauseRow, Outcome, shown_path, sorted_findings, stack_label
from dpaguard.report.html_style import _COLOURS, _SYMBOLS, _e, _grade, _short, _status
from dpaguard.report.i18n import QUOTE_TRANSLATED, clause_label, format_date, french, translator


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
