"""What every reporter derives from a Result the same way: finding order, the JSON document, outcomes.

An outcome is the verdict of one control on one stack, the unit of the JUnit test cases, the
Markdown table and the HTML clause grid:
    failed          an unwaived finding (violation or undetermined) at mandatory or advisory level
    waived          findings, every one of them waived
    passed          the control applies (enforced in the stack's environment, resources to examine) and found nothing
    not-applicable  the control is disabled in the stack's environment, or examined no resource there
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Literal

from dpaguard.model import Control, Finding, Result, StackSummary

OutcomeStatus = Literal["failed", "waived", "passed", "not-applicable"]
# Worst first: how outcomes combine into one cell of a clause-by-stack grid.
STATUS_ORDER: tuple[OutcomeStatus, ...] = ("failed", "waived", "passed", "not-applicable")
SEVERITY_ORDER = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Outcome:
    """The verdict of one control on one stack, with the findings behind it."""

    control: Control
    stack: StackSummary
    status: OutcomeStatus
    enforcement: str  # mandatory | advisory | disabled, in the stack's environment
    covered: int | None  # resources the control examined in the stack; None when the engine did not say
    findings: tuple[Finding, ...]

    @property
    def unwaived(self) -> tuple[Finding, ...]:
        """The findings no waiver covers."""
        return tuple(f for f in self.findings if not f.waived)

    @property
    def waived(self) -> tuple[Finding, ...]:
        """The findings a waiver covers."""
        return tuple(f for f in self.findings if f.waived)


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in the one deterministic order every format uses: stack, control, URN, message."""
    return sorted(findings, key=lambda f: (*f.sort_key(), f.status, f.waived))


def control_ids(result: Result) -> list[str]:
    """Every control id of the run: the catalogue's, then any that only findings name (checkov, waivers)."""
    ids = [str(c.id) for c in result.controls]
    extra = sorted({str(f.control) for f in result.findings} - set(ids))
    return ids + extra


def controls_by_id(result: Result) -> dict[str, Control]:
    """The catalogue by id, with a stand-in entry for a control that only a finding names."""
    table = {str(c.id): c for c in result.controls}
    for finding in result.findings:
        if str(finding.control) not in table:
            table[str(finding.control)] = Control(
                id=finding.control,
                title=str(finding.control),
                description=finding.message,
                clause=finding.clause,
                category=finding.category,
                severity=finding.severity,  # type: ignore[arg-type]
                enforcement={},
            )
    return table


def _stack_for(result: Result, name: str) -> StackSummary:
    for stack in result.stacks:
        if stack.name == name:
            return stack
    return StackSummary(name=name, project="", environment="prod", source="program", resources=0)


def outcomes(result: Result) -> list[Outcome]:
    """One outcome per control and stack, in catalogue order then stack order."""
    table = controls_by_id(result)
    by_key: dict[tuple[str, str], list[Finding]] = {}
    for finding in result.findings:
        by_key.setdefault((str(finding.control), finding.stack), []).append(finding)
    stacks = list(result.stacks)
    for name in sorted({f.stack for f in result.findings} - {s.name for s in stacks}):
        stacks.append(_stack_for(result, name))
    answer: list[Outcome] = []
    for control_id in control_ids(result):
        control = table[control_id]
        for stack in stacks:
            findings = tuple(sorted_findings(by_key.get((control_id, stack.name), ())))
            enforcement = control.enforcement_for(stack.environment) if control.enforcement else "mandatory"
            covered = result.coverage.get((control_id, stack.name))
            status: OutcomeStatus
            if any(not f.waived for f in findings):
                status = "failed"
            elif findings:
                status = "waived"
            elif enforcement == "disabled" or covered == 0 or (covered is None and result.coverage):
                status = "not-applicable"
            else:
                status = "passed"
            answer.append(Outcome(control, stack, status, enforcement, covered, findings))
    return answer


