"""The Rego modules of policies/rego/ read as a reviewer would: which controls a rule reachable from the
entry package emits. Whether they compile is the engine's to say (dpaguard/engine/compile.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

from dpaguard.errors import PolicyError
from dpaguard.model import Control, ControlId
from dpaguard.policy.tables import REGO

# The package every engine queries (DECISIONS_QUERY): a control is evaluated only by a rule reachable from it.
ENTRY_PACKAGE = "dpaguard.main"


# A Rego string ("..." or `...`) or comment; comments are dropped, control ids are read in strings only.
_REGO_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`|#[^\n]*')
_CONTROL_LITERAL = re.compile(r"DPA-[A-Z]{2,5}-\d{3}")
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.M)
_IMPORT = re.compile(r"^import\s+data\.([\w.]+)(?:\s+as\s+(\w+))?[ \t]*$", re.M)
_DECISIONS_REF = re.compile(r"(?<![\w.])((?:data\.)?[\w.]+?)\.decisions\b")


def _rego_parts(text: str) -> tuple[str, list[str]]:
    """A module's text without comments (strings blanked), and its string literals."""
    strings: list[str] = []

    def keep(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("#"):
            return ""
        strings.append(token[1:-1])
        return '""'

    return _REGO_TOKEN.sub(keep, text), strings


def _decisions_rules(code: str) -> str:
    """The text of a module's `decisions` rules and of the rules and functions they use, transitively.

    A rule is a top-level statement: from a line starting with its name to the next line starting
    at column 0 with anything but a closing bracket.
    """
    rules: dict[str, list[str]] = {}
    name = ""
    for line in code.splitlines():
        if line[:1] not in ("", " ", "\t", "}", ")", "]"):
            match = re.match(r"(?:default\s+)?([A-Za-z_]\w*)", line)
            name = match.group(1) if match and match.group(1) not in ("package", "import") else ""
        if name:
            rules.setdefault(name, []).append(line)
    kept: list[str] = []
    pending, seen = ["decisions"], set()
    while pending:
        rule = pending.pop()
        if rule in seen or rule not in rules:
            continue
        seen.add(rule)
        text = "\n".join(rules[rule])
        kept.append(text)
        pending.extend(re.findall(r"(?<![\w.])[A-Za-z_]\w*", text))
    return "\n".join(kept)


def rego_evaluated_controls(modules: Mapping[str, str]) -> tuple[frozenset[str], frozenset[str]]:
    """(packages reachable from the entry package's decisions, control ids named in their modules).

    A package is reachable when a `decisions` rule of the entry package (or of a package reachable
    from it) refers to its `decisions`; a control is evaluated when a string literal in a reachable
    package's modules names it. Comments (the METADATA blocks) do not count.
    """
    packages: dict[str, list[tuple[str, list[str]]]] = {}
    for text in modules.values():
        code, strings = _rego_parts(text)
        match = _PACKAGE.search(code)
        if match:
            packages.setdefault(match.group(1), []).append((code, strings))
    reachable: set[str] = set()
    pending = [ENTRY_PACKAGE] if ENTRY_PACKAGE in packages else []
    while pending:
        package = pending.pop()
        if package in reachable:
            continue
        reachable.add(package)
        for code, _ in packages.get(package, ()):
            aliases = {alias or path.rsplit(".", 1)[-1]: path for path, alias in _IMPORT.findall(code)}
            for ref in _DECISIONS_REF.findall(_decisions_rules(code)):
                head, _, rest = ref.partition(".")
                if head == "data":
                    target = rest
                else:
                    target = aliases.get(head, "") + (f".{rest}" if rest else "")
                if target in packages:
                    pending.append(target)
    named = {
        control
        for package in reachable
        for _, strings in packages.get(package, ())
        for text in strings
        for control in _CONTROL_LITERAL.findall(text)
    }
    return frozenset(reachable), frozenset(named)


def evaluated_controls(
    controls: tuple[Control, ...], evaluators: Mapping[ControlId, str], modules: Mapping[str, str], root: Path
) -> frozenset[ControlId]:
    """The controls something evaluates; PolicyError naming every Rego control no reachable rule emits."""
    reachable, named = rego_evaluated_controls(modules)
    if ENTRY_PACKAGE not in reachable:
        raise PolicyError(f"{root}/rego: no module of package {ENTRY_PACKAGE} (the decisions every engine queries)")
    missing = [c.id for c in controls if evaluators[c.id] == REGO and c.id not in named]
    if missing:
        raise PolicyError(
            f"{root}/dpa/controls.yaml: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} evaluated by no Rego rule "
            f"reachable from data.{ENTRY_PACKAGE}.decisions (a rule removed, or a package left out of main.rego)",
            hint="add the rule, or set evaluated_by in the catalogue",
        )
    return frozenset(c.id for c in controls if evaluators[c.id] != REGO or c.id in named)
