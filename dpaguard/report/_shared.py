"""What every reporter derives from a Result the same way: finding order, outcomes, the clause rows, the inventory.

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
from typing import Iterable, Literal, Sequence

from dpaguard.inventory import site_names
from dpaguard.provenance import shown_path as shown_path  # how a report shows a path: never an absolute one
from dpaguard.model import (
    Attestation,
    Clause,
    ClausePart,
    Control,
    ControlId,
    Finding,
    PartEvidence,
    Result,
    StackSummary,
)
from dpaguard.urn import PROJECT_STACK, name_of

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
    # The ledger holds the findings about the DPA and its register too (the findings list does not).
    for finding in (*result.findings, *result.register_findings):
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


def stack_label(name: str) -> str:
    """A stack's name as reports show it; the project-wide pseudo-stack reads "project files"."""
    return "project files" if name == PROJECT_STACK else name


def resource_name(urn: str) -> str:
    """The last part of a URN: the resource's name."""
    return name_of(urn)


def location_path(finding: Finding, result: Result) -> str:
    """Where a finding points: the program source file when known, else the stack's config file or origin."""
    if finding.location is not None and finding.location.path:
        return shown_path(finding.location.path) or finding.location.path
    stack = _stack_for(result, finding.stack)
    return shown_path(stack.config_file or stack.origin) or "Pulumi.yaml"


# -- the report by clause ------------------------------------------------------------------------
#
# A clause's status, worst first, from the outcomes of the controls the ledger lists for it:
#     failed           an unwaived mandatory violation
#     undetermined     an unwaived finding the gate could not decide (a value unknown, a date not recorded)
#     advisory         unwaived advisory violations only
#     waived           findings, every one waived
#     passed           every part of its quoted promise was examined on the deployment or the code, and held
#     partly-verified  nothing was found, but a part was not examined, rests on a declared value, or only
#                      a person can attest it (the parts say which, and why)
#     not-examined     its controls examined nothing in this run (or it has none in the catalogue)
#     organisational   the ledger says infrastructure cannot show it (never green)
#     not-covered      the ledger says it is checkable but no control checks it (never green)
ClauseState = Literal["failed", "undetermined", "advisory", "waived", "passed", "partly-verified", "not-examined",
                      "organisational", "not-covered"]
CLAUSE_STATES: tuple[ClauseState, ...] = (
    "failed", "undetermined", "advisory", "waived", "passed", "partly-verified", "not-examined", "organisational",
    "not-covered")


@dataclass(frozen=True)
class PartRow:
    """One part of a clause's promise as the run found it."""

    what: str
    evidence: str  # the part's grade: verified-deployed | verified-program | verified-code | declared | organisational | not-covered
    state: ClauseState  # passed (examined and held), failed, ..., not-examined, organisational, not-covered
    controls: tuple[str, ...]
    resources: int  # distinct resources its controls judged
    why: str  # why it was not examined (the ledger's reason, or what this run lacked)


@dataclass(frozen=True)
class ClauseRow:
    """One DPA clause as the report shows it: the ledger's entry joined with the run's outcomes."""

    id: str
    title: str
    title_fr: str
    quote: str
    grade: str  # what was examined: verified-deployed, verified-program, verified-code, declared, ..., "unmapped"
    note: str
    status: ClauseState
    controls: tuple[str, ...]
    examined: int  # distinct resources its controls judged, over every stack
    stacks: dict[str, ClauseState]  # the clause's status on each stack
    outcomes: tuple[Outcome, ...]
    parts: tuple[PartRow, ...] = ()
    files: int = 0  # repository files checkov read for it, counted once
    outside: bool = False  # not a DPA clause (the gate's own integrity, an inventory aid): shown apart from the grid
    attestation: Attestation | None = None  # the document a person keeps for what only a person can attest


def _state(outcomes_: Iterable[Outcome]) -> ClauseState:
    items = list(outcomes_)
    unwaived = [f for o in items for f in o.unwaived]
    if any(f.enforcement == "mandatory" and f.status == "violation" for f in unwaived):
        return "failed"
    if any(f.status == "undetermined" for f in unwaived):
        return "undetermined"
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


def verified_grade(result: Result) -> str:
    """What "checked on the deployment" means in this run: a stack export (verified-deployed) only when
    every stack came from state; a program rendered offline is what the program says, not what is deployed."""
    return "verified-deployed" if result.stacks and all(s.source == "state" for s in result.stacks) else "verified-program"


