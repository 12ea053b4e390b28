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

from dpaguard.inventory import site_names
from dpaguard.model import ENVIRONMENTS, Control, Finding, Result, StackSummary
from dpaguard.urn import name_of

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
                severity=finding.severity,
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
    return name_of(urn)


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
        "resources": list(finding.resources),
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
        "deploymentSha256": stack.deployment_sha256,
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
        "today": result.today.isoformat() if result.today else None,
        "stacks": [stack_json(s) for s in result.stacks],
        "findings": [finding_json(f) for f in sorted_findings(result.findings)],
        "coverage": coverage,
        "notices": list(result.notices),
        "summary": result.summary(),
        # added with the clause ledger (issue 13); the fields above are unchanged
        "controls": [control_json(c) for c in result.controls],
        "clauses": [clause_json(row) for row in clause_rows(result)],
        "inventory": inventory_json(result),
        "evidence": evidence_json(result),
    }


def location_path(finding: Finding, result: Result) -> str:
    """Where a finding points: the program source file when known, else the stack's config file or origin."""
    if finding.location is not None and finding.location.path:
        return finding.location.path
    stack = _stack_for(result, finding.stack)
    return stack.config_file or stack.origin or "Pulumi.yaml"


# -- the report by clause ------------------------------------------------------------------------
#
# A clause's status, worst first, from the outcomes of the controls the ledger lists for it:
#     failed          an unwaived mandatory finding
#     advisory        unwaived advisory findings only
#     waived          findings, every one waived
#     passed          at least one control examined at least one resource, and nothing was found
#     not-examined    its controls examined nothing in this run (or it has none in the catalogue)
#     organisational  the ledger says infrastructure cannot show it (never green)
#     not-covered     the ledger says it is checkable but no control checks it (never green)
ClauseState = Literal["failed", "advisory", "waived", "passed", "not-examined", "organisational", "not-covered"]
CLAUSE_STATES: tuple[ClauseState, ...] = (
    "failed", "advisory", "waived", "passed", "not-examined", "organisational", "not-covered")


@dataclass(frozen=True)
class ClauseRow:
    """One DPA clause as the report shows it: the ledger's entry joined with the run's outcomes."""

    id: str
    title: str
    title_fr: str
    quote: str
    grade: str  # the ledger's status (evidence grade), or "unmapped" for a clause cited but not in the ledger
    note: str
    status: ClauseState
    controls: tuple[str, ...]
    examined: int  # resources its controls examined, summed over controls and stacks
    stacks: dict[str, ClauseState]  # the clause's status on each stack
    outcomes: tuple[Outcome, ...]


def _state(outcomes_: Iterable[Outcome]) -> ClauseState:
    items = list(outcomes_)
    unwaived = [f for o in items for f in o.unwaived]
    if any(f.enforcement == "mandatory" for f in unwaived):
        return "failed"
    if unwaived:
        return "advisory"
    if any(o.waived for o in items):
        return "waived"
    if any(o.status == "passed" and (o.covered or 0) > 0 for o in items):
        return "passed"
    return "not-examined"


def stack_names(result: Result, all_outcomes: Iterable[Outcome] = ()) -> list[str]:
    """The evaluated stacks, then any pseudo-stack a finding names (checkov's project files, the ratchet's)."""
    names = [s.name for s in result.stacks]
    for outcome in all_outcomes:
        if outcome.stack.name not in names:
            names.append(outcome.stack.name)
    return names


def clause_rows(result: Result, all_outcomes: list[Outcome] | None = None) -> list[ClauseRow]:
    """Every clause of the ledger in DPA order, then any clause a control cites that the ledger lacks."""
    all_outcomes = outcomes(result) if all_outcomes is None else all_outcomes
    stacks = stack_names(result, all_outcomes)
    by_control: dict[str, list[Outcome]] = {}
    for outcome in all_outcomes:
        by_control.setdefault(str(outcome.control.id), []).append(outcome)
    cited: dict[str, list[str]] = {}
    for control_id, mine in by_control.items():
        for clause in cited_clauses(mine[0].control.clause):
            cited.setdefault(clause, []).append(control_id)
    rows: list[ClauseRow] = []
    ledger_ids = {c.id for c in result.clauses}
    entries = [(c.id, c.title, c.title_fr, c.quote, str(c.status), c.note, [str(x) for x in c.controls])
               for c in result.clauses]
    entries += [(clause, "", "", "", "unmapped", "", cited[clause])
                for clause in sorted(set(cited) - ledger_ids, key=clause_sort_key)]
    for clause_id, title, title_fr, quote, grade, note, listed in entries:
        controls = list(dict.fromkeys([*listed, *cited.get(clause_id, [])]))
        mine = [o for c in controls for o in by_control.get(c, [])]
        per_stack: dict[str, ClauseState] = {}
        status: ClauseState
        if grade in ("organisational", "not-covered"):
            status = "organisational" if grade == "organisational" else "not-covered"
            per_stack = {stack: status for stack in stacks}
        else:
            status = _state(mine)
            per_stack = {stack: _state(o for o in mine if o.stack.name == stack) for stack in stacks}
        rows.append(ClauseRow(
            id=clause_id, title=title, title_fr=title_fr, quote=quote, grade=grade, note=note, status=status,
            controls=tuple(controls), examined=sum(o.covered or 0 for o in mine), stacks=per_stack,
            outcomes=tuple(mine),
        ))
    return rows


