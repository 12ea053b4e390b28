"""policies/waivers.yaml: the waivers a DPO signed, read leniently per entry.

A malformed *entry* is not fatal: it covers nothing and becomes a finding of its own (DPA-WAI-002);
expiry (DPA-WAI-001) and breadth (DPA-WAI-003, a blanket waiver) are judged at evaluation time
against the run's date. A waiver file that is not a list of waivers is a PolicyError.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from dpaguard.errors import PolicyError
from dpaguard.model import ControlId, Waiver
from dpaguard.policy.yaml_lines import date_of, line_of, located, read_yaml

WAIVERS_FILE = "waivers.yaml"
WAIVER_EXPIRED: ControlId = ControlId("DPA-WAI-001")
WAIVER_MALFORMED: ControlId = ControlId("DPA-WAI-002")
WAIVER_BLANKET: ControlId = ControlId("DPA-WAI-003")
# How far ahead a waiver may expire before it is reported as a blanket waiver, when settings.yaml does not say.
DEFAULT_WAIVER_MAX_DAYS = 365


# Characters that draw nothing yet are letters or symbols to Unicode: the Hangul fillers and the blank
# Braille pattern. An approver spelt with them alone looks like a name in a diff and names nobody.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Unicode categories that draw nothing by themselves: controls, format characters (U+200B, U+2060, U+FEFF),
# surrogates, private use, unassigned, separators (every space), and marks without a letter to sit on.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})


def is_blank(text: str) -> bool:
    """Whether a text shows nothing a reader could take for a name: empty, spaces, or invisible characters only."""
    return not any(
        char not in _BLANK_LOOKING and unicodedata.category(char) not in _INVISIBLE_CATEGORIES and not char.isspace()
        for char in text
    )


@dataclass(frozen=True)
class WaiverProblem:
    """A waiver entry that covers nothing because it is malformed (becomes a DPA-WAI-002 finding)."""

    line: int
    stack: str  # the stack pattern it names, "*" when it names none
    message: str


def load_waivers(path: Path, control_ids: set[str]) -> tuple[tuple[Waiver, ...], dict[int, int], tuple[WaiverProblem, ...]]:
    document = read_yaml(path, required=False)
    if document is None:
        return (), {}, ()
    if not isinstance(document, dict) or not isinstance(document.get("waivers", []), list):
        raise PolicyError(f"{located(path, line_of(document))}: expected `waivers:` with a list of waivers")
    waivers: list[Waiver] = []
    lines: dict[int, int] = {}
    problems: list[WaiverProblem] = []
    for entry in document.get("waivers") or []:
        line = line_of(entry) or 0
        stack = str(entry["stack"]) if isinstance(entry, dict) and isinstance(entry.get("stack"), str) else "*"
        if not isinstance(entry, dict):
            problems.append(WaiverProblem(line, "*", f"waiver at {path.name}:{line} is not a mapping"))
            continue
        # A blank approver (" ", or U+200B, U+3164, U+2800 alone) is no approver: text fields count as given
        # only with something visible in them.
        missing = [
            k for k in ("control", "urn", "stack", "reason", "approver", "expires")
            if not entry.get(k) or isinstance(entry[k], str) and is_blank(entry[k])
        ]
        if missing:
            problems.append(WaiverProblem(line, stack, f"waiver at {path.name}:{line} lacks {', '.join(missing)}"))
            continue
        texts = {k: entry[k] for k in ("control", "urn", "stack", "reason", "approver")}
        if not all(isinstance(v, str) for v in texts.values()):
            problems.append(WaiverProblem(line, stack, f"waiver at {path.name}:{line}: control, urn, stack, reason and approver must be text"))
            continue
        if entry["control"] not in control_ids:
            problems.append(WaiverProblem(line, stack, f"waiver at {path.name}:{line} names unknown control {entry['control']}"))
            continue
        expires = date_of(entry["expires"])
        if expires is None:
            problems.append(WaiverProblem(line, stack, f"waiver at {path.name}:{line}: expires is not a date (YYYY-MM-DD)"))
            continue
        unknown_keys = set(entry) - {"control", "urn", "stack", "reason", "approver", "expires"}
        if unknown_keys:
            problems.append(WaiverProblem(line, stack, f"waiver at {path.name}:{line}: unknown keys {sorted(unknown_keys)}"))
            continue
        lines[len(waivers)] = line
        waivers.append(
            Waiver(
                control=ControlId(entry["control"]),
                urn_pattern=entry["urn"],
                stack=entry["stack"],
                reason=entry["reason"],
                approver=entry["approver"],
                expires=expires,
            )
        )
    return tuple(waivers), lines, tuple(problems)
