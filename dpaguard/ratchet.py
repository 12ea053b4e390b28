"""The ratchet of Article 5.1: "Ringover undertakes not to substantially reduce the overall security".

`--baseline FILE` gives an earlier JSON report of dpaguard. Against it, a run reports as findings of
DPA-RAT-001 (built here, in Python, not in Rego):
- every control that passed in the baseline on a stack (examined at least one resource there, no
  unwaived finding) and has an unwaived finding on that stack now;
- every control of the baseline's catalogue that the catalogue no longer has (a control retired in
  controls.yaml `retired` too, its recorded reason quoted: removing a control is the DPO's decision);
- every control whose severity is lower, or whose enforcement in an environment is weaker
  (mandatory > advisory > disabled), than in the baseline.
Catalogue changes are about a file, not a stack: they are reported on the project (stack `*`), at
the enforcement DPA-RAT-001 has in prod (in the weakened environment for an enforcement change).
A baseline written before reports carried their catalogue (`controls`) is compared on what it
has: its coverage and findings name the controls it evaluated, so removals are still found.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from dpaguard.errors import InputError
from dpaguard.inputs import MAX_RECORD_BYTES, read_input_text
from dpaguard.model import Control, ControlId, Decision, Result, SourceLocation, Urn
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
    for finding in findings:
        if not isinstance(finding.get("control"), str) or not isinstance(finding.get("stack"), str):
            raise _bad(path, "a finding without `control` and `stack`")
        if finding.get("waived") is not True:
            failing.add((finding["control"], finding["stack"]))
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
    generated, commit = document.get("generatedAt"), document.get("gitCommit")
    return Baseline(
        path=str(path),
        generated_at=generated if isinstance(generated, str) else None,
        git_commit=commit if isinstance(commit, str) else None,
        passed=frozenset(passed),
        controls=ids,
        has_catalogue=has_catalogue,
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
        for control in sorted(compared):
            count = unwaived.get((control, stack.name), 0)
            if count:
                decisions.append(Decision(RATCHET, urn, f"{control} passed in {when} and fails now: {count} unwaived finding(s)"))

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
