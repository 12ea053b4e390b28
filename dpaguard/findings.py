"""Decisions + catalogue + waivers -> findings and coverage.

The one place findings are made. Every check emits decisions (dpaguard.model.Decision): the policy
engines, checkov and the credential scan over the repository's files, the ratchet, and the waivers'
own problems found here. A decision names a control and a URN; this stage joins it with the catalogue
entry (clause, title, severity, category), the stack it belongs to (a repository file no stack owns:
the project, `*`, judged as prod), the enforcement level of that environment (with the pack's
overrides), the source location, and any waiver. Undetermined decisions (a value unknown in preview) count like violations in prod and
staging and are advisory in dev. A waived finding stays, marked waived; an expired waiver no
longer covers anything and is reported itself (DPA-WAI-001), as is a malformed one (DPA-WAI-002);
a blanket waiver (every resource, all of one stack, every stack, or an expiry too far ahead) still covers its
findings but is reported as an advisory finding of its own (DPA-WAI-003). Each of these is reported
on the stacks the waiver names or, when it names none of those evaluated, on the strictest of them.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from dpaguard.engine.interface import EngineError
from dpaguard.errors import PolicyError
from dpaguard.facts import Facts
from dpaguard.model import (
    ENVIRONMENTS,
    Control,
    ControlId,
    Decision,
    Finding,
    SourceLocation,
    Urn,
    Usage,
    Waiver,
)
from dpaguard.normalise import RECORDED_NOTE
from dpaguard.policy import DEFAULT_WAIVER_MAX_DAYS, WAIVER_BLANKET, WAIVER_EXPIRED, WAIVER_MALFORMED, Policy
from dpaguard.urn import FILE_URN_PREFIX, PROJECT_STACK, STACK_TYPE, name_of, provider_type


@dataclass(frozen=True)
class Evaluation:
    """The findings of one evaluation and, per (control, stack), how many resources the control examined."""

    findings: tuple[Finding, ...]
    coverage: dict[tuple[str, str], int]
    # makes the findings of decisions taken after the engine's, over the same facts (checkov, credentials, the ratchet)
    judge: Judge
    facts_resources: int = 0
    usage: tuple[Usage, ...] = ()  # sub-processors and locations each stack uses (dpaguard.inventory)
    environments: Mapping[str, str] = field(default_factory=dict)  # stack -> the environment it was evaluated as
    examined: Mapping[tuple[str, str], frozenset[str]] = field(default_factory=dict)  # the URNs judged (dpaguard.examined)


def _matches(type_token: str, patterns: Sequence[str]) -> bool:
    return any(p == "*" or fnmatch.fnmatchcase(type_token, p) for p in patterns if p != "stack")


def coverage(
    controls: Sequence[Control], facts: Facts, evaluated: frozenset[ControlId] | None = None
) -> dict[tuple[str, str], int]:
    """(control id, stack) -> number of resources of the types the control examines (1 for stack-level controls).

    A control nothing evaluates (`evaluated`, from the policy: no reachable Rego rule names it) examined nothing: 0.
    """
    # Counted per distinct type: ten thousand resources are a few dozen types.
    types_by_stack: dict[str, Counter[str]] = {s["name"]: Counter() for s in facts["stacks"]}
    for resource in facts["resources"]:
        if "recorded_of" not in resource:  # a recorded view is the same resource examined again
            types_by_stack[resource["stack"]][resource["type"]] += 1
    result: dict[tuple[str, str], int] = {}
    for control in controls:
        for stack, types in types_by_stack.items():
            if evaluated is not None and control.id not in evaluated:
                result[(control.id, stack)] = 0
            elif "stack" in control.applies_to:
                result[(control.id, stack)] = 1
            else:
                result[(control.id, stack)] = sum(n for t, n in types.items() if _matches(t, control.applies_to))
    return result


def _source_location(resource: Mapping[str, Any]) -> SourceLocation | None:
    """The program line that declared a resource, as the normaliser found it."""
    location = resource.get("location")
    return SourceLocation(str(location[0]), int(location[1]), int(location[2])) if location else None


def _config_location(stack: Mapping[str, Any], key: str | None) -> SourceLocation | None:
    """The stack config file, at the line that sets `key` when the source read that file and the key is set there."""
    config_file = stack.get("config_file")
    if not config_file:
        return None
    line, column = (stack.get("config_positions") or {}).get(key, (1, 1)) if key else (1, 1)
    return SourceLocation(str(config_file), int(line), int(column))


def _waiver_for(waivers: Sequence[Waiver], control: str, stack: str, urn: str) -> Waiver | None:
    for waiver in waivers:
        if waiver.control == control and fnmatch.fnmatchcase(stack, waiver.stack) and fnmatch.fnmatchcase(urn, waiver.urn_pattern):
            return waiver
    return None


def _enforcement(control: Control, environment: str, status: str, overrides: Mapping[str, str]) -> str:
    level = overrides.get(control.id) or control.enforcement_for(environment)
    if level == "disabled":
        return level
    # A value unknown in preview counts as a violation where the rules bind (prod, staging) and is
    # advisory in dev, where previews of half-built stacks are the daily routine.
    if status == "undetermined" and environment == "dev":
        return "advisory"
    return level


# The waivers' own problems are never waived: a waiver cannot excuse the waivers file.
_UNWAIVABLE = frozenset({WAIVER_EXPIRED, WAIVER_MALFORMED, WAIVER_BLANKET})


@dataclass(frozen=True)
class _Subject:
    """What a decision is about, placed: its stack and environment, the finding's URN, type, name and location."""

    stack: str
    environment: str
    urn: str
    type: str
    name: str
    location: SourceLocation | None
    members: tuple[str, ...] = ()