def distinct_resources(result: Result, pairs: Iterable[tuple[str, str]]) -> int:
    """The distinct resources judged by these (control, stack) pairs, never more than their stacks hold.

    From the URNs when the run recorded them; otherwise (a hand-built Result) the most any one of
    the controls examined in each stack, a floor rather than a sum over controls.
    """
    # a pair whose coverage a later stage set to nothing (the ratchet without --baseline) judged nothing
    keys = [key for key in pairs if result.coverage.get(key) != 0]
    if result.examined:
        return len({urn for key in keys for urn in result.examined.get(key, ())})
    most: dict[str, int] = {}
    for control, stack in keys:
        most[stack] = max(most.get(stack, 0), result.coverage.get((control, stack)) or 0)
    return sum(most.values())


def _file_controls(result: Result) -> set[str]:
    return {str(c.id) for c in result.controls if "file" in c.applies_to}


def _gap(result: Result, control: Control | None, outcomes_: list[Outcome]) -> str | None:
    """Why a control could not examine what it would judge in this run (a stage not run, evidence absent), or None.

    A control that found no resource of its kind is no gap: no VPN resource is what "no VPN" asks.
    """
    stages = {s.name: s for s in result.stages}
    if control is None or not outcomes_:
        return "not in this run's catalogue"
    if any((o.covered or 0) > 0 or o.findings for o in outcomes_):
        return None
    if all(o.enforcement == "disabled" for o in outcomes_):
        return None
    if str(control.id) == "DPA-RAT-001":
        return "no earlier report to compare with (--baseline)"
    if "file" in control.applies_to and not (stages.get("checkov") and stages["checkov"].ran):
        return "checkov did not run"
    if control.needs:
        return f"no {control.needs.replace('-', ' ')} to examine"
    return None


def _gaps(result: Result, mine: list[Outcome], controls: Sequence[str]) -> list[str]:
    """Each of these controls that could not look in this run, with why."""
    # the catalogue first: controls_by_id walks every finding, and this runs for each part of each clause
    catalogue = {str(c.id): c for c in result.controls}
    table = {c: catalogue[c] if c in catalogue else controls_by_id(result).get(c) for c in controls}
    gaps = ((c, _gap(result, table[c], [o for o in mine if str(o.control.id) == c])) for c in controls)
    return [f"{control_id}: {gap}" for control_id, gap in gaps if gap]


def _why_not_examined(result: Result, mine: list[Outcome], controls: Sequence[str]) -> str:
    """What this run lacked for a part: each control's gap, else why its controls judged nothing."""
    gaps = _gaps(result, mine, controls)
    if gaps:
        return "; ".join(gaps)
    disabled = sorted({o.stack.environment for o in mine if o.enforcement == "disabled"})
    return "no resource its controls judge" + (f" (disabled in {', '.join(disabled)})" if disabled else "")


def _parts(clause: Clause | None, listed: Sequence[str], grade: str) -> tuple[ClausePart, ...]:
    """The ledger's parts of a clause, or one part (its quote, its controls) when the ledger gives none."""
    if clause is not None and clause.parts:
        return tuple(clause.parts)
    evidence: PartEvidence = "declared" if grade == "declared" else "verified-code" if grade == "verified-code" else "verified"
    what = (clause.quote or clause.title) if clause is not None else ""  # a section outside the DPA has no quote
    return (ClausePart(what, evidence, tuple(ControlId(c) for c in listed)),)


def _part_rows(result: Result, parts: Sequence[ClausePart], mine: list[Outcome], stack: str | None) -> tuple[PartRow, ...]:
    rows: list[PartRow] = []
    files = _file_controls(result)
    for part in parts:
        controls = [str(c) for c in part.controls]
        theirs = [o for o in mine if str(o.control.id) in controls and (stack is None or o.stack.name == stack)]
        if part.evidence in ("organisational", "not-covered"):
            rows.append(PartRow(part.what, part.evidence, part.evidence, (), 0, part.why))
            continue
        state = _state(theirs)
        if state == "passed" and _gaps(result, theirs, controls):
            state = "not-examined"  # a control of the part could not look: the part is not shown held
        evidence = verified_grade(result) if part.evidence == "verified" else part.evidence
        resources = distinct_resources(result, ((str(o.control.id), o.stack.name) for o in theirs
                                                if str(o.control.id) not in files))
        why = _why_not_examined(result, theirs, controls) if state == "not-examined" else part.why
        rows.append(PartRow(part.what, evidence, state, tuple(controls), resources, why))
    return tuple(rows)


