"""Which resource properties the Rego policies read, found in their text, so the facts carry no others.

regopy converts the input node by node, and most properties of a resource (names, tags, ids) are
read by no rule: on a generated estate they were half the nodes. The policies are read here for
every way they name a property: `r.props.KEY`, `r.props["KEY"]`, `object.get(r.props, "KEY", d)`,
`r.props[k]` with `some k in ["KEY", ...]`, and helpers that take the property's name as an
argument (`facts.prop_or(r, "KEY", d)`), each of whose calls must then give a literal name. Any
other mention of `props` (a rule that walks them, passes them whole, or names them through a
variable) makes the answer None: every property is kept. Reading too few would hide a property
from a rule, so anything not understood keeps them all.
"""

from __future__ import annotations

import re
from typing import Mapping

# Comments out, strings kept (a `#` inside a string is text).
_COMMENT = re.compile(r'("(?:[^"\\\n]|\\.)*")|#[^\n]*')
# A top-level rule or function starts at column 0; its closing brace does not start a new one.
_RULE_START = re.compile(r"\n(?=[^\s}])")
_HEAD = re.compile(r"(\w+)\(([^()]*)\)\s*(?::=|if\b|\{)")
_LITERAL_LIST = re.compile(r'\bsome\s+(\w+)\s+in\s+\[\s*("\w+"(?:\s*,\s*"\w+")*)\s*,?\s*\]')
_BY_NAME = (
    re.compile(r'\.props\.(\w+)'),
    re.compile(r'\.props\[\s*"(\w+)"\s*\]'),
    re.compile(r'object\.get\(\s*[\w.\[\]]+\.props\s*,\s*"(\w+)"'),
)
# What is left of a rule once the reads above are taken out: `props` in code, or the key "props" itself
# (`object.get(r, "props", {})` outside a helper), is a use not understood; other strings are text.
_PROPS = re.compile(r'"props"|"(?:[^"\\\n]|\\.)*"|\bprops\b')


def _by_parameter(param: str) -> re.Pattern[str]:
    """A read of props whose key is the variable or parameter `param`."""
    return re.compile(
        rf'\.props\[\s*{param}\s*\]'
        rf'|object\.get\(\s*[\w.\[\]]+\.props\s*,\s*{param}\b'
        rf'|object\.get\(\s*object\.get\(\s*\w+\s*,\s*"props"\s*,\s*\{{\s*\}}\s*\)\s*,\s*{param}\b'
    )


def _arguments(text: str, start: int) -> list[str] | None:
    """The top-level arguments of the call whose `(` is at `start`, or None when it does not close."""
    depth = 0
    current: list[str] = []
    arguments: list[str] = []
    for position in range(start, len(text)):
        char = text[position]
        if char in "([{":
            depth += 1
            if depth == 1:
                continue
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                arguments.append("".join(current).strip())
                return arguments
        elif char == "," and depth == 1:
            arguments.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    return None


def rule_texts(module: str) -> list[str]:
    """A module's top-level rules and functions as text, comments left out (strings kept)."""
    return _RULE_START.split(_COMMENT.sub(lambda m: m.group(1) or "", module))


def props_read(modules: Mapping[str, str]) -> list[str] | None:
    """The property names the policies read from resources, sorted; None when they read props otherwise too."""
    rules = [rule for text in modules.values() for rule in rule_texts(text)]
    keys: set[str] = set()
    helpers: dict[str, int] = {}  # a function reading props by a parameter -> that parameter's position
    remaining: list[str] = []
    for rule in rules:
        head = _HEAD.match(rule)
        if head:
            for position, param in enumerate(p.strip() for p in head.group(2).split(",")):
                if param and _by_parameter(param).search(rule):
                    helpers[head.group(1)] = position
                    rule = _by_parameter(param).sub("", rule)
        for variable, literals in _LITERAL_LIST.findall(rule):
            pattern = _by_parameter(variable)
            if pattern.search(rule):
                keys.update(re.findall(r'"(\w+)"', literals))
                rule = pattern.sub("", rule)
        for pattern in _BY_NAME:
            keys.update(pattern.findall(rule))
            rule = pattern.sub("", rule)
        remaining.append(rule)
    if any(m.group(0) == '"props"' or not m.group(0).startswith('"') for rule in remaining for m in _PROPS.finditer(rule)):
        return None
    for name, position in helpers.items():
        for rule in rules:
            for call in re.finditer(rf"(?<![\w.])(?:\w+\.)?{name}\(", rule):
                if _HEAD.match(rule[call.start():]) and call.start() == 0:
                    continue  # the helper's own definition
                arguments = _arguments(rule, call.end() - 1)
                literal = re.fullmatch(r'"(\w+)"', arguments[position]) if arguments and len(arguments) > position else None
                if literal is None:
                    return None
                keys.add(literal.group(1))
    return sorted(keys)