def clause_json(row: ClauseRow) -> dict[str, Any]:
    """One clause of the JSON document's `clauses` array."""
    return {
        "id": row.id,
        "title": row.title,
        "quote": row.quote,
        "evidence": row.grade,
        "status": row.status,
        "controls": list(row.controls),
        "resources": row.examined,
        "stacks": dict(row.stacks),
        "note": row.note or None,
    }


def control_json(control: Control) -> dict[str, Any]:
    """One control of the JSON document's `controls` array: the catalogue as evaluated (for --baseline)."""
    return {
        "id": str(control.id),
        "title": control.title,
        "category": control.category,
        "clause": control.clause,
        "severity": control.severity,
        "enforcement": {env: control.enforcement_for(env) for env in ENVIRONMENTS},
    }


@dataclass(frozen=True)
class InventoryRow:
    """A sub-processor or a location: what uses it, per stack, and whether the DPA lists it."""

    kind: str  # subprocessor | location
    name: str
    listed: bool | None  # in Appendix B (sub-processor) / its site named in Appendix C §1.2 (location); None: unknown
    detail: str  # Appendix B service, or the hosting site
    country: str | None
    resources: dict[str, int]  # per stack

    @property
    def total(self) -> int:
        """Resources over every stack."""
        return sum(self.resources.values())


def inventory(result: Result) -> tuple[list[InventoryRow], list[InventoryRow], list[str], list[str]]:
    """Sub-processors used, locations used, Appendix B entries unused, Appendix C §1.2 sites not seen used."""
    register = {p.name: p for p in result.subprocessors}
    sites = {name for name, _ in result.hosting_sites}
    processors: dict[str, InventoryRow] = {}
    places: dict[tuple[str, str | None, str | None], InventoryRow] = {}
    for use in result.usage:
        if use.kind == "subprocessor":
            entry = register.get(use.name)
            row = processors.setdefault(use.name, InventoryRow(
                "subprocessor", use.name, use.name in register if register else None,
                entry.service if entry else "", entry.location if entry else None, {}))
        else:
            key = (use.name, use.country, use.site)
            row = places.setdefault(key, InventoryRow(
                "location", use.name, all(n in sites for n in site_names(use.site)) if use.site else None,
                use.site or "", use.country, {}))
        row.resources[use.stack] = row.resources.get(use.stack, 0) + use.resources
    unused = [p.name for p in result.subprocessors if p.name not in processors]
    seen_sites = {name for row in places.values() if row.detail for name in site_names(row.detail)}
    sites_unseen = [name for name, _ in result.hosting_sites if name not in seen_sites]
    return (sorted(processors.values(), key=lambda r: (-r.total, r.name)),
            sorted(places.values(), key=lambda r: (-r.total, r.name)), unused, sites_unseen)


def inventory_json(result: Result) -> dict[str, Any]:
    """The JSON document's `inventory`: what the estate uses against Appendix B and Appendix C §1.2."""
    used, places, unused, sites_unseen = inventory(result)
    return {
        "subprocessors": [{"name": r.name, "inAppendixB": r.listed, "service": r.detail or None, "country": r.country,
                           "resources": dict(r.resources)} for r in used],
        "unusedSubprocessors": unused,
        "locations": [{"name": r.name, "country": r.country, "site": r.detail or None, "namedInAppendixC": r.listed,
                       "resources": dict(r.resources)} for r in places],
        "hostingSitesNotSeen": sites_unseen,
    }


def evidence_json(result: Result) -> dict[str, Any]:
    """The JSON document's `evidence`: what exactly was evaluated (work tree, versions, stages)."""
    return {
        "gitCommit": result.git_commit,
        "gitDirty": result.git_dirty,
        "gitDiffSha256": result.git_diff_sha256,
        "versions": dict(result.versions),
        "deployments": {s.name: s.deployment_sha256 for s in result.stacks},
        "stages": [{"name": s.name, "ran": s.ran, "detail": s.detail} for s in result.stages],
    }