class Judge:
    """Decisions -> findings over one evaluation's facts: the one place a finding is made.

    It places each decision (a resource, a package group, a stack, or a repository file: the config
    file of an evaluated stack is that stack's, any other belongs to the project, stack `*`, judged
    as prod), sets its enforcement (the pack's overrides, then the dev rule for undetermined
    decisions; a disabled control gives no finding) and finds its waiver.
    """

    def __init__(self, facts: Facts, policy: Policy, *, today: dt.date, enforcement_overrides: Mapping[str, str] | None = None) -> None:
        self._policy = policy
        self._overrides = dict(enforcement_overrides or {})
        self._stack_by_urn = {s["urn"]: s for s in facts["stacks"]}
        self._stack_by_file = {str(s["config_file"]): s for s in facts["stacks"] if s.get("config_file")}
        self._resource_by_urn = {r["urn"]: r for r in facts["resources"]}
        self._groups = _groups(facts)
        self._waivers = policy.active_waivers(today)

    def findings(self, decisions: Sequence[Decision]) -> list[Finding]:
        """The findings of the decisions, in their order; a decision on a recorded view is its resource's own."""
        findings: list[Finding] = []
        declared = {(d.control, d.urn, d.message) for d in decisions}
        for decision in decisions:
            resource = self._resource_by_urn.get(decision.urn)
            recorded_of = resource.get("recorded_of") if resource is not None else None
            if recorded_of is not None:
                # A decision on the recorded view of a resource: the resource's own, unless its declared view has the same.
                if (decision.control, recorded_of, decision.message) in declared:
                    continue
                decision = replace(decision, urn=Urn(recorded_of), message=f"{decision.message} {RECORDED_NOTE}")
            finding = self._finding(decision)
            if finding is not None:
                findings.append(finding)
        return findings

    def _finding(self, decision: Decision) -> Finding | None:
        try:
            control = self._policy.control(decision.control)
        except PolicyError:
            raise PolicyError(f"a check decided on control {decision.control}, which is not in policies/dpa/controls.yaml") from None
        subject = self._place(decision)
        enforcement = _enforcement(control, subject.environment, decision.status, self._overrides)
        if enforcement == "disabled":
            return None
        waiver = None if control.id in _UNWAIVABLE else _waiver_for(self._waivers, control.id, subject.stack, subject.urn)
        return Finding.of(
            control,
            enforcement=enforcement,
            stack=subject.stack,
            urn=Urn(subject.urn),
            type=subject.type,
            name=subject.name,
            message=decision.message,
            status=decision.status,
            waived=waiver is not None,
            waiver=waiver,
            location=decision.location or subject.location,
            resources=subject.members,
        )

    def _place(self, decision: Decision) -> _Subject:
        """Where a decision belongs: the resource, package group, stack or repository file its URN names."""
        urn = str(decision.urn)
        if (group := self._groups.get(urn)) is not None:
            owner = self._stack_by_urn[group.stack_urn]
            return _Subject(owner["name"], owner["environment"], urn, group.type, name_of(urn),
                            _config_location(owner, decision.config_key), group.members)
        if (resource := self._resource_by_urn.get(urn)) is not None:
            return _Subject(resource["stack"], resource["environment"], urn, resource["type"], name_of(urn),
                            _source_location(resource))
        if (stack := self._stack_by_urn.get(urn)) is not None:
            return _Subject(stack["name"], stack["environment"], urn, STACK_TYPE, name_of(urn),
                            _config_location(stack, decision.config_key))
        if urn.startswith(FILE_URN_PREFIX):
            path = urn[len(FILE_URN_PREFIX):]
            config_of = self._stack_by_file.get(path)
            if config_of is not None:  # a stack's config file: that stack's, judged in its environment
                return _Subject(config_of["name"], config_of["environment"], config_of["urn"], decision.type or "file",
                                decision.name or path, SourceLocation(path))
            # Any other file of the repository is every stack's: the project's, judged as prod (the repository deploys prod).
            return _Subject(PROJECT_STACK, decision.environment or "prod", urn, decision.type or "file",
                            decision.name or path, SourceLocation(path))
        raise EngineError(f"decision for {decision.control} names a URN that is in no evaluated stack")


