"""The index of the facts: resource positions grouped by the values rules test, so a rule visits only the resources it judges.

Built by the normaliser over every resource, and again by the engines over each part of an input
they split (dpaguard/engine/shaping.py). The judgement (which values are wrong) stays in Rego.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from typing import Any, Mapping, Sequence

from dpaguard.markers import UNKNOWN


def _group(groups: dict[str, Any], keys: Sequence[str], position: int) -> None:
    for key in keys[:-1]:
        groups = groups.setdefault(key, {})
    groups.setdefault(keys[-1], []).append(position)


# Resources of a type grouped by every fact their rules read, name -> (type, facts, props): a rule
# over a group judges each distinct group once and visits only the resources of a group it rejects
# (thousands of buckets share a handful of retention set-ups). A group holds those facts and props
# when the resource has them, and `positions`. Rules over a group read nothing else of it:
# tests/policies/test_rego_shapes.py reads the Rego to hold them to this table.
SHAPES: Mapping[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "bucket": ("scaleway:object/bucket:Bucket", ("stack", "data_category", "tags_unknown"), ("lifecycleRules", "versioning")),
}
_SHAPE_OF_TYPE = {type_token: (name, fact_keys, prop_keys) for name, (type_token, fact_keys, prop_keys) in SHAPES.items()}
SHAPE_PROPS = frozenset(key for _, _, prop_keys in SHAPES.values() for key in prop_keys)


def _shape(fact: Mapping[str, Any], fact_keys: Sequence[str], prop_keys: Sequence[str]) -> dict[str, Any]:
    props = fact.get("props") or {}
    shape = {key: fact[key] for key in fact_keys if key in fact}
    shape["props"] = {key: props[key] for key in prop_keys if key in props}
    return shape


def _env_tag_key(tag: Mapping[str, Any] | None) -> str:
    """The index key of an environment tag: the environment it names, else its text, "" when there is none."""
    if not tag:
        return ""
    return str(tag["environment"] or tag["value"] or "(empty)")


def build_index(resources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Positions of resources grouped by the values rules test, so a rule visits only the resources it judges.

    regopy pays tens of microseconds per resource a rule body visits. A rule over every resource
    ("is the region approved?") iterates the handful of distinct values instead, and visits only
    the resources holding a value it rejects. The judgement (which values are wrong) stays in Rego.
    """
    index: dict[str, Any] = {
        "package": {},
        "type": {},
        "locality": {},  # scope -> status -> value -> positions ("" when unknown or missing)
        "project": {},  # stack -> status -> value -> positions (resources that take a project)
        "env_tag": {},  # stack -> environment the tag names (its text when it names none, "" when missing) -> positions
        "subprocessor_country": {},  # sub-processor -> country -> positions
        "outside_scope": {},  # sub-processor -> type -> positions of resources outside its registered service
        "data_category": {},  # declared data category -> positions
        "plaintext": [],  # positions of resources holding a sensitive value in plaintext
        "malformed": [],  # positions of resources holding a property value of the wrong type
        "unknown": [],  # positions of resources holding a value a rule reads that is unknown until apply
        "foreign": [],  # positions of resources sharing something with another environment
        "shape": {name: [] for name in SHAPES},  # shape name -> groups (see SHAPES)
    }
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for position, fact in enumerate(resources):
        # A resource the program only reads (`.get()`) is another stack's: no rule of its type (its
        # posture) visits it, nor do its unknown or malformed properties; its place, provider and sharing do.
        read = bool(fact.get("read"))
        shaped = None if read else _SHAPE_OF_TYPE.get(fact["type"])
        if shaped is not None:
            shape = _shape(fact, shaped[1], shaped[2])
            key = (shaped[0], json.dumps(shape, sort_keys=True, default=repr))
            group = groups.get(key)
            if group is None:
                group = groups[key] = {**shape, "positions": []}
                index["shape"][shaped[0]].append(group)
            group["positions"].append(position)
        _group(index, ("package", fact["package"]), position)
        if not read:
            _group(index, ("type", fact["type"]), position)
        locality = fact["locality"]
        if locality["scope"] != "none":
            value = locality[locality["scope"]] if locality["status"] == "known" else ""
            _group(index, ("locality", locality["scope"], locality["status"], str(value)), position)
        project = fact["project"]
        if project["expected"]:
            value = project["value"] if project["status"] == "known" else ""
            _group(index, ("project", fact["stack"], project["status"], str(value)), position)
        # Tags unknown until apply, or an environment tag whose value is, are undetermined (properties.yaml tags), not judged here.
        if fact.get("taggable") and not fact.get("tags_unknown") and (fact.get("env_tag") or {}).get("value") != UNKNOWN:
            _group(index, ("env_tag", fact["stack"], _env_tag_key(fact.get("env_tag"))), position)
        if fact.get("subprocessor") and fact.get("country"):
            _group(index, ("subprocessor_country", fact["subprocessor"], fact["country"]), position)
        if fact.get("data_category"):
            _group(index, ("data_category", str(fact["data_category"])), position)
        if fact.get("outside_scope"):
            _group(index, ("outside_scope", fact["subprocessor"], fact["type"]), position)
        if fact.get("plaintext_paths"):
            index["plaintext"].append(position)
        if fact.get("malformed") and not read:
            index["malformed"].append(position)
        if fact.get("unknown") and not read:
            index["unknown"].append(position)
        if fact.get("foreign"):
            index["foreign"].append(position)
    return index


def index_part(index: Mapping[str, Any], start: int, stop: int) -> dict[str, Any]:
    """build_index of resources `start` to `stop`, cut out of the index of them all (positions counted from `start`).

    A resource's place in the index depends on its own facts only, so the part's index is the whole
    one's positions in that range, without the groups left empty; a shape's groups in the order of
    their first resource in the part, as build_index makes them.
    """
    part: dict[str, Any] = {}
    for key, value in index.items():
        if key == "shape":
            part[key] = {name: _groups_part(groups, start, stop) for name, groups in value.items()}
        else:
            part[key] = _positions_part(value, start, stop)
    return part


def _positions_part(value: Any, start: int, stop: int) -> Any:
    if isinstance(value, list):  # positions, ascending
        return [position - start for position in value[bisect_left(value, start) : bisect_left(value, stop)]]
    part = {}
    for key, inner in value.items():
        kept = _positions_part(inner, start, stop)
        if kept:
            part[key] = kept
    return part


def _groups_part(groups: Sequence[Mapping[str, Any]], start: int, stop: int) -> list[dict[str, Any]]:
    part = []
    for group in groups:
        positions = _positions_part(group["positions"], start, stop)
        if positions:
            part.append({**group, "positions": positions})
    part.sort(key=lambda group: group["positions"][0])
    return part