def clauses_of(text: str) -> list[str]:
    """The individual DPA clauses a control cites.

    "Appendix C §1.1; Article 8.2" and "Appendix C §2, §8.1" cite two each; a parenthesis is part of
    its clause ("Appendix A (call recordings; transcripts)" is one).
    """
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == ";" and depth <= 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    clauses: list[str] = []
    for part in (p.strip() for p in parts):
        head, mark, sections = part.partition("§")
        if mark and "," in sections and "(" not in part:
            clauses += [f"{head}§{section.strip().lstrip('§')}" for section in sections.split(",") if section.strip()]
        elif part:
            clauses.append(part)
    return list(dict.fromkeys(clauses))


def ledger_id(clause: str) -> str:
    """The ledger entry a cited clause belongs to: "Appendix B (DATAPACKET, FRANCE)" is "Appendix B"."""
    return re.sub(r"\s*\(.*\)\s*$", "", clause).strip()


def cited_clauses(text: str) -> list[str]:
    """The ledger ids a control's `clause` field cites, in order, without qualifiers."""
    return list(dict.fromkeys(ledger_id(c) for c in clauses_of(text)))


def clause_sort_key(clause: str) -> tuple[int, list[tuple[int, int | str]]]:
    """Articles first, then appendices, each in natural order (Article 2 before Article 10)."""
    parts: list[tuple[int, int | str]] = [
        (0, int(token)) if token.isdigit() else (1, token.lower())
        for token in re.findall(r"\d+|[^\d\s.§]+", clause)
    ]
    return (0 if clause.lower().startswith("art") else 1, parts)


def worst(statuses: Iterable[OutcomeStatus]) -> OutcomeStatus:
    """The worst of several outcomes (failed > waived > passed > not-applicable); not-applicable if none."""
    present = set(statuses)
    for status in STATUS_ORDER:
        if status in present:
            return status
    return "not-applicable"


# checkov's findings about files outside any stack config carry this stack name (dpaguard.checkov).
PROJECT_STACK = "*"


def stack_label(name: str) -> str:
    """A stack's name as reports show it; the project-wide pseudo-stack reads "project files"."""
    return "project files" if name == PROJECT_STACK else name


def resource_name(urn: str) -> str:
    """The last part of a URN: the resource's name."""
    return urn.rsplit("::", 1)[-1] if "::" in urn else urn


def finding_json(finding: Finding) -> dict[str, Any]:
    """One finding of the JSON document (the documented, stable shape)."""
    location = finding.location
    return {
        "control": str(finding.control),
        "category": finding.category,
        "clause": finding.clause,
        "severity": finding.severity,
        "enforcement": finding.enforcement,
        "stack": finding.stack,
        "urn": str(finding.urn),
        "type": finding.type,
        "name": finding.name,
        "message": finding.message,
        "status": finding.status,
        "waived": finding.waived,
        "waiver": finding.waiver.to_json() if finding.waiver else None,
        "location": (
            {"path": location.path, "line": location.line, "column": location.column} if location else None
        ),
    }


def stack_json(stack: StackSummary) -> dict[str, Any]:
    """One stack of the JSON document."""
    return {
        "name": stack.name,
        "project": stack.project,
        "environment": stack.environment,
        "source": stack.source,
        "resources": stack.resources,
        "configFile": stack.config_file,
        "configSha256": stack.config_sha256,
    }


def result_json(result: Result) -> dict[str, Any]:
    """The whole JSON document of a run (see README, "JSON output")."""
    coverage = [
        {"control": control, "stack": stack, "resources": count}
        for (control, stack), count in sorted(result.coverage.items())
    ]
    return {
        "tool": {"name": "dpaguard", "version": result.tool_version},
        "policy": {"sha256": result.policy_sha256, "engine": result.engine or None},
        "generatedAt": result.generated_at or None,
        "gitCommit": result.git_commit,
        "stacks": [stack_json(s) for s in result.stacks],
        "findings": [finding_json(f) for f in sorted_findings(result.findings)],
        "coverage": coverage,
        "notices": list(result.notices),
        "summary": result.summary(),
    }


def location_path(finding: Finding, result: Result) -> str:
    """Where a finding points: the program source file when known, else the stack's config file or origin."""
    if finding.location is not None and finding.location.path:
        return finding.location.path
    stack = _stack_for(result, finding.stack)
    return stack.config_file or stack.origin or "Pulumi.yaml"
