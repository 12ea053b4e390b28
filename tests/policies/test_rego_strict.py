"""What `opa check --strict` refuses, checked here since the in-process OPA compiles without strict mode:
a function argument its body never uses, an import nothing uses, a keyword used as a name."""

from __future__ import annotations

import re

import pytest

from support import POLICIES
from dpaguard.policy import load_policy, test_modules
from dpaguard.engine.rego_props import rule_texts

# Comments and strings out: a name inside either is no use of it.
_NOISE = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`|#[^\n]*')
_FUNCTION_HEAD = re.compile(r"^(\w+)\(([^()]*)\)\s*(?::=|if\b|\{|=)")
_IMPORT = re.compile(r"^import\s+(data\.[\w.]+)(?:\s+as\s+(\w+))?\s*$", re.MULTILINE)
KEYWORDS = ("package", "import", "every", "contains", "if", "in", "some", "not", "with", "as", "default", "else")
_KEYWORD_AS_NAME = re.compile(rf"\bsome\s+(?:\w+\s*,\s*)?({'|'.join(KEYWORDS)})\b|\b({'|'.join(KEYWORDS)})\s*:=")


def _modules() -> dict[str, str]:
    return {**load_policy(POLICIES).rego_modules, **test_modules(POLICIES)}


def unused_arguments(module: str) -> list[str]:
    """`function(arg)` where arg appears nowhere in that definition's body."""
    found = []
    for rule in rule_texts(_NOISE.sub('""', module)):
        head = _FUNCTION_HEAD.match(rule)
        if head is None:
            continue
        body = rule[head.end():]
        for arg in (a.strip() for a in head.group(2).split(",")):
            if re.fullmatch(r"[A-Za-z]\w*", arg) and not re.search(rf"\b{arg}\b", body):
                found.append(f"{head.group(1)}({arg})")
    return found


def unused_imports(module: str) -> list[str]:
    """`import data.a.b` whose name (b, or its alias) the module never uses."""
    code = _NOISE.sub('""', module)
    without_imports = _IMPORT.sub("", code)
    return [path for path, alias in _IMPORT.findall(code) if not re.search(rf"\b{alias or path.rsplit('.', 1)[1]}\.", without_imports)]


@pytest.mark.parametrize("name", sorted(_modules()))
def test_no_unused_argument_import_or_keyword_name(name: str) -> None:
    module = _modules()[name]
    assert unused_arguments(module) == []
    assert unused_imports(module) == []
    assert not _KEYWORD_AS_NAME.search(_NOISE.sub('""', module))


def test_the_checks_can_fail() -> None:
    assert unused_arguments('f(a, b) := a if {\n\ttrue\n}\n') == ["f(b)"]
    assert unused_imports('package x\n\nimport data.dpaguard.lib.facts\nimport data.dpaguard.lib.result\n\nd := result.violation(1, 2, 3)\n') == ["data.dpaguard.lib.facts"]
    assert _KEYWORD_AS_NAME.search("\tsome package, positions in input.index.package")
