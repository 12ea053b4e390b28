"""Markdown for a pull-request comment or a CI job summary: summary table, findings, waived ones, then
the report by DPA clause (status, evidence grade, quote, controls, resources examined), the inventory
and the stages that ran. English or French (`lang`, strings in dpaguard/report/i18n.py)."""

from __future__ import annotations

from dpaguard.model import Finding, Result
from dpaguard.report._shared import clause_rows, inventory, sorted_findings
from dpaguard.report.i18n import citation_label, clause_label, format_date, strings

# A PR comment or step summary has a size limit (GitHub: 65,536 characters for a comment).
MAX_ROWS = 200


def cell(text: object) -> str:
    """Text safe inside a table cell: one line, printable (no terminal escapes), pipes and HTML escaped."""
    value = "".join(ch if ch.isprintable() else " " for ch in " ".join(str(text).split()))
    for raw, safe in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("`", "\\`")):
        value = value.replace(raw, safe)
    return value


def _rows(findings: list[Finding], waived: bool, t: dict[str, str], lang: str) -> list[str]:
    if waived:
        lines = [f"| {t['control']} | {t['clause']} | {t['stack']} | {t['resource']} | {t['reason']} | {t['approver']} | "
                 f"{t['expires']} |", "|---|---|---|---|---|---|---|"]
    else:
        lines = [f"| {t['level']} | {t['md_severity']} | {t['control']} | {t['clause']} | {t['stack']} | {t['resource']} | "
                 f"{t['md_message']} |", "|---|---|---|---|---|---|---|"]
    for finding in findings[:MAX_ROWS]:
        resource = f"{cell(finding.name)} ({cell(finding.type)})"
        if waived:
            w = finding.waiver
            lines.append(f"| {cell(finding.control)} | {cell(citation_label(finding.clause, lang))} | {cell(finding.stack)} | {resource} | "
                         f"{cell(w.reason if w else '')} | {cell(w.approver if w else '')} | "
                         f"{cell(format_date(w.expires.isoformat(), lang) if w else '')} |")
        else:
            level = t.get("lvl_" + finding.enforcement, finding.enforcement) + (
                f" ({t['st_undetermined']})" if finding.status == "undetermined" else "")
            lines.append(f"| {cell(level)} | {cell(finding.severity)} | {cell(finding.control)} | {cell(citation_label(finding.clause, lang))} | "
                         f"{cell(finding.stack)} | {resource} | {cell(finding.message)} |")
    if len(findings) > MAX_ROWS:
        lines.append("\n_" + t["md_more"].format(n=len(findings) - MAX_ROWS) + "_")
    return lines


def _clauses(result: Result, lang: str, t: dict[str, str]) -> list[str]:
    rows = clause_rows(result)
    if not rows:
        return []
    lines = [f"### {t['md_clauses']}", "",
             f"| {t['clause']} | {t['heading']} | {t['evidence_grade']} | {t['status']} | {t['controls']} | "
             f"{t['examined']} | {t['quote_language'] if lang != 'en' else t['quote']} |", "|---|---|---|---|---|---:|---|"]
    apart = False
    for row in sorted(rows, key=lambda r: r.outside):
        if row.outside and not apart:  # the gate's own integrity and inventory aids, never a clause of the DPA
            apart = True
            lines += ["", f"**{cell(t['outside'])}**: {cell(t['outside_intro'])}", "",
                      lines[2], lines[3]]
        # a French heading is the project's translation (†): no French text of the DPA is in the repository
        title = (f"{row.title_fr} †" if row.title_fr and not row.outside else row.title_fr or row.title) \
            if lang == "fr" else row.title
        lines.append(f"| {cell(clause_label(row.id, lang))} | {cell(title)} | {cell(t.get('gr_' + row.grade, row.grade))} | "
                     f"{cell(t.get('st_' + row.status, row.status))} | {cell(', '.join(row.controls) or '—')} | "
                     f"{row.examined} | {cell(row.quote or row.note)} |")
    if t["translation_note"]:
        lines += ["", f"_{cell(t['translation_note'])}_"]
    return lines + [""]


