"""policies/waivers.yaml: the waivers a DPO signed, read leniently per entry.

A malformed *entry* is not fatal: it covers nothing and becomes a finding of its own (DPA-WAI-002);
expiry (DPA-WAI-001) and breadth (DPA-WAI-003, a blanket waiver) are judged at evaluation time
against the run's date. A waiver file that is not a list of waivers is a PolicyError.

Governance (issue 22 §6): a waiver of a control that is mandatory in prod, and that can reach a stack
evaluated as prod, is an exception a DPO signs for. It must name one resource (no pattern in `urn`),
one stack (no pattern in `stack`), an approver, an approval date (`approved`), an expiry within one
year of approval and a `reference` (the ticket or document that records the decision); `compensating`
(the measures that keep the risk down meanwhile) is shown in every report. Such a waiver that does not
is refused, as a PolicyError (exit 2): it is never quietly dropped, nor allowed to waive. A waiver whose
stack pattern could match a prod stack counts as reaching prod. Waivers of advisory controls, and
waivers that name a dev or staging stack, keep the lenient rules above.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from dpaguard.errors import PolicyError
from dpaguard.model import Control, ControlId, Waiver
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
    control: str | None = None  # the control it names, when it names one as text


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
        named = entry["control"] if isinstance(entry.get("control"), str) else None

        def problem(message: str) -> None:
            problems.append(WaiverProblem(line, stack, message, named))

        # A blank approver (" ", or U+200B, U+3164, U+2800 alone) is no approver: text fields count as given
        # only with something visible in them.
        missing = [
            k for k in ("control", "urn", "stack", "reason", "approver", "expires")
            if not entry.get(k) or isinstance(entry[k], str) and is_blank(entry[k])
        ]
        if missing:
            problem(f"waiver at {path.name}:{line} lacks {', '.join(missing)}")
            continue
        texts = {k: entry[k] for k in ("control", "urn", "stack", "reason", "approver")}
        if not all(isinstance(v, str) for v in texts.values()):
            problem(f"waiver at {path.name}:{line}: control, urn, stack, reason and approver must be text")
            continue
        if entry["control"] not in control_ids:
            problem(f"waiver at {path.name}:{line} names unknown control {entry['control']}")
            continue
        expires = date_of(entry["expires"])
        if expires is None:
            problem(f"waiver at {path.name}:{line}: expires is not a date (YYYY-MM-DD)")
            continue
        unknown_keys = set(entry) - set(_KEYS)
        if unknown_keys:
            problem(f"waiver at {path.name}:{line}: unknown keys {sorted(unknown_keys)}")
            continue
        approved = date_of(entry["approved"]) if entry.get("approved") is not None else None
        if entry.get("approved") is not None and approved is None:
            problem(f"waiver at {path.name}:{line}: approved is not a date (YYYY-MM-DD)")
            continue
        optional = {k: entry.get(k) for k in ("reference", "compensating")}
        if any(v is not None and not isinstance(v, str) for v in optional.values()):
            problem(f"waiver at {path.name}:{line}: reference and compensating must be text")
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
                approved=approved,
                reference=_text(optional["reference"]),
                compensating=_text(optional["compensating"]),
            )
        )
    return tuple(waivers), lines, tuple(problems)


_KEYS = ("control", "urn", "stack", "reason", "approver", "expires", "approved", "reference", "compensating")
_PATTERN = frozenset("*?[")
# A finding about a repository file belongs to no stack: its waiver names the file and stack `*`.
_FILE_URN = "urn:dpaguard:file:"


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) and not is_blank(value) else ""


def one_year_after(day: dt.date) -> dt.date:
    """The same date a year later (29 February: 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def _reaches_prod(stack: str, environments: Mapping[str, str]) -> bool:
    """Whether a waiver's stack pattern can cover a prod stack: a pattern may (fail closed), a name when evaluated as prod."""
    if any(c in _PATTERN for c in stack):
        return True
    return any(environments.get(name) == "prod" for name in environments if fnmatch.fnmatchcase(name, stack))


def _mandatory_in_prod(control: Control | None, overrides: Mapping[str, str]) -> bool:
    if control is None:
        return True  # a control the catalogue lacks: nothing says it is not
    return overrides.get(str(control.id), control.enforcement_for("prod")) == "mandatory"


def ungoverned(waiver: Waiver, today: dt.date) -> list[str]:
    """What a waiver of a control mandatory in prod lacks (empty: it may waive in prod)."""
    lacks: list[str] = []
    file_urn = waiver.urn_pattern.startswith(_FILE_URN)
    if any(c in _PATTERN for c in waiver.urn_pattern):
        lacks.append(f"one resource (urn `{waiver.urn_pattern}` is a pattern)")
    if any(c in _PATTERN for c in waiver.stack) and not (file_urn and waiver.stack == "*"):
        lacks.append(f"one stack (stack `{waiver.stack}` is a pattern)")
    if waiver.approved is None:
        lacks.append("an approval date (approved: YYYY-MM-DD)")
    elif waiver.approved > today:
        lacks.append(f"an approval date not after the run's date (approved {waiver.approved.isoformat()})")
    elif waiver.expires > one_year_after(waiver.approved):
        lacks.append(f"an expiry within one year of approval (expires {waiver.expires.isoformat()}, "
                     f"approved {waiver.approved.isoformat()})")
    if not waiver.reference:
        lacks.append("a reference (the ticket or document of the approval)")
    return lacks


def check_governance(
    waivers: Sequence[Waiver],
    problems: Sequence[WaiverProblem],
    lines: Mapping[int, int],
    controls: Sequence[Control],
    environments: Mapping[str, str],
    *,
    today: dt.date,
    overrides: Mapping[str, str] | None = None,
    file_name: str = WAIVERS_FILE,
) -> None:
    """PolicyError (one line) when a waiver of a control mandatory in prod that reaches prod lacks what it must name.

    `environments`: each evaluated stack and the environment it was evaluated as. A malformed entry
    of such a waiver is refused too, with its own message: in prod it is never a mere finding.
    """
    by_id = {str(c.id): c for c in controls}
    levels = dict(overrides or {})
    refused: list[str] = []
    for index, waiver in enumerate(waivers):
        if waiver.expires < today:
            continue  # it covers nothing: DPA-WAI-001 reports it
        if not _mandatory_in_prod(by_id.get(str(waiver.control)), levels) or not _reaches_prod(waiver.stack, environments):
            continue
        lacks = ungoverned(waiver, today)
        if lacks:
            refused.append(f"waiver at {file_name}:{lines.get(index, 0)} for {waiver.control} on {waiver.urn_pattern} "
                           f"in stack {waiver.stack} waives a control mandatory in prod and lacks {'; '.join(lacks)}")
    for entry in problems:
        if entry.control is not None and entry.control in by_id and _mandatory_in_prod(by_id[entry.control], levels) \
                and _reaches_prod(entry.stack, environments):
            refused.append(f"{entry.message} (a waiver of {entry.control}, mandatory in prod)")
    if refused:
        more = f" (and {len(refused) - 1} more waiver(s) refused)" if len(refused) > 1 else ""
        raise PolicyError(refused[0] + more)
