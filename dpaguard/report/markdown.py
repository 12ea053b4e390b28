"""Markdown for a pull-request comment or a CI job summary: summary table, findings, waived ones, then
the report by DPA clause (status, evidence grade, quote, controls, resources examined), the inventory
and the stages that ran. English or French (`lang`, strings in dpaguard/report/i18n.py)."""

from __future__ import annotations

from typing import Callable

from dpaguard.inventory import site_names
from dpaguard.model import Finding, Result
from dpaguard.report._shared import clause_rows, inventory, sorted_findings
from dpaguard.report.i18n import QUOTE_TRANSLATED, citation_label, clause_label, format_date, french, strings, translator
from dpaguard.report.json import result_json

# A PR comment or step summary has a size limit (GitHub: 65,536 characters for a comment).
MAX_ROWS = 200


def cell(text: object) -> str:
    """Text safe inside a table cell: one line, printable (no terminal escapes), pipes and HTML escaped."""
    value = "".join(ch if ch.isprintable() else " " for ch in " ".join(str(text).split()))
    for raw, safe in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("`", "\\`")):
        value = value.replace(raw, safe)
    return value


def _rows(findings: list[Finding], waived: bool, t: dict[str, str], lang: str, tr: Callable[[str], str]) -> list[str]:
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
                f" ({t.get('ctl_undetermined', t['st_undetermined'])})" if finding.status == "undetermined" else "")
            lines.append(f"| {cell(level)} | {cell(t.get('sev_' + finding.severity, finding.severity))} | {cell(finding.control)} | "
                         f"{cell(citation_label(finding.clause, lang))} | {cell(finding.stack)} | {resource} | {cell(tr(finding.message))} |")
    if len(findings) > MAX_ROWS:
        lines.append("\n_" + t["md_more"].format(n=len(findings) - MAX_ROWS) + "_")
    return lines


def _clauses(result: Result, lang: str, t: dict[str, str]) -> list[str]:
    rows = clause_rows(result)
    if not rows:
        return []
    lines = [f"### {t['md_clauses']}", "",
             f"| {t['clause']} | {t['heading']} | {t['evidence_grade']} | {t['status']} | {t['controls']} | "
             f"{t['examined']} | {t['quote_language'] if lang != 'en' and result.french is None else t['quote']} |", "|---|---|---|---|---|---:|---|"]
    apart = False
    for row in sorted(rows, key=lambda r: r.outside):
        if row.outside and not apart:  # the gate's own integrity and inventory aids, never a clause of the DPA
            apart = True
            lines += ["", f"**{cell(t['outside'])}**: {cell(t['outside_intro'])}", "", lines[2], lines[3]]
        # a French heading is the project's translation (†): no French text of the DPA is in the repository;
        # a section outside the DPA's clauses is the project's own words in either language
        title = ((row.title_fr or row.title) if row.outside else f"{row.title_fr} †" if row.title_fr else row.title) \
            if lang == "fr" else row.title
        text = row.quote or row.note
        translated = french(result.french, text) if lang == "fr" else None
        quote = (translated if row.outside else f"« {translated} » {QUOTE_TRANSLATED}") if translated else text
        lines.append(f"| {cell(clause_label(row.id, lang))} | {cell(title)} | {cell(t.get('gr_' + row.grade, row.grade))} | "
                     f"{cell(t.get('st_' + row.status, row.status))} | {cell(', '.join(row.controls) or '—')} | "
                     f"{row.examined} | {cell(quote)} |")
    if t["translation_note"]:
        lines += ["", f"_{cell(t['translation_note'])}_"]
    return lines + [""]


def _inventory(result: Result, t: dict[str, str], tr: Callable[[str], str]) -> list[str]:
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
    lines += ["", f"**{cell(t['listed_unused'])}** ({len(unused)}){t['colon']}{cell(', '.join(unused) or t['none'])}", "",
              f"| {t['location']} | {t['country']} | {t['site']} | {t['named']} | {t['resources']} |", "|---|---|---|---|---|"]
    lines += [f"| {cell(r.name)} | {cell(r.country or t['unknown'])} | {cell(t['sites_or'].join(site_names(r.detail)) if r.detail else t['unknown'])} | {t['in_part'] if r.partly else yes(r.listed)} | "
              f"{cell(counts(r.resources))} |" for r in places]
    lines += ["", f"**{cell(t['sites_unused'])}**{t['colon']}{cell(', '.join(sites_unseen) or t['none'])}", ""]
    return lines