def _clause_state(outcomes_: list[Outcome], parts: Sequence[PartRow]) -> ClauseState:
    """Findings first (worst wins); without any, passed only when every part was verified and held."""
    state = _state(outcomes_)
    if state != "passed":
        return state
    if all(p.state == "passed" and p.evidence.startswith("verified") for p in parts):
        return "passed"
    return "partly-verified"


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
    entries: list[tuple[Clause | None, str, str, str, str, str, str, list[str]]] = [
        (c, c.id, c.title, c.title_fr, c.quote, str(c.status), c.note, [str(x) for x in c.controls])
        for c in result.clauses if not c.outside]
    entries += [(None, unmapped, "", "", "", "unmapped", "", cited[unmapped])
                for unmapped in sorted(set(cited) - ledger_ids, key=clause_sort_key)]
    entries += [(c, c.id, c.title, c.title_fr, c.quote, str(c.status), c.note, [str(x) for x in c.controls])
                for c in result.clauses if c.outside]  # after the DPA's clauses: the gate's own sections
    files = _file_controls(result)
    for entry, clause_id, title, title_fr, quote, grade, note, listed in entries:
        controls = list(dict.fromkeys([*listed, *cited.get(clause_id, [])]))
        mine = [o for c in controls for o in by_control.get(c, [])]
        per_stack: dict[str, ClauseState] = {}
        status: ClauseState
        parts: tuple[PartRow, ...] = ()
        if grade in ("organisational", "not-covered"):
            status = "organisational" if grade == "organisational" else "not-covered"
            per_stack = {stack: status for stack in stacks}
        else:
            ledger_parts = _parts(entry, controls, grade)
            parts = _part_rows(result, ledger_parts, mine, None)
            status = _clause_state(mine, parts)
            per_stack = {stack: _clause_state([o for o in mine if o.stack.name == stack],
                                              _part_rows(result, ledger_parts, mine, stack)) for stack in stacks}
            shown = [p for p in parts if p.evidence not in ("organisational", "not-covered")]
            if grade == "verified-deployed":
                grade = "declared" if shown and all(p.evidence == "declared" for p in shown) else verified_grade(result)
        rows.append(ClauseRow(
            id=clause_id, title=title, title_fr=title_fr, quote=quote, grade=grade, note=note, status=status,
            controls=tuple(controls),
            examined=distinct_resources(result, ((str(o.control.id), o.stack.name) for o in mine
                                                 if str(o.control.id) not in files)),
            stacks=per_stack, outcomes=tuple(mine), parts=parts,
            files=max((o.covered or 0 for o in mine if str(o.control.id) in files), default=0),
            outside=entry is not None and entry.outside,
            attestation=entry.attestation if entry is not None else None,
        ))
    return rows


def examined_total(result: Result) -> int:
    """The distinct resources any control judged in this run: never more than the estate holds."""
    files = _file_controls(result)
    return distinct_resources(result, (key for key in result.coverage if key[0] not in files))


@dataclass(frozen=True)
class InventoryRow:
    """A sub-processor or a location: what uses it, per stack, and whether the DPA lists it."""

    kind: str  # subprocessor | location
    name: str
    listed: bool | None  # in Appendix B (sub-processor) / its site named in Appendix C §1.2 (location); None: unknown
    detail: str  # Appendix B service, or the hosting site
    country: str | None
    resources: dict[str, int]  # per stack
    partly: bool = False  # a location some but not all of whose sites Appendix C §1.2 names (fr-par-1: DC3, not DC2)

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
            named = [n in sites for n in site_names(use.site)] if use.site else []
            row = places.setdefault(key, InventoryRow(
                "location", use.name, all(named) if use.site else None,
                use.site or "", use.country, {}, partly=any(named) and not all(named)))
        row.resources[use.stack] = row.resources.get(use.stack, 0) + use.resources
    unused = [p.name for p in result.subprocessors if p.name not in processors]
    seen_sites = {name for row in places.values() if row.detail for name in site_names(row.detail)}
    sites_unseen = [name for name, _ in result.hosting_sites if name not in seen_sites]
    return (sorted(processors.values(), key=lambda r: (-r.total, r.name)),
            sorted(places.values(), key=lambda r: (-r.total, r.name)), unused, sites_unseen)


