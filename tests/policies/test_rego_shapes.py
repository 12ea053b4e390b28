"""Rules over grouped resources (normaliser SHAPES) read only what a group holds.

A group carries a few facts and props of its resources; a rule that read anything else of it would
see it undefined and stay silent: a missed violation. The Rego is read here to hold every rule
that iterates `input.index.shape.<name>` (or a name bound to it) to the table, and the index is
checked to group exactly the resources that agree on those facts.
"""

from __future__ import annotations

import re
from typing import Any

from support import POLICIES
from dpaguard.engine.index import SHAPES, build_index
from dpaguard.policy import load_policy
from dpaguard.engine.rego_props import rule_texts

_ALIAS = re.compile(r"^(_\w+)\s*:=\s*input\.index\.shape\.(\w+)\s*$", re.MULTILINE)


def shape_misreads(text: str) -> list[str]:
    """Every read of a group that its shape does not hold, as `<shape>: <expression>`."""
    sources = {f"input.index.shape.{name}": name for name in SHAPES}
    sources.update({alias: name for alias, name in _ALIAS.findall(text)})
    rules = rule_texts(text)
    problems = []
    for rule in rules:
        for source, shape in sources.items():
            for match in re.finditer(r"\bsome\s+(?:\w+\s*,\s*)?(\w+)\s+in\s+" + re.escape(source) + r"\b(?!\[)", rule):
                problems += _misreads(rule, match.group(1), shape, rules)
    return problems


def _misreads(rule: str, var: str, shape: str, rules: list[str]) -> list[str]:
    _, fact_keys, prop_keys = SHAPES[shape]
    problems = []
    for match in re.finditer(rf"\b{var}\b(\.\w+)?(\.\w+|\[)?", rule):
        first, second = match.group(1), match.group(2)
        if first is None:
            if not re.match(rf"\s+in\b", rule[match.end():]):  # not the binding `some k, g in ...`
                problems.append(f"{shape}: `{var}` used whole (pass its values, and read only the shape's)")
        elif first == ".positions":
            continue
        elif first == ".props" and second is None:
            problems += [f"{shape}: {problem}" for problem in _props_passed(rule, match.start(), prop_keys, rules)]
        elif first == ".props":
            if second == "[" or second[1:] not in prop_keys:
                problems.append(f"{shape}: {var}.props{second} is not a prop the shape holds")
        elif first[1:] not in fact_keys:
            problems.append(f"{shape}: {var}{first} is not a fact the shape holds")
    return problems


def _props_passed(rule: str, at: int, prop_keys: tuple[str, ...], rules: list[str]) -> list[str]:
    """`g.props` as an argument: object.get with a key of the shape, or a helper that reads only such keys."""
    depth, position = 0, at - 1
    while position >= 0 and not (rule[position] == "(" and depth == 0):
        depth += {")": 1, "(": -1}.get(rule[position], 0)
        position -= 1
    call = re.search(r"([\w.]+)\s*$", rule[:position]) if position >= 0 else None
    if call is None:
        return ["props used whole outside a call"]
    name, argument = call.group(1), rule[position + 1:at].count(",")
    if name == "object.get":
        literal = re.match(r'\w+\.props\s*,\s*"(\w+)"', rule[at:])
        if literal and literal.group(1) in prop_keys:
            return []
        return [f"object.get(...props, {rule[at:].split(',')[1].strip()}) is not a prop the shape holds"]
    definitions = [r for r in rules if re.match(rf"{re.escape(name)}\(", r)]
    if not definitions:
        return [f"props passed to {name}(), which this module does not define"]
    problems = []
    for definition in definitions:
        close = definition.index(")")
        param = [p.strip() for p in definition[len(name) + 1:close].split(",")][argument]
        body = definition[close:]
        for read in re.finditer(rf"\b{param}\b(\.\w+|\[)?", body):
            member = read.group(1)
            if member is None:
                got = re.search(r"object\.get\(\s*$", body[:read.start()])
                literal = re.match(r'\s*,\s*"(\w+)"', body[read.end():])
                if got and literal and literal.group(1) in prop_keys:
                    continue
            elif member != "[" and member[1:] in prop_keys:
                continue
            problems.append(f"{name}() reads {param}{member or ''} beyond the shape's props {list(prop_keys)}")
    return problems


def test_rules_over_groups_read_only_what_the_group_holds() -> None:
    policy = load_policy(POLICIES)
    readers = [path for path, text in policy.rego_modules.items() if "input.index.shape." in text]
    assert readers, "no module reads a shape: the check below would check nothing"
    problems = [f"{path}: {problem}" for path, text in policy.rego_modules.items() for problem in shape_misreads(text)]
    assert problems == []


def test_the_check_catches_a_rule_reading_what_a_group_lacks() -> None:
    rule = """
_buckets := input.index.shape.bucket

_judged contains [k, "X", "violation", "m"] if {
	some k, g in _buckets
	g.tags.env == "prod"
	g.props.acl == "public-read"
	object.get(g.props, "corsRules", []) == []
	_helper(g)
	_reads_props(g.props)
	count(_expirations(g.props)) == 0
	g.props.versioning.enabled == true
	g.data_category
}

_reads_props(props) if props.website

_expirations(props) := [days | some rule in object.get(props, "lifecycleRules", []); days := rule.expiration.days]
"""
    problems = shape_misreads(rule)
    assert len(problems) == 5, problems
    assert any("g.tags" in p for p in problems) and any(".acl" in p for p in problems)
    assert any("corsRules" in p for p in problems) and any("used whole" in p for p in problems)
    assert any("_reads_props() reads props.website" in p for p in problems)


def _bucket(name: str, stack: str = "prod", **props: Any) -> dict[str, Any]:
    return {"urn": f"urn:{name}", "type": SHAPES["bucket"][0], "package": "scaleway", "stack": stack, "data_category": "call-logs",
            "locality": {"scope": "none"}, "project": {"expected": False}, "props": {"name": name, **props}}


def test_the_index_groups_resources_that_agree_on_the_shape() -> None:
    rules = [{"enabled": True, "expiration": {"days": 365}}]
    resources = [
        _bucket("a", lifecycleRules=rules, versioning={"enabled": True}),
        {"urn": "urn:net", "type": "scaleway:network/vpc:Vpc", "package": "scaleway", "stack": "prod",
         "locality": {"scope": "none"}, "project": {"expected": False}, "props": {}},
        _bucket("b", lifecycleRules=rules, versioning={"enabled": True}, acl="private"),  # a prop the shape ignores
        _bucket("c", lifecycleRules=[{"enabled": True, "expiration": {"days": 30}}], versioning={"enabled": True}),
        _bucket("d", stack="dev", lifecycleRules=rules, versioning={"enabled": True}),
        _bucket("e"),
    ]
    groups = build_index(resources)["shape"]["bucket"]
    assert [g["positions"] for g in groups] == [[0, 2], [3], [4], [5]]
    assert groups[0] == {"stack": "prod", "data_category": "call-logs", "positions": [0, 2],
                         "props": {"lifecycleRules": rules, "versioning": {"enabled": True}}}
    assert groups[3]["props"] == {} and "tags_unknown" not in groups[3]
