"""The ratchet of Article 5.1: "Ringover undertakes not to substantially reduce the overall security".

`--baseline FILE` gives an earlier JSON report of dpaguard. Against it a run
- lists what changed since (`changes`): findings new, fixed and regressed, waivers added, removed,
  expired or changed, clauses of the ledger and controls of the catalogue added, removed or changed;
  every report shows them as a section;
- keeps the gate: DPA-RAT-001 decisions (taken here, in Python, not in Rego; dpaguard.findings makes
  their findings, as it does every check's), so that a regression still fails the run, without
  restating the regressed controls' findings, which are already findings of their own:
  - one per stack where a control that passed in the baseline (examined at least one resource there,
    no unwaived finding) has an unwaived finding now, naming those controls;
  - one per control of the baseline's catalogue that the catalogue no longer has (a control retired
    in controls.yaml `retired` too, its recorded reason quoted: removing a control is the DPO's decision);
  - one per control whose severity is lower, or whose enforcement in an environment is weaker
    (mandatory > advisory > disabled), than in the baseline.
Catalogue changes are about a file, not a stack: they are reported on the project (stack `*`), at
the enforcement DPA-RAT-001 has in prod (in the weakened environment for an enforcement change); a
waiver of one names that control's change alone.
A baseline written before reports carried their catalogue (`controls`) is compared on what it
has: its coverage and findings name the controls it evaluated, so removals are still found.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from dpaguard.errors import InputError
from dpaguard.inputs import MAX_RECORD_BYTES, read_input_text
from dpaguard.model import Change, Changes, Control, ControlId, Decision, DecisionStatus, Result, SourceLocation, Urn
from dpaguard.urn import file_urn, stack_urn

RATCHET: ControlId = ControlId("DPA-RAT-001")
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
ENFORCEMENT_RANK = {"disabled": 0, "advisory": 1, "mandatory": 2}
MAX_BASELINE_BYTES = MAX_RECORD_BYTES


@dataclass(frozen=True)
class BaselineControl:
    """A control as the baseline's catalogue had it."""

    id: str
    severity: str | None
    enforcement: Mapping[str, str]


