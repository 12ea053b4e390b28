"""Markdown for a pull-request comment or a CI job summary: summary table, findings, then waived ones."""

from __future__ import annotations

from dpaguard.model import Finding, Result
from dpaguard.report._shared import sorted_findings

# A PR comment or step summary has a size limit (GitHub: 65,536 characters for a comment).
MAX_ROWS = 200


def cell(text: object) -> str:
    """Text safe inside a table cell: one line, printable (no terminal escapes), pipes and HTML escaped."""
    value = "".join(ch if ch.isprintable() else " " for ch in " ".join(str(text).split()))
    for raw, safe in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("`", "\\`")):
        value = value.replace(raw, safe)
    return value


def _rows(findings: list[Finding], waived: bool) -> list[str]:
    if waived:
        lines = ["| Control | Clause | Stack | Resource | Reason | Approver | Expires |", "|---|---|---|---|---|---|---|"]
    else:
        lines = ["| Level | Severity | Control | Clause | Stack | Resource | Message |", "|---|---|---|---|---|---|---|"]
    for finding in findings[:MAX_ROWS]:
        resource = f"{cell(finding.name)} ({cell(finding.type)})"
        if waived:
            w = finding.waiver
            lines.append(f"| {cell(finding.control)} | {cell(finding.clause)} | {cell(finding.stack)} | {resource} | "
                         f"{cell(w.reason if w else '')} | {cell(w.approver if w else '')} | "
                         f"{cell(w.expires.isoformat() if w else '')} |")
        else:
            level = finding.enforcement + (" (undetermined)" if finding.status == "undetermined" else "")
            lines.append(f"| {cell(level)} | {cell(finding.severity)} | {cell(finding.control)} | {cell(finding.clause)} | "
                         f"{cell(finding.stack)} | {resource} | {cell(finding.message)} |")
    if len(findings) > MAX_ROWS:
        lines.append(f"\n_{len(findings) - MAX_ROWS} more not shown; see the JSON or SARIF report._")
    return lines


def render(result: Result) -> str:
    """The run as Markdown."""
    counts = result.summary()
    findings = sorted_findings(result.findings)
    open_findings = [f for f in findings if not f.waived]
    waived = [f for f in findings if f.waived]
    if counts["mandatory"]:
        verdict = f"❌ {counts['mandatory']} mandatory finding(s) block this change"
    elif counts["advisory"]:
        verdict = f"⚠️ no mandatory findings, {counts['advisory']} advisory"
    else:
        verdict = "✅ inside the DPA: no unwaived findings"
    lines = [f"## dpaguard: {verdict}", ""]
    lines += ["| Stack | Environment | Source | Resources | Mandatory | Advisory | Waived |",
              "|---|---|---|---:|---:|---:|---:|"]
    for stack in result.stacks:
        mine = [f for f in findings if f.stack == stack.name]
        lines.append(
            f"| {cell(stack.name)} | {cell(stack.environment)} | {cell(stack.source)} | {stack.resources} | "
            f"{sum(1 for f in mine if not f.waived and f.enforcement == 'mandatory')} | "
            f"{sum(1 for f in mine if not f.waived and f.enforcement == 'advisory')} | "
            f"{sum(1 for f in mine if f.waived)} |")
    lines.append(f"| **total** | | | {counts['resources']} | {counts['mandatory']} | {counts['advisory']} | "
                 f"{counts['waived']} |")
    lines.append("")
    if open_findings:
        lines += ["### Findings", ""] + _rows(open_findings, waived=False) + [""]
    if waived:
        lines += ["### Waived", ""] + _rows(waived, waived=True) + [""]
    for notice in result.notices:
        lines.append(f"> **Note:** {cell(notice)}")
    if result.notices:
        lines.append("")
    lines.append(f"<sub>dpaguard {cell(result.tool_version)} · {counts['controls']} controls · policy "
                 f"`{result.policy_sha256[:12]}`" + (f" · commit `{result.git_commit[:12]}`" if result.git_commit else "")
                 + "</sub>")
    return "\n".join(lines) + "\n"