def _changes(result: Result, lang: str, t: dict[str, str]) -> list[str]:
    """What changed since --baseline, as a table (one line without a baseline)."""
    changes = result.changes
    lines = [f"### {t['changes']}", ""]
    if changes is None:
        return lines + [f"_{cell(t['changes_none_run'])}_", ""]
    when = ", ".join(p for p in (format_date(changes.generated_at or "", lang),
                                 changes.git_commit and f"commit {changes.git_commit[:12]}") if p)
    lines += [cell(t["changes_baseline"].format(baseline=changes.baseline, when=when)), ""]
    if not changes.waivers_recorded:
        lines += [f"_{cell(t['changes_waivers_unrecorded'])}_", ""]
    if not changes.items:
        return lines + [f"_{cell(t['changes_none'])}_", ""]
    lines += [f"| {t['change']} | {t['subject']} | {t['stack']} | {t['resource']} | {t['before']} | {t['after']} |",
              "|---|---|---|---|---|---|"]
    for change in changes.items[:MAX_ROWS]:
        lines.append(f"| {cell(t['chg_' + change.kind])} | {cell(change.subject)} | {cell(change.stack)} | {cell(change.urn)} | "
                     f"{cell(change.before)} | {cell(change.after)} |")
    if len(changes.items) > MAX_ROWS:
        lines.append("\n_" + t["md_more"].format(n=len(changes.items) - MAX_ROWS) + "_")
    return lines + ["", f"_{cell(t['changes_gate'])}_", ""]


def _signoff(result: Result, lang: str, t: dict[str, str]) -> list[str]:
    """The attestation with the report id, and the exceptions accepted: the waivers in force."""
    report = result_json(result)["reportId"]
    today = result.today.isoformat() if result.today else ""
    in_force = [w for w in result.waivers if not today or w.expires.isoformat() >= today]
    lines = [f"### {t['signoff']}", "", cell(t["attestation"].format(report_id=report)), "",
             f"**{cell(t['exceptions'].format(today=format_date(today, lang)))}**", ""]
    if not in_force:
        return lines + [f"_{cell(t['no_exceptions'])}_", ""]
    lines += [f"| {t['control']} | {t['stack']} | {t['resource']} | {t['reason']} | {t['compensating']} | {t['approver']} | "
              f"{t['approved']} | {t['reference']} | {t['expires']} |", "|---|---|---|---|---|---|---|---|---|"]
    for w in in_force:
        lines.append(f"| {cell(w.control)} | {cell(w.stack)} | {cell(w.urn_pattern)} | {cell(w.reason)} | {cell(w.compensating)} | "
                     f"{cell(w.approver)} | {cell(format_date(w.approved.isoformat(), lang) if w.approved else '')} | "
                     f"{cell(w.reference)} | {cell(format_date(w.expires.isoformat(), lang))} |")
    return lines + [""]


def render(result: Result, *, lang: str = "en") -> str:
    """The run as Markdown, in English or French."""
    t = strings(lang)
    tr = translator(result.french, lang)
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
            f"| {cell(stack.name)} | {cell(stack.environment)} | {cell(t.get('src_' + stack.source, stack.source))} | {stack.resources} | "
            f"{sum(1 for f in mine if not f.waived and f.enforcement == 'mandatory')} | "
            f"{sum(1 for f in mine if not f.waived and f.enforcement == 'advisory')} | "
            f"{sum(1 for f in mine if f.waived)} |")
    lines.append(f"| **{t['total'].lower()}** | | | {counts['resources']} | {counts['mandatory']} | {counts['advisory']} | "
                 f"{counts['waived']} |")
    lines.append("")
    if open_findings:
        lines += [f"### {t['md_findings']}", ""] + _rows(open_findings, False, t, lang, tr) + [""]
    if waived:
        lines += [f"### {t['md_waived']}", ""] + _rows(waived, True, t, lang, tr) + [""]
    lines += _changes(result, lang, t)
    lines += _clauses(result, lang, t)
    lines += _inventory(result, t, tr)
    if result.stages:
        lines += [f"### {t['md_stages']}", ""]
        lines += [f"- {cell(t.get('stage_' + s.name, s.name))}{t['colon']}{t['ran'] if s.ran else t['not_run']}"
                  + (f" ({cell(tr(s.detail))})" if s.detail else "") for s in result.stages]
        lines.append("")
    lines += _signoff(result, lang, t)
    notices = [tr(n) for n in result.notices] + ([t["no_french"]] if lang == "fr" and result.french is None else [])
    for notice in notices:
        lines.append(f"> **{t['md_note']}** {cell(notice)}")
    if notices:
        lines.append("")
    tree = ""
    if result.git_dirty:
        tree = f" · **{t['scope_modified']}** (sha256 `{(result.git_diff_sha256 or '')[:12]}`)"
    lines.append(f"<sub>dpaguard {cell(result.tool_version)} · {counts['controls']} {t['controls'].lower()} · {t['md_policy']} "
                 f"`{result.policy_sha256[:12]}`" + (f" · commit `{result.git_commit[:12]}`" if result.git_commit else "")
                 + tree + "</sub>")
    return "\n".join(lines) + "\n"