@dataclass(frozen=True)
class Baseline:
    """What the ratchet needs of an earlier JSON report."""

    path: str
    generated_at: str | None
    git_commit: str | None
    passed: frozenset[tuple[str, str]]  # (control, stack) that examined something and had no unwaived finding
    controls: Mapping[str, BaselineControl]  # its catalogue; only ids (no levels) for an older report
    has_catalogue: bool
    # (control, stack, urn, message) of each finding, and whether it was waived
    findings: Mapping[tuple[str, str, str, str], bool] = field(default_factory=dict)
    waivers: tuple[Mapping[str, Any], ...] | None = None  # None: a report from before reports listed them
    clauses: Mapping[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # id -> (evidence, controls)
    today: str | None = None  # the date its waivers were judged against
    catalogue: frozenset[str] = frozenset()  # the ids its `controls` listed (coverage names more)
    # Appendix B as it stood (its inventory's registered entries, used or not); None: a report without an inventory
    register: frozenset[str] | None = None


def _bad(path: Path, why: str) -> InputError:
    return InputError(f"baseline {path}: {why}", hint="--baseline takes a JSON report of dpaguard (--format json)")


def _list_of_objects(document: Mapping[str, Any], key: str, path: Path) -> list[Mapping[str, Any]]:
    value = document.get(key)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _bad(path, f"`{key}` is not a list of objects")
    return value


def load_baseline(path: Path) -> Baseline:
    """Read and check an earlier JSON report; InputError (one line) when it is not one."""
    try:
        document = json.loads(read_input_text(path, MAX_BASELINE_BYTES))
    except OSError as error:
        raise _bad(path, f"cannot read: {error.strerror or error}") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise _bad(path, f"not JSON ({error.__class__.__name__})") from None
    if not isinstance(document, dict) or (document.get("tool") or {}).get("name") != "dpaguard":
        raise _bad(path, "not a dpaguard JSON report (no tool.name dpaguard)")
    findings = _list_of_objects(document, "findings", path)
    coverage = _list_of_objects(document, "coverage", path)
    failing: set[tuple[str, str]] = set()
    seen: dict[tuple[str, str, str, str], bool] = {}
    for finding in findings:
        if not isinstance(finding.get("control"), str) or not isinstance(finding.get("stack"), str):
            raise _bad(path, "a finding without `control` and `stack`")
        if finding.get("waived") is not True:
            failing.add((finding["control"], finding["stack"]))
        seen[(finding["control"], finding["stack"], str(finding.get("urn", "")), str(finding.get("message", "")))] = \
            finding.get("waived") is True
    passed: set[tuple[str, str]] = set()
    ids: dict[str, BaselineControl] = {}
    for entry in coverage:
        control, stack, count = entry.get("control"), entry.get("stack"), entry.get("resources")
        if not isinstance(control, str) or not isinstance(stack, str) or not isinstance(count, int) or isinstance(count, bool):
            raise _bad(path, "a coverage entry without `control`, `stack` and a number of `resources`")
        ids.setdefault(control, BaselineControl(control, None, {}))
        if count > 0 and (control, stack) not in failing:
            passed.add((control, stack))
    has_catalogue = "controls" in document
    if has_catalogue:
        for entry in _list_of_objects(document, "controls", path):
            control_id, severity, enforcement = entry.get("id"), entry.get("severity"), entry.get("enforcement")
            if not isinstance(control_id, str) or not isinstance(severity, str) or not isinstance(enforcement, dict):
                raise _bad(path, "a `controls` entry without `id`, `severity` and `enforcement`")
            ids[control_id] = BaselineControl(control_id, severity, {str(k): str(v) for k, v in enforcement.items()})
    waivers: tuple[Mapping[str, Any], ...] | None = None
    if "waivers" in document:
        waivers = tuple(_list_of_objects(document, "waivers", path))
    clauses: dict[str, tuple[str, tuple[str, ...]]] = {}
    if "clauses" in document:
        for entry in _list_of_objects(document, "clauses", path):
            if isinstance(entry.get("id"), str):
                listed = entry.get("controls")
                controls = tuple(str(c) for c in listed) if isinstance(listed, list) else ()
                clauses[entry["id"]] = (str(entry.get("evidence", "")), controls)
    register: frozenset[str] | None = None
    inventory = document.get("inventory")
    if isinstance(inventory, dict) and isinstance(inventory.get("unusedSubprocessors"), list):
        used = [e.get("name") for e in inventory.get("subprocessors") or [] if isinstance(e, dict) and e.get("inAppendixB")]
        register = frozenset(str(n) for n in [*used, *inventory["unusedSubprocessors"]] if isinstance(n, str))
    generated, commit, today = document.get("generatedAt"), document.get("gitCommit"), document.get("today")
    return Baseline(
        path=str(path),
        generated_at=generated if isinstance(generated, str) else None,
        git_commit=commit if isinstance(commit, str) else None,
        passed=frozenset(passed),
        controls=ids,
        has_catalogue=has_catalogue,
        findings=seen,
        waivers=waivers,
        clauses=clauses,
        today=today if isinstance(today, str) else None,
        catalogue=frozenset(str(e.get("id")) for e in document.get("controls") or [] if isinstance(e, dict)),
        register=register,
    )


def _when(baseline: Baseline) -> str:
    parts = [p for p in (baseline.generated_at, baseline.git_commit and f"commit {baseline.git_commit[:12]}") if p]
    return f"the baseline ({', '.join(parts)})" if parts else "the baseline"


def ratchet(
    baseline: Baseline,
    result: Result,
    catalogue: Sequence[Control],
    *,
    catalogue_file: str = "policies/dpa/controls.yaml",
    retired: Mapping[str, str] | None = None,
) -> tuple[tuple[Decision, ...], dict[tuple[str, str], int]]:
    """DPA-RAT-001 decisions of the run against the baseline, and its coverage (pairs compared per stack).

    `retired` (controls.yaml `retired`: id -> "retired <date>: <reason>") only adds the recorded reason to
    the removal's decision: a retired control is still reported, for the DPO to accept or refuse.
    The findings stage (dpaguard.findings) makes them findings, as it does every check's decisions.
    """
    by_id = {str(c.id): c for c in catalogue}
    if RATCHET not in by_id:
        return (), {}
    decisions: list[Decision] = []
    coverage: dict[tuple[str, str], int] = {}
    unwaived: dict[tuple[str, str], int] = {}
    for finding in result.findings:
        if not finding.waived:
            key = (str(finding.control), finding.stack)
            unwaived[key] = unwaived.get(key, 0) + 1
    when = _when(baseline)
    for stack in result.stacks:
        compared = [control for control, name in baseline.passed if name == stack.name and control in by_id]
        coverage[(RATCHET, stack.name)] = len(compared)
        urn = Urn(stack_urn(stack.name, stack.project))
        # One decision per stack: it keeps the gate shut; the regressed controls' own findings say what.
        regressed = [f"{control} ({unwaived[(control, stack.name)]} unwaived finding(s))"
                     for control in sorted(compared) if unwaived.get((control, stack.name), 0)]
        if regressed:
            decisions.append(Decision(
                RATCHET, urn, f"{len(regressed)} control(s) passed in {when} and fail now: {', '.join(regressed)}"))

    def project_decision(message: str, environment: str | None = None) -> None:
        # Catalogue changes are about a file: the project's, judged as prod unless about another environment.
        decisions.append(Decision(RATCHET, Urn(file_urn(catalogue_file)), message, location=SourceLocation(catalogue_file),
                                  type="file", name=catalogue_file.rsplit("/", 1)[-1], environment=environment))

    for control_id, before in sorted(baseline.controls.items()):
        now = by_id.get(control_id)
        if now is None:
            why = (retired or {}).get(control_id)
            project_decision(f"{control_id} was in the catalogue of {when} and has been removed" + (f" ({why})" if why else ""))
            continue
        if before.severity in SEVERITY_RANK and SEVERITY_RANK[now.severity] < SEVERITY_RANK[before.severity]:
            project_decision(f"{control_id} severity lowered from {before.severity} to {now.severity} since {when}")
        for environment, old in sorted(before.enforcement.items()):
            new = now.enforcement_for(environment)
            if old in ENFORCEMENT_RANK and ENFORCEMENT_RANK[new] < ENFORCEMENT_RANK[old]:
                project_decision(f"{control_id} enforcement in {environment} weakened from {old} to {new} since {when}",
                                 environment)
    return tuple(decisions), coverage


def _waiver_key(waiver: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(waiver.get("control", "")), str(waiver.get("urn", "")), str(waiver.get("stack", "")))


def _waiver_terms(waiver: Mapping[str, Any]) -> str:
    terms = [f"approver {waiver.get('approver')}", f"expires {waiver.get('expires')}"]
    terms += [f"{key} {waiver[key]}" for key in ("approved", "reference") if waiver.get(key)]
    return ", ".join(terms)


def _control_terms(control: Control | BaselineControl) -> str:
    levels = ", ".join(f"{env} {level}" for env, level in sorted(control.enforcement.items()))
    return f"severity {control.severity}" + (f"; {levels}" if levels else "")


def changes(baseline: Baseline, result: Result, shown_as: str) -> Changes:
    """What changed since the baseline: findings, waivers, the clause ledger, the catalogue (`shown_as`: the baseline as reports name it)."""
    items: list[Change] = []
    # Findings: by control, stack, resource and message (a message that changed reads as one fixed and one
    # new); the ratchet's own are not findings of the estate.
    now: dict[tuple[str, str, str, str], bool] = {
        (str(f.control), f.stack, str(f.urn), f.message): f.waived for f in result.findings if f.control != RATCHET}
    before = {key: waived for key, waived in baseline.findings.items() if key[0] != RATCHET}
    for key in sorted(set(now) - set(before)):
        items.append(Change("new", key[0], key[1], key[2], after=key[3]))
    for key in sorted(set(before) - set(now)):
        items.append(Change("fixed", key[0], key[1], key[2], before=key[3]))
    unwaived: dict[tuple[str, str], int] = {}
    for finding in result.findings:
        if not finding.waived:
            unwaived[(str(finding.control), finding.stack)] = unwaived.get((str(finding.control), finding.stack), 0) + 1
    for control, stack in sorted(baseline.passed):
        if unwaived.get((control, stack)):
            items.append(Change("regressed", control, stack, before="passed",
                                after=f"{unwaived[(control, stack)]} unwaived finding(s)"))
    # Waivers: by control, URN pattern and stack.
    today = result.today.isoformat() if result.today else ""
    if baseline.waivers is not None:
        then = {_waiver_key(w): w for w in baseline.waivers}
        current = {_waiver_key(w.to_json()): w.to_json() for w in result.waivers}
        for named in sorted(set(current) - set(then)):
            items.append(Change("waiver-added", named[0], named[2], named[1], after=_waiver_terms(current[named])))
        for named in sorted(set(then) - set(current)):
            items.append(Change("waiver-removed", named[0], named[2], named[1], before=_waiver_terms(then[named])))
        for named in sorted(set(then) & set(current)):
            old, new = then[named], current[named]
            if _waiver_terms(old) != _waiver_terms(new):
                items.append(Change("waiver-changed", named[0], named[2], named[1], before=_waiver_terms(old), after=_waiver_terms(new)))
    for waiver in result.waivers:
        was_active = baseline.today is None or str(waiver.expires.isoformat()) >= baseline.today
        if today and waiver.expires.isoformat() < today and was_active:
            items.append(Change("waiver-expired", waiver.control, waiver.stack, waiver.urn_pattern,
                                before=f"in force until {waiver.expires.isoformat()}", after=f"expired on {today}"))
    # The clause ledger: entries added, removed, or with another evidence grade or other controls.
    if baseline.clauses:
        ledger = {c.id: (str(c.status), tuple(str(x) for x in c.controls)) for c in result.clauses}

        def terms(entry: tuple[str, tuple[str, ...]]) -> str:
            return f"controls {', '.join(entry[1]) or 'none'}"

        for clause in sorted(set(ledger) - set(baseline.clauses)):
            items.append(Change("clause-added", clause, after=terms(ledger[clause])))
        for clause in sorted(set(baseline.clauses) - set(ledger)):
            items.append(Change("clause-removed", clause, before=terms(baseline.clauses[clause])))
        for clause in sorted(set(ledger) & set(baseline.clauses)):
            old_entry, new_entry = baseline.clauses[clause], ledger[clause]
            # a report's evidence grade is the run's (program or state), not the ledger's: the controls are compared
            if old_entry[1] != new_entry[1]:
                items.append(Change("clause-changed", clause, before=terms(old_entry), after=terms(new_entry)))
    # The catalogue: controls added, removed, or with another severity or enforcement.
    if baseline.has_catalogue:
        by_id = {str(c.id): c for c in result.controls}
        for control_id in sorted(set(by_id) - baseline.catalogue):
            items.append(Change("control-added", control_id, after=_control_terms(by_id[control_id])))
        for control_id in sorted(set(baseline.controls) - set(by_id)):
            items.append(Change("control-removed", control_id, before=_control_terms(baseline.controls[control_id])))
        for control_id in sorted(set(by_id) & set(baseline.controls)):
            now_control = by_id[control_id]
            old_control = baseline.controls[control_id]
            levels = {env: now_control.enforcement_for(env) for env in old_control.enforcement}
            if old_control.severity != now_control.severity or dict(old_control.enforcement) != levels:
                after = BaselineControl(control_id, now_control.severity, levels)
                items.append(Change("control-changed", control_id, before=_control_terms(old_control),
                                    after=_control_terms(after)))
    # Appendix B: entries added or removed (Article 4.3: the client is told ten working days before either).
    if baseline.register is not None and result.subprocessors:
        now_register = {p.name for p in result.subprocessors}
        for name in sorted(now_register - baseline.register):
            items.append(Change("subprocessor-added", name, after="in Appendix B"))
        for name in sorted(baseline.register - now_register):
            items.append(Change("subprocessor-removed", name, before="in Appendix B"))
    return Changes(baseline=shown_as, generated_at=baseline.generated_at, git_commit=baseline.git_commit,
                   items=tuple(items), waivers_recorded=baseline.waivers is not None)


REMOVAL: ControlId = ControlId("DPA-SUB-007")


def removals(
    baseline: Baseline | None,
    result: Result,
    removed: Sequence[Mapping[str, Any]],
    *,
    notice_days: int,
    working_days: Callable[[dt.date, dt.date], int],
    register_file: str = "policies/dpa/subprocessors.yaml",
) -> tuple[Decision, ...]:
    """DPA-SUB-007 decisions: each sub-processor taken out of Appendix B, judged on Article 4.3's ten working days.

    A `removed` entry of subprocessors.yaml with both dates: a violation under `notice_days` French working
    days; with an unknown date: undetermined. With a baseline, an entry of its register that the register
    now has in neither list was removed without any record: undetermined. The decisions are about the
    register, not a program (controls.yaml `about: dpa`): on the register file, the project's.
    `working_days` counts French working days after one date up to another (dpaguard.normalise.calendar).
    """
    def decision(message: str, status: DecisionStatus) -> Decision:
        return Decision(REMOVAL, Urn(file_urn(register_file)), message, location=SourceLocation(register_file),
                        type="file", name=register_file.rsplit("/", 1)[-1], status=status)

    decisions: list[Decision] = []
    recorded = {str(entry["name"]): entry for entry in removed}
    for name, entry in sorted(recorded.items()):
        replaced = f" (replaced by {entry['replaced_by']})" if entry.get("replaced_by") else ""
        if entry.get("notified") is None or entry.get("removed") is None:
            decisions.append(decision(f"{name} was removed from Appendix B{replaced}, but the register records no "
                                      "notification or removal date, so Article 4.3's ten working days' notice cannot be shown",
                                      "undetermined"))
            continue
        days = working_days(dt.date.fromisoformat(entry["notified"]), dt.date.fromisoformat(entry["removed"]))
        if days < notice_days:
            decisions.append(decision(f"{name} was removed from Appendix B{replaced} {days} working days after the "
                                      f"client was notified ({notice_days} required)", "violation"))
    if baseline is not None and baseline.register is not None and result.subprocessors:
        now_register = {p.name for p in result.subprocessors}
        for name in sorted(baseline.register - now_register - set(recorded)):
            decisions.append(decision(f"{name} was in Appendix B in {_when(baseline)} and is no longer, and the "
                                      "register records no removal (subprocessors.yaml `removed`): Article 4.3's ten "
                                      "working days' notice cannot be shown", "undetermined"))
    return tuple(decisions)
