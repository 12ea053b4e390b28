"""Which resources each control judged in each stack: the report's counts and its "examined".

A control's `applies_to` names the types it reads; it does not judge every resource of them. A zone
control (DPA-RES-002) or a hosting-site control (DPA-RES-006) judges only resources placed in a zone,
never a regional bucket or database: controls.yaml says so with `judges` ("scaleway:*": zonal). A
stack-level control over evidence a person keeps (the stack config, the waiver file, the notice
dates of Appendix B) examined nothing when that evidence is absent: `needs`. Counting URNs rather
than adding numbers is what keeps a clause's count within the estate: five controls over the same
forty resources examined forty, not two hundred.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from typing import Any, Callable, Mapping, Sequence

from dpaguard.facts import Facts
from dpaguard.model import Control, ControlId

# The conditions `judges` may name: a resource fact -> whether the control judges it.
JUDGE_CONDITIONS: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    # placed in a zone (its own, its provider's or the stack's): a region spans several datacenters
    "zonal": lambda resource: (resource.get("locality") or {}).get("scope") == "zone",
    # placed in a region only: a zonal resource's region follows from its zone, judged as a zone
    "regional": lambda resource: (resource.get("locality") or {}).get("scope") == "region",
    # placed by another cloud's provider (facts `place`): a DNS record or an IAM role names no place
    "placed": lambda resource: bool(resource.get("place")),
    # tagged with an Appendix A data category: its maximum bounds the store's copies
    "categorised": lambda resource: bool(resource.get("data_category")),
    # tagged as holding backups (settings.yaml backup_tag): a cold copy must be write-once
    "backup-copy": lambda resource: bool(resource.get("backup_copy")),
}


Resources = Sequence[Mapping[str, Any]]


def _has_config(stack: Mapping[str, Any], _: Resources, __: bool) -> bool:
    return bool(stack.get("config_file"))


def _has_dates(stack: Mapping[str, Any], _: Resources, __: bool) -> bool:
    # the sub-processors the stack uses whose notice dates a person entered (the rest are undated)
    return bool(set(stack.get("subprocessors") or ()) - set(stack.get("undated_subprocessors") or ()))


def _has_waivers(_: Mapping[str, Any], __: Resources, waivers: bool) -> bool:
    return waivers


def _has_zonal(_: Mapping[str, Any], resources: Resources, __: bool) -> bool:
    return any(JUDGE_CONDITIONS["zonal"](r) for r in resources)


# The evidence `needs` may name: (stack fact, its resources, the policy holds waivers) -> whether it is there.
NEEDS: dict[str, Callable[[Mapping[str, Any], Resources, bool], bool]] = {
    "stack-config": _has_config,
    "notification-dates": _has_dates,
    "waivers": _has_waivers,
    "zonal-resources": _has_zonal,
}


def _matches(type_token: str, pattern: str) -> bool:
    return pattern == "*" or fnmatch.fnmatchcase(type_token, pattern)


def _judgement(control: Control, type_token: str, read: bool) -> bool | str:
    """Whether the control judges resources of this type (`read`: read with `.get()`): False, True, or the JUDGE_CONDITIONS name that decides."""
    patterns = [p for p in control.applies_to if p not in ("stack", "file")]
    if read:
        # A resource read with `.get()` is judged only by controls over every type of a package (its place,
        # its provider): the controls of its type judge its posture where it is managed.
        patterns = [p for p in patterns if p == "*" or p.endswith(":*")]
    if not any(_matches(type_token, p) for p in patterns):
        return False
    for pattern, condition in control.judges.items():
        if _matches(type_token, pattern):
            return condition
    return True


def _judged_urns(control: Control, by_kind: Mapping[tuple[str, bool], Sequence[Mapping[str, Any]]]) -> frozenset[str]:
    # each kind of resource (its type, whether it is read) judged once: fnmatch over every pattern for
    # every resource was a fifth of an audit
    urns: list[str] = []
    for (token, read), resources in by_kind.items():
        judgement = _judgement(control, token, read)
        if judgement is True:
            urns.extend(str(resource["urn"]) for resource in resources)
        elif judgement is not False:
            condition = JUDGE_CONDITIONS[str(judgement)]
            urns.extend(str(resource["urn"]) for resource in resources if condition(resource))
    return frozenset(urns)


def examined(
    controls: Sequence[Control], facts: Facts, evaluated: frozenset[ControlId] | None = None, *, waivers: bool = False,
) -> dict[tuple[str, str], frozenset[str]]:
    """(control id, stack) -> the URNs the control judged there (the stack's URN for a stack-level control).

    A control nothing evaluates (`evaluated`: no reachable Rego rule names it) judged nothing;
    `waivers` says whether the policy holds any waiver (the evidence of the waiver controls).
    """
    by_stack: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    by_stack_kind: dict[str, dict[tuple[str, bool], list[Mapping[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for resource in facts["resources"]:
        if "recorded_of" not in resource:  # a recorded view is the same resource examined again
            by_stack[str(resource["stack"])].append(resource)
            by_stack_kind[str(resource["stack"])][(str(resource["type"]), bool(resource.get("read")))].append(resource)
    answer: dict[tuple[str, str], frozenset[str]] = {}
    for control in controls:
        for stack in facts["stacks"]:
            key = (str(control.id), str(stack["name"]))
            if evaluated is not None and control.id not in evaluated:
                answer[key] = frozenset()
            elif "stack" in control.applies_to:
                present = control.needs is None or NEEDS[control.needs](stack, by_stack[key[1]], waivers)
                answer[key] = frozenset({str(stack["urn"])}) if present else frozenset()
            else:
                answer[key] = _judged_urns(control, by_stack_kind[key[1]])
    return answer
