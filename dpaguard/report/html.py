"""The compliance report: one self-contained HTML page organised by DPA clause.

No scripts, no fonts, no images from anywhere: inline CSS and inline SVG only, so the page can be
archived as evidence and opened offline. Every value is escaped. The numbers a reader (or a test)
needs carry `data-*` attributes: `#summary [data-summary-*]`, `tr.stack[data-stack]`,
`tr.environment[data-environment]`, `g.cell[data-clause][data-stack]`, `tr.finding`.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import Iterable

from dpaguard.model import Finding, Result
from dpaguard.report._shared import (
    STATUS_ORDER,
    Outcome,
    OutcomeStatus,
    clause_sort_key,
    clauses_of,
    outcomes,
    sorted_findings,
    stack_label,
    worst,
)

_COLOURS = {"failed": "#c62828", "waived": "#ef9f00", "passed": "#2e7d32", "not-applicable": "#b0b7bf"}
_SYMBOLS = {"failed": "✗", "waived": "~", "passed": "✓", "not-applicable": "–"}
_LABELS = {"failed": "failed", "waived": "waived", "passed": "passed", "not-applicable": "not applicable"}

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2329;margin:0;background:#f4f6f8}
main{max-width:1180px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid #e3e7eb;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
.verdict{font-size:16px;font-weight:600;padding:10px 14px;border-radius:6px;margin:12px 0}
.verdict.failed{background:#fdecea;color:#8e1c1c}.verdict.advisory{background:#fff4e0;color:#7a4d00}
.verdict.passed{background:#e8f5e9;color:#1b5e20}
#summary{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0 20px;padding:0}
#summary div{flex:1;min-width:120px;border:1px solid #e3e7eb;border-radius:6px;padding:8px 12px}
#summary dt{color:#5b6670;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
#summary dd{margin:0;font-size:24px;font-weight:600}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e3e7eb;vertical-align:top}
th{background:#f4f6f8;font-weight:600;font-size:13px}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.status{display:inline-block;padding:1px 7px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.status.failed{background:#c62828}.status.waived{background:#ef9f00}.status.passed{background:#2e7d32}
.status.not-applicable{background:#8a939c}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;word-break:break-all}
.muted{color:#5b6670}.clause{border-left:4px solid #e3e7eb;padding-left:14px;margin-top:22px}
.clause.failed{border-color:#c62828}.clause.waived{border-color:#ef9f00}.clause.passed{border-color:#2e7d32}
dl.evidence{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}dl.evidence dt{color:#5b6670}
dl.evidence dd{margin:0}.notice{background:#fff4e0;border-left:4px solid #ef9f00;padding:6px 10px;margin:6px 0}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
"""


def _e(value: object) -> str:
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in str(value))
    return escape(text, quote=True)


def _status(status: OutcomeStatus) -> str:
    return f'<span class="status {status}">{_e(_LABELS[status])}</span>'


def _clauses(all_outcomes: list[Outcome]) -> list[str]:
    seen = {clause for outcome in all_outcomes for clause in clauses_of(outcome.control.clause)}
    return sorted(seen, key=clause_sort_key)


def _of_clause(all_outcomes: list[Outcome], clause: str) -> list[Outcome]:
    return [o for o in all_outcomes if clause in clauses_of(o.control.clause)]


