"""What every engine sends and receives: the Rego input shaped from the facts, the decisions parsed back.

The normaliser's facts carry more than the Rego reads (findings and coverage use the rest); the
input leaves those out, and a large input is split into parts that engines may evaluate apart,
since every rule judges one resource or one stack. Whatever an engine answers is read by one
parser, so that every engine accepts and refuses the same answers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from dpaguard.errors import EngineError
from dpaguard.model import Decision
from dpaguard.normalise import build_index

DECISION_KEYS = frozenset({"control", "urn", "message", "status"})
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
     "outside_scope", "recorded_of"}
)


def rego_resource(fact: Mapping[str, Any]) -> dict[str, Any]:
    """A resource fact as the Rego reads it: without the facts in _NOT_READ_BY_REGO, locality's scope, project's status when not expected.

    Rules reach resources only through the index, so a project that is not expected (never in
    index.project) and empty tags are left out too.
    """
    out = {key: value for key, value in fact.items() if key not in _NOT_READ_BY_REGO}
    locality = fact.get("locality")
    if isinstance(locality, dict):
        out["locality"] = {key: value for key, value in locality.items() if key != "scope"}
    project = fact.get("project")
    if isinstance(project, dict):
        if project.get("expected") is False:
            del out["project"]
        else:
            out["project"] = {key: value for key, value in project.items() if key not in ("expected", "status")}
    # Rules read the environment tag (env_tag), never the tags themselves.
    out.pop("tags", None)
    return out


def chunks(facts: Mapping[str, Any], size: int) -> list[dict[str, Any]]:
    """The Rego input for these facts, in parts of at most `size` resources (every stack and the context in each).

    Valid because every rule judges one resource or one stack: cross-resource facts are computed
    here. Each part has its own index; its resources are reduced to what Rego reads (rego_resource).
    """
    resources = facts["resources"]
    if len(resources) <= size:
        return [{**facts, "resources": [rego_resource(r) for r in resources]}]
    parts = []
    for start in range(0, len(resources), size):
        part = resources[start : start + size]
        parts.append({**facts, "resources": [rego_resource(r) for r in part], "index": build_index(part)})
    return parts


def parse_decisions(value: Any, where: str) -> list[Decision]:
    """Decisions from the JSON an engine returned; EngineError on any malformed element."""
    if not isinstance(value, list):
        raise EngineError(f"{where}: decisions are not a list (got {type(value).__name__})")
    decisions = []
    for item in value:
        if not isinstance(item, dict) or set(item) != DECISION_KEYS:
            raise EngineError(f"{where}: malformed decision (expected keys {sorted(DECISION_KEYS)})")
        if not all(isinstance(item[k], str) and item[k] for k in ("control", "urn")) or not isinstance(item["message"], str):
            raise EngineError(f"{where}: malformed decision (control, urn and message must be text)")
        if item["status"] not in STATUSES:
            raise EngineError(f"{where}: malformed decision status {item['status']!r}")
        decisions.append(Decision(control=item["control"], urn=item["urn"], message=item["message"], status=item["status"]))
    return decisions
