"""What every engine sends and receives: the Rego input shaped from the facts, the decisions parsed back.

The normaliser's facts carry more than the Rego reads (findings and coverage use the rest); the
input leaves those out, and a large input is split into parts that engines may evaluate apart,
since every rule judges one resource or one stack. Whatever an engine answers is read by one
parser, so that every engine accepts and refuses the same answers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from dpaguard.errors import EngineError
from dpaguard.facts import Facts, ResourceFacts
from dpaguard.model import ControlId, Decision, DecisionStatus, Urn
from dpaguard.engine.index import build_index, index_part

DECISION_KEYS = frozenset({"control", "urn", "message", "status"})
# A stack's decision about one key of its stack config names it (result.config_violation): the finding points at its line.
OPTIONAL_DECISION_KEYS = frozenset({"config_key"})
STATUSES = frozenset({"violation", "undetermined"})


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - platforms without affinity
        return os.cpu_count() or 1


# Resource facts no Rego rule reads: findings and coverage (Python) use them, the Rego input leaves
# them out, since regopy converts the input node by node and then holds it (a third of the nodes).
_NOT_READ_BY_REGO = frozenset(
    {"id", "type", "raw_type", "deprecated_type", "package", "subprocessor", "country", "taggable", "secret_paths", "unknown_paths", "index",
     "outside_scope", "recorded_of", "location"}
)
# Stack facts no Rego rule reads (findings point into the stack config file with them).
_STACK_NOT_READ_BY_REGO = frozenset({"config_positions"})


def rego_resource(fact: ResourceFacts) -> dict[str, Any]:
    """A resource fact as the Rego reads it: without the facts in _NOT_READ_BY_REGO, locality's scope, project's status when not expected.

    Rules reach resources only through the index, so a project that is not expected (never in
    index.project) and empty tags are left out too.
    """
    out = dict(fact)
    for key in _NOT_READ_BY_REGO & out.keys():
        del out[key]
    # .get: the engines' own tests send toy inputs that hold neither
    locality = fact.get("locality")
    if locality is not None:
        out["locality"] = {key: value for key, value in locality.items() if key != "scope"}
    project = fact.get("project")
    if project is not None:
        if project["expected"] is False:
            del out["project"]
        else:
            out["project"] = {key: value for key, value in project.items() if key not in ("expected", "status")}
    # Rules read the environment tag (env_tag), never the tags themselves.
    out.pop("tags", None)
    return out


def rego_input(facts: Facts) -> dict[str, Any]:
    """The whole Rego input for these facts, in one part: what every engine evaluates (or splits, see chunks)."""
    return {**facts, "stacks": rego_stacks(facts), "resources": [rego_resource(r) for r in facts["resources"]]}


def rego_stacks(facts: Facts) -> list[dict[str, Any]]:
    """The stack facts as the Rego reads them (without _STACK_NOT_READ_BY_REGO)."""
    return [{key: value for key, value in stack.items() if key not in _STACK_NOT_READ_BY_REGO} for stack in facts["stacks"]]


def chunks(facts: Facts, size: int) -> list[dict[str, Any]]:
    """The Rego input for these facts, in parts of at most `size` resources (every stack and the context in each).

    Valid because every rule judges one resource or one stack: cross-resource facts are computed
    here. Each part has its own index; its resources are reduced to what Rego reads (rego_resource).
    """
    resources = facts["resources"]
    if len(resources) <= size:
        return [rego_input(facts)]
    stacks = rego_stacks(facts)
    return [part(facts, start, start + size, stacks) for start in range(0, len(resources), size)]


def part(facts: Facts, start: int, stop: int, stacks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The Rego input for resources `start` to `stop` of these facts, with an index of its own (see chunks)."""
    resources = facts["resources"]
    if start == 0 and stop >= len(resources):
        return rego_input(facts)
    some = resources[start:stop]
    return {**facts, "stacks": rego_stacks(facts) if stacks is None else stacks, "resources": [rego_resource(r) for r in some],
            "index": index_part(facts["index"], start, stop)}


# Facts that say which resource a fact is, not what it is (recorded_of: the URN whose recorded view it is).
_IDENTITY = frozenset({"urn", "index", "id", "recorded_of"})
# One encoder for every resource's key: json.dumps with an option builds a new one per call, which
# cost more than the encoding; facts are trees made from JSON (no cycle to check for).
_encode_key = json.JSONEncoder(allow_nan=False, check_circular=False).encode


def distinct(facts: Facts) -> tuple[Facts, list[list[int]]]:
    """The facts with one resource for each group of resources equal in every fact but their identity, and each group's positions.

    Valid because a rule judges one resource by its own facts, its stack's and the context, and
    looks at other resources only through the index, for whether a value occurs, never how often
    (the conformance suite holds this engine's answers to regopy's on the whole input): resources
    equal in every fact are judged alike, so one is judged for all of them and its decisions are
    given to each. Generated and templated estates hold thousands of copies of a few set-ups.
    """
    resources = facts["resources"]
    groups: dict[str, list[int]] = {}
    try:
        for position, fact in enumerate(resources):
            shown = dict(fact)
            for key in _IDENTITY & shown.keys():
                del shown[key]
            groups.setdefault(_encode_key(shown), []).append(position)
    except (TypeError, ValueError, RecursionError):  # not JSON: the engine refuses it as it is, whole
        return facts, [[position] for position in range(len(resources))]
    members = list(groups.values())
    if len(members) == len(resources):
        return facts, members
    representatives = [resources[group[0]] for group in members]
    return Facts(stacks=facts["stacks"], resources=representatives, index=build_index(representatives), context=facts["context"]), members


def parse_decisions(value: Any, where: str) -> list[Decision]:
    """Decisions from the JSON an engine returned; EngineError on any malformed element."""
    return [Decision(control=control, urn=urn, message=message, status=status, config_key=key)
            for control, urn, message, status, key in decision_rows(value, where)]


# A decision as an engine that regroups decisions holds it: control, URN, message, status, config key.
DecisionRow = tuple[ControlId, Urn, str, DecisionStatus, "str | None"]


def decision_rows(value: Any, where: str) -> list[DecisionRow]:
    """parse_decisions's decisions as (control, urn, message, status, config_key), for an engine that regroups them."""
    if not isinstance(value, list):
        raise EngineError(f"{where}: decisions are not a list (got {type(value).__name__})")
    rows: list[Any] = []  # of DecisionRow: the values are checked here
    append = rows.append
    for item in value:
        # What OPA answers: exactly the four keys, each text; anything else is judged below.
        if type(item) is dict and item.keys() == DECISION_KEYS:
            control, urn, message, status = item["control"], item["urn"], item["message"], item["status"]
            if (type(control) is str and control and type(urn) is str and urn and type(message) is str
                    and (status == "violation" or status == "undetermined")):
                append((control, urn, message, status, None))
                continue
        if not isinstance(item, dict) or not DECISION_KEYS <= set(item) <= DECISION_KEYS | OPTIONAL_DECISION_KEYS:
            raise EngineError(f"{where}: malformed decision (expected keys {sorted(DECISION_KEYS)})")
        if not isinstance(item.get("config_key", ""), str):
            raise EngineError(f"{where}: malformed decision (config_key must be text)")
        if not all(isinstance(item[k], str) and item[k] for k in ("control", "urn")) or not isinstance(item["message"], str):
            raise EngineError(f"{where}: malformed decision (control, urn and message must be text)")
        if item["status"] not in STATUSES:
            raise EngineError(f"{where}: malformed decision status {item['status']!r}")
        append((item["control"], item["urn"], item["message"], item["status"], item.get("config_key")))
    return rows
