"""The top-level statements of Rego modules, with the METADATA comments above them and the controls
they emit: read by the metadata test and the Rego unit tests."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple


_STRING_OR_COMMENT = re.compile(r'("(?:[^"\\\n]|\\.)*"|`[^`]*`)|#[^\n]*')
_EMITTED = (
    re.compile(r'\bresult\.(?:violation|undetermined|decision|config_violation)\(\s*"(DPA-[A-Z]+-\d+)"'),
    re.compile(r'^_judged\s+contains\s+\[\s*\w+\s*,\s*"(DPA-[A-Z]+-\d+)"'),
)
CONTROL_LITERAL = re.compile(r'"(DPA-[A-Z]+-\d+)"')
DECISION_HEAD = re.compile(r"^(decisions|_judged)\s+contains\b")
PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
# A `test_` rule of a `_test.rego` file, as `opa test` finds it.
TEST_RULE = re.compile(r"^(test_\w+)\s+if\b", re.MULTILINE)


class Statement(NamedTuple):
    """A top-level rule of a module: where it starts, its text without comments, and its METADATA block (YAML lines) if any."""

    path: str
    line: int
    code: str
    metadata: tuple[str, ...] | None

    @property
    def where(self) -> str:
        """`file:line` of the rule's head."""
        return f"{self.path}:{self.line}"

    @property
    def emitted(self) -> set[str]:
        """The control ids the rule's body puts into its decisions, as literals."""
        return {found for pattern in _EMITTED for found in pattern.findall(self.code)}


def _code(text: str) -> str:
    return _STRING_OR_COMMENT.sub(lambda match: match.group(1) or "", text)


def statements(path: str, module: str) -> list[Statement]:
    """The module's top-level statements after `package` and imports, each with the METADATA block just above it."""
    lines = module.splitlines()
    starts = [
        n for n, line in enumerate(lines) if line and not line[0].isspace() and line[0] not in "#})]" and not line.startswith(("package ", "import "))
    ]
    found = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(lines)
        comments = start
        while comments > 0 and lines[comments - 1].startswith("#"):
            comments -= 1
        block = lines[comments:start]
        metadata = None
        if "# METADATA" in block:
            first = len(block) - 1 - block[::-1].index("# METADATA")
            metadata = tuple(line[2:] if line.startswith("# ") else line[1:] for line in block[first + 1 :])
        body = "\n".join(line for line in lines[start:end])
        found.append(Statement(path, start + 1, _code(body).strip(), metadata))
    return found


def policy_statements(modules: Mapping[str, str]) -> list[Statement]:
    """Every top-level statement of every policy module."""
    return [statement for path, text in sorted(modules.items()) for statement in statements(path, text)]
