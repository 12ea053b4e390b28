"""Text output for a terminal: findings grouped by stack and control, then a one-line summary.

Colour is the caller's decision (a TTY without NO_COLOR); rendering stays pure.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from dpaguard.model import Finding, Result
from dpaguard.report._shared import controls_by_id, location_path, sorted_findings, stack_label

_RESET = "\033[0m"
_STYLES = {"mandatory": "\033[1;31m", "advisory": "\033[33m", "waived": "\033[2m", "ok": "\033[32m",
           "head": "\033[1m", "dim": "\033[2m"}


class _Paint:
    """ANSI styling when colour is on, plain text otherwise."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, style: str, text: str) -> str:
        return f"{_STYLES[style]}{text}{_RESET}" if self.color else text


def _clean(text: str) -> str:
    """One line without control characters, so a message cannot move the cursor or fake colours."""
    return "".join(ch if ch.isprintable() else " " for ch in " ".join(str(text).split()))


def _label(finding: Finding) -> str:
    if finding.waived:
        return "waived"
    if finding.status == "undetermined":
        return f"{finding.enforcement} (undetermined)"
    return finding.enforcement


def render(result: Result, *, color: bool = False) -> str:
    """The run as text: `stack (environment, source)`, its controls, their findings, a summary line."""
    paint = _Paint(color)
    controls = controls_by_id(result)
    environments = {s.name: s for s in result.stacks}
    lines: list[str] = []
    findings = sorted_findings(result.findings)
    by_stack = {stack: list(group) for stack, group in groupby(findings, key=lambda f: f.stack)}
    # Stacks in the order the run names them, then any pseudo-stack (checkov's project files).
    order = [s.name for s in result.stacks] + sorted(set(by_stack) - set(environments))
    for stack in order:
        summary = environments.get(stack)
        detail = f" ({summary.environment}, {summary.source}, {summary.resources} resources)" if summary else ""
        if stack not in by_stack:
            lines.append(paint("ok", f"{_clean(stack_label(stack))}{detail}: no findings"))
            continue
        lines.append(paint("head", f"{_clean(stack_label(stack))}{detail}"))
        for control_id, group in groupby(by_stack[stack], key=lambda f: str(f.control)):
            control = controls[control_id]
            lines.append(f"  {paint('head', control_id)} {_clean(control.title)} [{_clean(control.clause)}]")
            for finding in group:
                style: str = "waived" if finding.waived else finding.enforcement
                lines.append(f"    {paint(style, _label(finding).upper())} {_clean(finding.name)} ({_clean(finding.type)})")
                lines.append(f"      {_clean(finding.message)}")
                where = location_path(finding, result)
                line = f":{finding.location.line}" if finding.location and finding.location.path else ""
                lines.append(paint("dim", f"      at {_clean(where)}{line}"))
                if finding.waiver is not None:
                    waiver = finding.waiver
                    lines.append(paint("dim", f"      waived by {_clean(waiver.approver)} until "
                                              f"{waiver.expires.isoformat()}: {_clean(waiver.reason)}"
                                              + (f" (reference {_clean(waiver.reference)})" if waiver.reference else "")))
                    if waiver.compensating:
                        lines.append(paint("dim", f"      compensating measures: {_clean(waiver.compensating)}"))
        lines.append("")
    lines += _changes(result, paint)
    for notice in result.notices:
        lines.append(paint("advisory", f"note: {_clean(notice)}"))
    # What the DPA and its register leave open, which no program can fix: once each, not a finding.
    for control_id, message in sorted({(str(f.control), f.message) for f in result.register_findings}):
        lines.append(paint("dim", f"ledger: {control_id} {_clean(message)} (about the DPA and its register, not the program)"))
    counts = result.summary()
    stacks = len(result.stacks)
    verdict = f"{counts['mandatory']} mandatory, {counts['advisory']} advisory, {counts['waived']} waived"
    style = "mandatory" if counts["mandatory"] else ("advisory" if counts["advisory"] else "ok")
    lines.append(paint(style, f"dpaguard: {verdict} finding(s); {counts['controls']} controls over "
                              f"{counts['resources']} resources in {stacks} stack(s)"))
    return "\n".join(lines) + "\n"


def _changes(result: Result, paint: _Paint) -> list[str]:
    """What changed since --baseline, one line per change; nothing without a baseline."""
    changes = result.changes
    if changes is None:
        return []
    when = ", ".join(p for p in (changes.generated_at, changes.git_commit and f"commit {changes.git_commit[:12]}") if p)
    counts = Counter(c.kind for c in changes.items)
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "nothing changed"
    lines = [paint("head", f"changes since {_clean(changes.baseline)}" + (f" ({_clean(when)})" if when else "")
                   + f": {summary}")]
    if not changes.waivers_recorded:
        lines.append("  waivers: not compared (the baseline lists none: it predates waiver records)")
    for change in changes.items:
        where = " ".join(_clean(p) for p in (stack_label(change.stack) if change.stack else "", change.urn) if p)
        moved = " -> ".join(_clean(p) for p in (change.before, change.after) if p)
        lines.append(f"  {change.kind} {_clean(change.subject)}" + (f" {where}" if where else "") + (f": {moved}" if moved else ""))
    return lines + [""]