def _stack_names(result: Result, all_outcomes: list[Outcome]) -> list[str]:
    names = [s.name for s in result.stacks]
    for outcome in all_outcomes:
        if outcome.stack.name not in names:
            names.append(outcome.stack.name)
    return names


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _grid(result: Result, all_outcomes: list[Outcome], clauses: list[str]) -> str:
    """The clause-by-stack grid as inline SVG: one row per clause, one column per stack."""
    stacks = _stack_names(result, all_outcomes)
    label_w, cell_w, cell_h, head_h, legend_h = 300, 150, 30, 46, 34
    width = label_w + cell_w * max(1, len(stacks)) + 10
    height = head_h + cell_h * len(clauses) + legend_h + 10
    parts = [f'<svg id="clause-grid" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="DPA clauses by stack">']
    parts.append("<title>DPA clauses by stack: failed, waived, passed, not applicable</title>")
    environments = {s.name: s.environment for s in result.stacks}
    for column, stack in enumerate(stacks):
        x = label_w + column * cell_w + cell_w / 2
        parts.append(f'<text x="{x}" y="20" text-anchor="middle" font-size="14" font-weight="600">{_e(_short(stack_label(stack), 18))}</text>')
        parts.append(f'<text x="{x}" y="37" text-anchor="middle" font-size="11" fill="#5b6670">'
                     f'{_e(environments.get(stack, ""))}</text>')
    for row, clause in enumerate(clauses):
        y = head_h + row * cell_h
        parts.append(f'<text x="{label_w - 10}" y="{y + cell_h / 2 + 5}" text-anchor="end" font-size="13">'
                     f'<title>{_e(clause)}</title>{_e(_short(clause, 40))}</text>')
        for column, stack in enumerate(stacks):
            mine = [o for o in _of_clause(all_outcomes, clause) if o.stack.name == stack]
            counts = Counter(o.status for o in mine)
            status = worst(counts)
            x = label_w + column * cell_w
            findings = sum(len(o.unwaived) for o in mine)
            label = {"failed": f"{_SYMBOLS['failed']} {findings} finding{'s' if findings != 1 else ''}",
                     "waived": f"{_SYMBOLS['waived']} waived", "passed": f"{_SYMBOLS['passed']} passed",
                     "not-applicable": "n/a"}[status]
            data = " ".join(f'data-{s}="{counts.get(s, 0)}"' for s in STATUS_ORDER)
            tooltip = f"{clause} · {stack}: " + ", ".join(f"{counts[s]} {_LABELS[s]}" for s in STATUS_ORDER if counts[s])
            parts.append(
                f'<g class="cell" data-clause="{_e(clause)}" data-stack="{_e(stack)}" data-status="{status}" '
                f'data-findings="{findings}" {data}><title>{_e(tooltip)}</title>'
                f'<rect x="{x + 3}" y="{y + 3}" width="{cell_w - 6}" height="{cell_h - 6}" rx="4" '
                f'fill="{_COLOURS[status]}"/>'
                f'<text x="{x + cell_w / 2}" y="{y + cell_h / 2 + 5}" text-anchor="middle" font-size="12" '
                f'font-weight="600" fill="#fff">{_e(label)}</text></g>')
    legend_y = head_h + cell_h * len(clauses) + 14
    x = 10
    for status in STATUS_ORDER:
        parts.append(f'<rect x="{x}" y="{legend_y}" width="14" height="14" rx="3" fill="{_COLOURS[status]}"/>'
                     f'<text x="{x + 20}" y="{legend_y + 12}" font-size="12">{_e(_LABELS[status])}</text>')
        x += 130
    parts.append("</svg>")
    return "".join(parts)


def _finding_row(finding: Finding) -> str:
    level = finding.enforcement + (" (undetermined)" if finding.status == "undetermined" else "")
    waiver = finding.waiver
    waiver_cells = (f"<td>{_e(waiver.reason)}</td><td>{_e(waiver.approver)}</td><td>{_e(waiver.expires.isoformat())}</td>"
                    if waiver else "")
    return (f'<tr class="finding" data-control="{_e(finding.control)}" data-stack="{_e(finding.stack)}" '
            f'data-urn="{_e(finding.urn)}" data-enforcement="{_e(finding.enforcement)}" '
            f'data-waived="{str(finding.waived).lower()}">'
            f"<td>{_e(finding.stack)}</td><td>{_e(finding.name)}<br><span class=\"muted mono\">{_e(finding.type)}</span></td>"
            f"<td>{_e(level)}</td><td>{_e(finding.message)}</td>{waiver_cells}</tr>")


def _clause_section(clause: str, index: int, result: Result, mine: list[Outcome]) -> str:
    status = worst(o.status for o in mine)
    stacks = _stack_names(result, mine)
    controls: list[str] = []
    for outcome in mine:
        if str(outcome.control.id) not in controls:
            controls.append(str(outcome.control.id))
    head = "".join(f'<th class="num">{_e(stack_label(s))}</th>' for s in stacks)
    rows = []
    for control_id in controls:
        per_stack = {o.stack.name: o for o in mine if str(o.control.id) == control_id}
        control = next(iter(per_stack.values())).control
        cells = []
        for stack in stacks:
            if stack not in per_stack:
                cells.append("<td></td>")
                continue
            outcome = per_stack[stack]
            covered = "?" if outcome.covered is None else str(outcome.covered)
            cells.append(f'<td class="num" data-control="{_e(control_id)}" data-stack="{_e(stack)}" '
                         f'data-status="{outcome.status}" data-covered="{_e(covered)}" '
                         f'data-enforcement="{_e(outcome.enforcement)}">{_status(outcome.status)}'
                         f'<br><span class="muted">{_e(covered)} resources · {_e(outcome.enforcement)}</span></td>')
        rows.append(f'<tr class="control" data-control="{_e(control_id)}"><td><code>{_e(control_id)}</code></td>'
                    f"<td>{_e(control.title)}<br><span class=\"muted\">{_e(control.category)} · {_e(control.severity)}"
                    f"</span></td>{''.join(cells)}</tr>")
    parts = [f'<section class="clause {status}" id="clause-{index}" data-clause="{_e(clause)}" data-status="{status}">',
             f"<h3>{_e(clause)} {_status(status)}</h3>",
             f'<table><thead><tr><th>Control</th><th>What it checks</th>{head}</tr></thead><tbody>{"".join(rows)}'
             "</tbody></table>"]
    failed = sorted_findings(f for o in mine for f in o.unwaived)
    waived = sorted_findings(f for o in mine for f in o.waived)
    if failed:
        parts.append("<h4>Failed</h4><table><thead><tr><th>Stack</th><th>Resource</th><th>Level</th><th>Finding</th>"
                     "</tr></thead><tbody>" + "".join(_finding_row(f) for f in failed) + "</tbody></table>")
    if waived:
        parts.append("<h4>Waived</h4><table><thead><tr><th>Stack</th><th>Resource</th><th>Level</th><th>Finding</th>"
                     "<th>Reason</th><th>Approver</th><th>Expires</th></tr></thead><tbody>"
                     + "".join(_finding_row(f) for f in waived) + "</tbody></table>")
    parts.append("</section>")
    return "".join(parts)


