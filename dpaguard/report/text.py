"""Text output for a terminal: findings grouped by stack and control, then a one-line summary.

Colour is the caller's decision (a TTY without NO_COLOR); rendering stays pure. English or French
(`lang`): the lines' own words from i18n_strings.TEXT, the policies' texts (titles, messages, notices)
from the policy set's French (policies/dpa/i18n/fr.yaml), as the HTML and Markdown reports have them.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from typing import Callable

from dpaguard.model import Finding, Result
from dpaguard.report._shared import controls_by_id, location_path, sorted_findings, stack_label
from dpaguard.report.i18n import citation_label, format_date, strings, translator
from dpaguard.report.i18n_strings import TEXT

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


def _label(finding: Finding, t: dict[str, str]) -> str:
    if finding.waived:
        return t["waived"]
    if finding.status == "undetermined":
        return f"{t[finding.enforcement]} {t['undetermined']}"
    return t[finding.enforcement]


def render(result: Result, *, color: bool = False, lang: str = "en") -> str:
    """The run as text: `stack (environment, source)`, its controls, their findings, a summary line."""
    paint = _Paint(color)
    t = TEXT.get(lang, TEXT["en"])
    words = strings(lang)
    tr = translator(result.french, lang)
    controls = controls_by_id(result)
    environments = {s.name: s for s in result.stacks}
    lines: list[str] = []
    findings = sorted_findings(result.findings)
    by_stack = {stack: list(group) for stack, group in groupby(findings, key=lambda f: f.stack)}
    # Stacks in the order the run names them, then any pseudo-stack (checkov's project files).
    order = [s.name for s in result.stacks] + sorted(set(by_stack) - set(environments))
    for stack in order:
        summary = environments.get(stack)
        if stack not in by_stack:
            shown = t["stack"].format(stack=_clean(stack_label(stack)), environment=summary.environment,
                                      source=words.get("src_" + summary.source, summary.source),
                                      resources=summary.resources) if summary else _clean(stack_label(stack))
            lines.append(paint("ok", t["no_findings"].format(stack=shown)))
            continue
        lines.append(paint("head", t["stack"].format(
            stack=_clean(stack_label(stack)), environment=summary.environment,
            source=words.get("src_" + summary.source, summary.source), resources=summary.resources)
            if summary else _clean(stack_label(stack))))
        for control_id, group in groupby(by_stack[stack], key=lambda f: str(f.control)):
            control = controls[control_id]
            lines.append(f"  {paint('head', control_id)} {_clean(tr(control.title))} "
                         f"[{_clean(citation_label(control.clause, lang))}]")
            for finding in group:
                lines += _finding(finding, result, paint, t, tr, lang)
        lines.append("")
    lines += _changes(result, paint, t, tr, lang)
    for notice in result.notices:
        lines.append(paint("advisory", t["note"].format(notice=_clean(tr(notice)))))
    # What the DPA and its register leave open, which no program can fix: once each, not a finding.
    for control_id, message in sorted({(str(f.control), f.message) for f in result.register_findings}):
        lines.append(paint("dim", t["ledger"].format(control=control_id, message=_clean(tr(message)))))
    counts = result.summary()
    style = "mandatory" if counts["mandatory"] else ("advisory" if counts["advisory"] else "ok")
    lines.append(paint(style, t["summary"].format(stacks=len(result.stacks), **counts)))
    return "\n".join(lines) + "\n"


def _finding(finding: Finding, result: Result, paint: _Paint, t: dict[str, str], tr: Callable[[str], str],
             lang: str) -> list[str]:
    """One finding's lines: its level and resource, its message, where it is written, its waiver."""
    style: str = "waived" if finding.waived else finding.enforcement
    where = location_path(finding, result)
    line = f":{finding.location.line}" if finding.location and finding.location.path else ""
    lines = [f"    {paint(style, _label(finding, t))} {_clean(finding.name)} ({_clean(finding.type)})",
             f"      {_clean(tr(finding.message))}",
             paint("dim", "      " + t["at"].format(where=f"{_clean(where)}{line}"))]
    waiver = finding.waiver
    if waiver is not None:
        lines.append(paint("dim", "      " + t["waived_by"].format(
            approver=_clean(waiver.approver), expires=format_date(waiver.expires.isoformat(), lang),
            reason=_clean(waiver.reason)) + (t["reference"].format(reference=_clean(waiver.reference))
                                             if waiver.reference else "")))
        if waiver.compensating:
            lines.append(paint("dim", "      " + t["compensating"].format(measures=_clean(waiver.compensating))))
    return lines


def _changes(result: Result, paint: _Paint, t: dict[str, str], tr: Callable[[str], str], lang: str) -> list[str]:
    """What changed since --baseline, one line per change; nothing without a baseline."""
    changes = result.changes
    if changes is None:
        return []
    words = strings(lang)

    def kind(name: str) -> str:  # English keeps the JSON's kinds; French says them
        return words.get("chg_" + name, name) if lang != "en" else name

    when = ", ".join(p for p in (format_date(changes.generated_at or "", lang),
                                 changes.git_commit and f"commit {changes.git_commit[:12]}") if p)
    counts = Counter(c.kind for c in changes.items)
    summary = ", ".join(f"{n} {kind(name)}" for name, n in counts.items()) or t["nothing_changed"]
    lines = [paint("head", t["changes"].format(baseline=_clean(changes.baseline)) + (f" ({_clean(when)})" if when else "")
                   + f": {summary}")]
    if not changes.waivers_recorded:
        lines.append("  " + t["waivers_unrecorded"])
    for change in changes.items:
        where = " ".join(_clean(p) for p in (stack_label(change.stack) if change.stack else "", change.urn) if p)
        moved = " -> ".join(_clean(tr(p)) for p in (change.before, change.after) if p)
        lines.append(f"  {kind(change.kind)} {_clean(change.subject)}" + (f" {where}" if where else "")
                     + (f": {moved}" if moved else ""))
    return lines + [""]
