"""What resources share across stacks and name of each other: a network, database or server another environment owns too, and the targets a resource links to by ID or name (properties.yaml `links`).

Both need every stack's resources at once, so they run after each resource's own facts are made.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence, cast

from dpaguard.engine.encoding import printable
from dpaguard.facts import ResourceFacts
from dpaguard.model import REDACTED, UNKNOWN, Deployment
from dpaguard.normalise.recorded import declared_urn
from dpaguard.deployment.types import DATAPACKET_SERVER


def property_dependencies(deployments: Sequence[Deployment]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(stack, URN) -> the resource's `propertyDependencies`: property -> URNs its value was computed from."""
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    for deployment in deployments:
        for raw in deployment.resources:
            dependencies = raw.get("propertyDependencies")
            if isinstance(raw.get("urn"), str) and isinstance(dependencies, Mapping):
                found[(deployment.stack, raw["urn"])] = dependencies
    return found


def _identities(fact: Mapping[str, Any]) -> Iterable[str]:
    """The values that name a resource to others: its ID (a DataPacket server's names too), never unknown or secret."""
    props = fact["props"]
    values = [fact["id"]]
    if fact["type"] == DATAPACKET_SERVER:
        values += [props.get("serverName"), props.get("hostname")]
    return [v for v in values if isinstance(v, str) and v and v not in (UNKNOWN, REDACTED)]


def mark_links(resources: list[dict[str, Any]], dependencies: Mapping[tuple[str, str], Mapping[str, Any]], links: Iterable[Mapping[str, Any]]) -> None:
    """Set `linked.<fact>` on each target a `by` resource names (properties.yaml `links`).

    A resource names its target by value (an ID, a name, region/name) or, where the value is
    unknown until apply (the ID of a resource `pulumi preview` would create), by the resources the
    value was computed from: the engine's `propertyDependencies` of that property.
    """
    for link in links:
        named: set[str] = set()
        named_urns: set[tuple[str, str]] = set()
        unresolved = False
        for fact in resources:
            if fact["type"] != link["by"] or not fact["stack"]:
                continue
            value = fact["props"].get(link["property"])
            if value == UNKNOWN:
                sources = dependencies.get((fact["stack"], declared_urn(cast("ResourceFacts", fact))), {}).get(link["property"])
                urns = [u for u in sources if isinstance(u, str)] if isinstance(sources, list) else []
                named_urns.update((fact["stack"], u) for u in urns)
                # Unknown, and no dependency shows what it names: it may name any target.
                unresolved = unresolved or not urns
            elif isinstance(value, str) and value:
                named.add(value)
        for fact in resources:
            if fact["type"] != link["target"]:
                continue
            # A name unknown until apply names nothing (as an unknown ID): two unknowns are not one resource.
            names = set(_identities(fact)) | {v for v in (fact["props"].get("name"),) if isinstance(v, str) and v and v != UNKNOWN}
            names |= {f"{fact['locality'].get('region')}/{n}" for n in list(names)}
            names |= {n.rsplit("/", 1)[-1] for n in list(names)}
            by_urn = (fact["stack"], declared_urn(cast("ResourceFacts", fact))) in named_urns
            linked = bool(names & named) or by_urn
            fact.setdefault("linked", {})[link["fact"]] = linked or unresolved
            if unresolved and not linked:
                # Named perhaps, by a reference unknown until apply that no dependency explains: not
                # judged as linked nor as not.
                path = f"the {link['property']} of a {printable(link['by'])}"
                fact.setdefault("unknown", []).append({"path": path, "controls": list(link["controls"])})


def mark_foreign(resources: list[dict[str, Any]], strings: list[set[str]], shared_kinds: Mapping[str, str]) -> None:
    """Mark resources that own or use a network, database or server that another environment owns too."""
    owners: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for fact in resources:
        kind = shared_kinds.get(fact["type"])
        if kind is None:
            continue
        for identity in _identities(fact):
            owner = {"kind": kind, "stack": fact["stack"], "environment": fact["environment"], "urn": fact.get("recorded_of", fact["urn"])}
            if owner not in owners[identity]:
                owners[identity].append(owner)
    if not owners:
        return
    for fact, seen in zip(resources, strings):
        own = set(_identities(fact)) if fact["type"] in shared_kinds else set()
        foreign = {}
        for identity in (own | seen) & owners.keys():
            for owner in owners[identity]:
                if owner["environment"] != fact["environment"]:
                    foreign[(owner["kind"], owner["stack"], owner["urn"])] = owner
        fact["foreign"] = [foreign[k] for k in sorted(foreign)]