def _counts(findings: Iterable[Finding]) -> dict[str, int]:
    items = list(findings)
    return {
        "mandatory": sum(1 for f in items if not f.waived and f.enforcement == "mandatory"),
        "advisory": sum(1 for f in items if not f.waived and f.enforcement == "advisory"),
        "waived": sum(1 for f in items if f.waived),
    }


def _overview(result: Result) -> str:
    rows = []
    for stack in result.stacks:
        counts = _counts(f for f in result.findings if f.stack == stack.name)
        rows.append(f'<tr class="stack" data-stack="{_e(stack.name)}" data-environment="{_e(stack.environment)}" '
                    f'data-resources="{stack.resources}" data-mandatory="{counts["mandatory"]}" '
                    f'data-advisory="{counts["advisory"]}" data-waived="{counts["waived"]}">'
                    f"<td>{_e(stack.name)}</td><td>{_e(stack.environment)}</td><td>{_e(stack.source)}</td>"
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
    return ("<h2>Stacks</h2><table id=\"stacks\"><thead><tr><th>Stack</th><th>Environment</th><th>Source</th>"
            '<th class="num">Resources</th><th class="num">Mandatory</th><th class="num">Advisory</th>'
            '<th class="num">Waived</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
            "<h2>Environments</h2><table id=\"environments\"><thead><tr><th>Environment</th><th>Stacks</th>"
            '<th class="num">Resources</th><th class="num">Mandatory</th><th class="num">Advisory</th>'
            '<th class="num">Waived</th></tr></thead><tbody>' + "".join(env_rows) + "</tbody></table>")


def _evidence(result: Result) -> str:
    stacks = "".join(
        f'<li data-stack="{_e(s.name)}"><strong>{_e(s.name)}</strong> ({_e(s.source)}): '
        f"<code>{_e(s.config_file or s.origin or 'no config file')}</code>"
        + (f' sha256 <code class="digest">{_e(s.config_sha256)}</code>' if s.config_sha256 else "") + "</li>"
        for s in result.stacks)
    return ('<h2>Evidence</h2><dl class="evidence" id="evidence">'
            f'<dt>Tool</dt><dd id="evidence-tool">dpaguard {_e(result.tool_version)}</dd>'
            f'<dt>Policy digest</dt><dd><code id="evidence-policy">{_e(result.policy_sha256)}</code></dd>'
            f'<dt>Git commit</dt><dd><code id="evidence-commit">{_e(result.git_commit or "not available")}</code></dd>'
            f'<dt>Generated</dt><dd id="evidence-time">{_e(result.generated_at or "not recorded")}</dd>'
            f"<dt>Stacks</dt><dd><ul>{stacks}</ul></dd></dl>")


def render(result: Result) -> str:
    """The run as a self-contained HTML compliance report."""
    all_outcomes = outcomes(result)
    clauses = _clauses(all_outcomes)
    summary = result.summary()
    if summary["mandatory"]:
        verdict, verdict_class = f"{summary['mandatory']} mandatory finding(s): outside the DPA", "failed"
    elif summary["advisory"]:
        verdict, verdict_class = f"No mandatory findings; {summary['advisory']} advisory", "advisory"
    else:
        verdict, verdict_class = "Inside the DPA: no unwaived findings", "passed"
    stacks = ", ".join(s.name for s in result.stacks)
    cards = "".join(
        f'<div><dt>{_e(label)}</dt><dd data-summary-{key}="{summary[key]}" id="summary-{key}">{summary[key]}</dd></div>'
        for key, label in (("mandatory", "Mandatory"), ("advisory", "Advisory"), ("waived", "Waived"),
                           ("controls", "Controls"), ("resources", "Resources")))
    sections = "".join(
        _clause_section(clause, index, result, _of_clause(all_outcomes, clause))
        for index, clause in enumerate(clauses))
    notices = "".join(f'<p class="notice">{_e(n)}</p>' for n in result.notices)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        f"<title>dpaguard DPA compliance report: {_e(stacks)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>DPA compliance report</h1><p class=\"muted\">Stacks {_e(stacks)} · dpaguard {_e(result.tool_version)}"
        f" · {_e(result.generated_at or '')}</p>"
        f'<p class="verdict {verdict_class}" id="verdict">{_e(verdict)}</p>'
        f'<dl id="summary">{cards}</dl>{notices}'
        f"<h2>Clauses by stack</h2>{_grid(result, all_outcomes, clauses)}"
        f"{_overview(result)}<h2>By DPA clause</h2>{sections}{_evidence(result)}"
        "</main></body></html>\n"
    )