def _inventory(result: Result, t: dict[str, str]) -> list[str]:
    used, places, unused, sites_unseen = inventory(result)
    if not (used or places or result.subprocessors):
        return []

    def yes(flag: bool | None) -> str:
        return t["unknown"] if flag is None else t["yes"] if flag else t["no"]

    def counts(resources: dict[str, int]) -> str:
        return ", ".join(f"{stack} {n}" for stack, n in sorted(resources.items()))

    lines = [f"### {t['md_inventory']}", "", cell(t["inventory_intro"]), "",
             f"| {t['subprocessor']} | {t['listed']} | {t['country']} | {t['resources']} |", "|---|---|---|---|"]
    lines += [f"| {cell(r.name)} | {yes(r.listed)} | {cell(r.country or '')} | {cell(counts(r.resources))} |" for r in used]
    lines += ["", f"**{cell(t['listed_unused'])}** ({len(unused)}): {cell(', '.join(unused) or t['none'])}", "",
              f"| {t['location']} | {t['country']} | {t['site']} | {t['named']} | {t['resources']} |", "|---|---|---|---|---|"]
    lines += [f"| {cell(r.name)} | {cell(r.country or t['unknown'])} | {cell(r.detail or t['unknown'])} | {yes(r.listed)} | "
              f"{cell(counts(r.resources))} |" for r in places]
    lines += ["", f"**{cell(t['sites_unused'])}**: {cell(', '.join(sites_unseen) or t['none'])}", ""]
    return lines


def render(result: Result, *, lang: str = "en") -> str:
    """The run as Markdown, in English or French."""
    t = strings(lang)
    counts = result.summary()
    findings = sorted_findings(result.findings)
    open_findings = [f for f in findings if not f.waived]
    waived = [f for f in findings if f.waived]
    if counts["mandatory"]:
        verdict = t["md_failed"].format(n=counts["mandatory"])
    elif counts["advisory"]:
        verdict = t["md_advisory"].format(n=counts["advisory"])
    else:
        verdict = t["md_passed"]
    lines = [f"## dpaguard: {verdict}", ""]
    lines += [f"| {t['stack']} | {t['environment']} | {t['source']} | {t['resources']} | {t['mandatory']} | "
              f"{t['advisory']} | {t['waived']} |", "|---|---|---|---:|---:|---:|---:|"]
    for stack in result.stacks:
        mine = [f for f in findings if f.stack == stack.name]
        lines.append(
            f"| {cell(stack.name)} | {cell(stack.environment)} | {cell(stack.source)} | {stack.resources} | "
            f"{sum(1 for f in mine if not f.waived and f.enforcement == 'mandatory')} | "
            f"{sum(1 for f in mine if not f.waived and f.enforcement == 'advisory')} | "
            f"{sum(1 for f in mine if f.waived)} |")
    lines.append(f"| **{t['total'].lower()}** | | | {counts['resources']} | {counts['mandatory']} | {counts['advisory']} | "
                 f"{counts['waived']} |")
    lines.append("")
    if open_findings:
        lines += [f"### {t['md_findings']}", ""] + _rows(open_findings, False, t, lang) + [""]
    if waived:
        lines += [f"### {t['md_waived']}", ""] + _rows(waived, True, t, lang) + [""]
    lines += _clauses(result, lang, t)
    lines += _inventory(result, t)
    if result.stages:
        lines += [f"### {t['md_stages']}", ""]
        lines += [f"- {cell(t.get('stage_' + s.name, s.name))}: {t['ran'] if s.ran else t['not_run']}"
                  + (f" ({cell(s.detail)})" if s.detail else "") for s in result.stages]
        lines.append("")
    for notice in result.notices:
        lines.append(f"> **{t['md_note']}:** {cell(notice)}")
    if result.notices:
        lines.append("")
    tree = ""
    if result.git_dirty:
        tree = f" · **work tree modified** (sha256 `{(result.git_diff_sha256 or '')[:12]}`)"
    lines.append(f"<sub>dpaguard {cell(result.tool_version)} · {counts['controls']} {t['controls'].lower()} · policy "
                 f"`{result.policy_sha256[:12]}`" + (f" · commit `{result.git_commit[:12]}`" if result.git_commit else "")
                 + tree + "</sub>")
    return "\n".join(lines) + "\n"