def findings_of(
    facts: Facts,
    decisions: Sequence[Decision],
    policy: Policy,
    *,
    today: dt.date,
    enforcement_overrides: Mapping[str, str] | None = None,
) -> Evaluation:
    """Join the engine's decisions on the facts into findings (sorted), with coverage, usage and each stack's environment.

    The waivers' own problems are found here too; the Evaluation's `judge` makes the findings of
    decisions taken later over the same facts (the checks of the repository's files, the ratchet).
    """
    judge = Judge(facts, policy, today=today, enforcement_overrides=enforcement_overrides)
    stack_facts = {s["name"]: s for s in facts["stacks"]}
    findings = judge.findings([*decisions, *_waiver_decisions(policy, today, stack_facts)])
    findings.sort(key=lambda f: (*f.sort_key(), f.status))
    from dpaguard.examined import examined
    from dpaguard.inventory import usage_of

    judged = examined(policy.controls, facts, policy.evaluated_controls,
                      waivers=bool(policy.waivers or policy.waiver_findings))
    return Evaluation(findings=tuple(findings), coverage={key: len(urns) for key, urns in judged.items()}, examined=judged,
                      facts_resources=sum("recorded_of" not in r for r in facts["resources"]),
                      usage=usage_of(facts, policy.data["locations"], policy.data["subprocessors"]),
                      environments={name: str(stack["environment"]) for name, stack in stack_facts.items()}, judge=judge)


@dataclass(frozen=True)
class _Group:
    """The resources of one provider package in one stack, as a finding on the group names them."""

    stack_urn: str
    type: str
    members: tuple[str, ...]


def _groups(facts: Facts) -> dict[str, _Group]:
    """Each stack's package groups (the normaliser's `packages`) by the URN a decision on the group names."""
    members: dict[tuple[str, str], list[str]] = defaultdict(list)
    for fact in facts["resources"]:
        if not fact.get("recorded_of"):
            members[(fact["stack"], fact["package"])].append(fact["urn"])
    return {
        group["urn"]: _Group(stack["urn"], provider_type(group["package"]), tuple(sorted(members[(stack["name"], group["package"])])))
        for stack in facts["stacks"]
        for group in stack.get("packages", ())
    }


# URNs and stack names that share nothing: a pattern matching all of them matches every one.
_PROBE_URNS = (
    "urn:pulumi:prod::estate::scaleway:databases/instance:Instance::db",
    "urn:pulumi:dev::other::pulumi:providers:scaleway::default_1_0_0",
    "urn:pulumi:org/x::y::pulumi-python:dynamic/datapacket:Server$a:b:C::z",
)
_PROBE_STACKS = ("prod", "dev", "org/x")
_ENVIRONMENT_ORDER: dict[str, int] = {name: rank for rank, name in enumerate(ENVIRONMENTS)}  # strictest first


def _blanket(waiver: Waiver, today: dt.date, max_days: int) -> list[str]:
    """Why a waiver is a blanket one: it covers every resource, every resource of a stack, every stack, or expires too far ahead."""
    reasons = []
    if all(fnmatch.fnmatchcase(urn, waiver.urn_pattern) for urn in _PROBE_URNS):
        reasons.append("covers every resource")
    elif (stack := _whole_stack(waiver.urn_pattern, waiver.stack)) is not None:
        reasons.append(f"covers every resource of stack {stack}")
    elif (
        all(fnmatch.fnmatchcase(name, waiver.stack) for name in _PROBE_STACKS)
        and not waiver.urn_pattern.startswith(FILE_URN_PREFIX)
        and any(c in waiver.urn_pattern.split("::", 1)[0] for c in "*?[")
    ):
        # stack `*` and a URN pattern that leaves its stack open: the same resources in every stack.
        # (A checkov finding about a repository file belongs to no stack: its waiver says stack `*`.)
        reasons.append("covers every stack")
    if (waiver.expires - today).days > max_days:
        reasons.append(f"expires {waiver.expires.isoformat()}, more than {max_days} days ahead")
    return reasons


def _whole_stack(pattern: str, waiver_stack: str) -> str | None:
    """The stack whose every resource a URN pattern covers (`urn:pulumi:prod::estate::*`), or None.

    The probes keep the pattern's stack (else the waiver's, `urn:pulumi:prod*` in stack prod), and its
    project when it names one, and vary the rest: a pattern that matches them all leaves a whole
    stack's types and names open.
    """
    prefix = "urn:pulumi:"
    if not pattern.startswith(prefix):
        return None
    stack, _, rest = pattern[len(prefix):].partition("::")
    if any(c in stack for c in "*?["):
        stack = waiver_stack
    if not stack or any(c in stack for c in "*?["):
        return None  # a stack left open is judged by "every resource" and "every stack"
    named, sep, _ = rest.partition("::")
    project = named if sep and named and not any(c in named for c in "*?[") else None
    probes = []
    for urn in _PROBE_URNS:
        _, probe_project, tail = urn[len(prefix):].split("::", 2)
        probes.append(f"{prefix}{stack}::{project or probe_project}::{tail}")
    return stack if all(fnmatch.fnmatchcase(urn, pattern) for urn in probes) else None


def _named_stacks(pattern: str, stacks: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The evaluated stacks a waiver's stack pattern names; when none, the strictest one (a problem is never lost)."""
    named = [name for name in stacks if fnmatch.fnmatchcase(name, pattern)]
    if named or not stacks:
        return named
    return [min(stacks, key=lambda name: (_ENVIRONMENT_ORDER.get(str(stacks[name]["environment"]), 0), name))]


def _waiver_decisions(policy: Policy, today: dt.date, stacks: Mapping[str, Mapping[str, Any]]) -> list[Decision]:
    """DPA-WAI-001 for each expired waiver, DPA-WAI-002 for each malformed one, DPA-WAI-003 for each blanket one."""
    problems: list[tuple[ControlId, str, str, int]] = []
    max_days = int(policy.data.get("settings", {}).get("waivers", {}).get("max_days", DEFAULT_WAIVER_MAX_DAYS))
    for index, waiver in enumerate(policy.waivers):
        line = policy.waiver_lines.get(index, 1)
        described = f"waiver for {waiver.control} on {waiver.urn_pattern} in stack {waiver.stack} (approved by {waiver.approver})"
        if waiver.expires < today:
            message = f"{described} expired on {waiver.expires.isoformat()}"
            problems.append((WAIVER_EXPIRED, waiver.stack, message, line))
            continue
        reasons = _blanket(waiver, today, max_days)
        if reasons:
            problems.append((WAIVER_BLANKET, waiver.stack, f"{described} is a blanket waiver: {'; '.join(reasons)}", line))
    for problem in policy.waiver_findings:
        problems.append((WAIVER_MALFORMED, problem.stack, problem.message, problem.line))
    return [
        Decision(control_id, Urn(stacks[name]["urn"]), message, location=SourceLocation(policy.waivers_path(), line))
        for control_id, pattern, message, line in problems
        for name in _named_stacks(pattern, stacks)
    ]
