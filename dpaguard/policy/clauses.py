"""The clause ledger of policies/dpa/clauses.yaml: every DPA clause, its quote, evidence status, parts,
attestation and controls, and the sections shown apart from the DPA's clauses; read strictly (a fault is
a PolicyError naming the file and line). Re-exported by tables.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from dpaguard.errors import PolicyError
from dpaguard.model import CLAUSE_STATUSES, PART_EVIDENCE, Attestation, Clause, ClausePart, ControlId
from dpaguard.policy.yaml_lines import date_of, keyed_entries, read_yaml, require

_CLAUSE_KEYS = {"id", "title", "title_fr", "quote", "status", "controls", "note", "parts", "attested_by"}
_OUTSIDE_KEYS = {"id", "title", "title_fr", "status", "controls", "note", "parts"}
_PART_KEYS = {"part", "evidence", "controls", "why"}
_ATTESTATION_KEYS = ("document", "owner", "date", "reference")
OUTSIDE = "outside"  # clauses.yaml's list of what the report shows apart from the DPA's clauses


def _clause_parts(entry: Mapping[str, Any], listed: Sequence[str], control_ids: set[str], where: str,
                  what: str) -> tuple[ClausePart, ...]:
    """A clause's `parts`: each part of its promise, its evidence and its controls (or why none shows it).

    Every control the clause lists belongs to a part, and a part's controls are the clause's: a
    reviewer reads which part of the quote each control shows, and what no control shows.
    """
    raw = entry.get("parts")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise PolicyError(f"{where}: {what}: `parts` must be a non-empty list")
    parts: list[ClausePart] = []
    for item in raw:
        if not isinstance(item, dict) or set(item) - _PART_KEYS or not isinstance(item.get("part"), str):
            raise PolicyError(f"{where}: {what}: a part has `part`, `evidence`, and `controls` or `why`")
        evidence = item.get("evidence")
        if evidence not in PART_EVIDENCE:
            raise PolicyError(f"{where}: {what}: part `{item['part']}`: evidence is one of {list(PART_EVIDENCE)}")
        controls = item.get("controls") or []
        if not isinstance(controls, list) or not all(isinstance(c, str) for c in controls):
            raise PolicyError(f"{where}: {what}: part `{item['part']}`: `controls` must be a list of control ids")
        stray = [c for c in controls if c not in listed or c not in control_ids]
        if stray:
            raise PolicyError(f"{where}: {what}: part `{item['part']}`: controls {stray} are not the clause's")
        shown = evidence not in ("organisational", "not-covered")
        if shown != bool(controls):
            raise PolicyError(f"{where}: {what}: part `{item['part']}`: {evidence} evidence "
                              + ("needs controls" if shown else "has no controls, only `why`"))
        why = " ".join(str(item.get("why") or "").split())
        if not shown and not why:
            raise PolicyError(f"{where}: {what}: part `{item['part']}`: say `why` no control shows it")
        parts.append(ClausePart(" ".join(item["part"].split()), evidence, tuple(ControlId(c) for c in controls), why))
    unplaced = [c for c in listed if not any(c in p.controls for p in parts)]
    if unplaced:
        raise PolicyError(f"{where}: {what}: controls {unplaced} belong to no part")
    return tuple(parts)


def _attestation(entry: Mapping[str, Any], status: str, parts: Sequence[ClausePart], where: str,
                 what: str) -> Attestation | None:
    """A clause's `attested_by`: the document a person keeps for what only a person can attest.

    Only a clause that is organisational, or has an organisational part, may cite one; each of its
    four fields is required and the date is a date. A malformed attestation is a load error, never an
    attestation the report shows in part.
    """
    raw = entry.get("attested_by")
    if raw is None:
        return None
    if status != "organisational" and not any(p.evidence == "organisational" for p in parts):
        raise PolicyError(f"{where}: {what}: `attested_by` is for a clause only a person can attest "
                          "(status organisational, or an organisational part)")
    if not isinstance(raw, dict) or set(raw) != set(_ATTESTATION_KEYS):
        raise PolicyError(f"{where}: {what}: `attested_by` gives exactly {list(_ATTESTATION_KEYS)}")
    date = date_of(raw["date"])
    if date is None or isinstance(raw["date"], str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw["date"]):
        raise PolicyError(f"{where}: {what}: `attested_by.date` must be a date (YYYY-MM-DD)")
    text = {key: " ".join(str(raw[key]).split()) if isinstance(raw[key], str) else "" for key in ("document", "owner", "reference")}
    empty = [key for key, value in text.items() if not value]
    if empty:
        raise PolicyError(f"{where}: {what}: `attested_by` needs a non-empty {', '.join(empty)}")
    return Attestation(document=text["document"], owner=text["owner"], date=date.isoformat(), reference=text["reference"])


def _checked_controls(entry: Mapping[str, Any], status: str, control_ids: set[str], path: Path, where: str,
                      what: str) -> list[str]:
    controls = require(entry, "controls", list, path, what)
    if not all(isinstance(c, str) for c in controls):
        raise PolicyError(f"{where}: {what}: `controls` must be a list of control ids")
    unknown = [c for c in controls if c not in control_ids]
    if unknown:
        raise PolicyError(f"{where}: {what}: controls {unknown} are not in the catalogue")
    if status in ("organisational", "not-covered") and controls:
        raise PolicyError(f"{where}: {what}: a clause whose status is {status} has no controls")
    if status not in ("organisational", "not-covered") and not controls:
        raise PolicyError(f"{where}: {what}: a clause whose status is {status} needs the controls that show it")
    return list(controls)


def _outside(document: Any, path: Path, control_ids: set[str], clause_ids: set[str]) -> list[Clause]:
    """clauses.yaml `outside`: the sections the report shows apart from the DPA's clauses, each saying why."""
    if not isinstance(document, dict) or document.get(OUTSIDE) is None:
        return []
    sections: list[Clause] = []
    for entry, section_id, what, where in keyed_entries(document, OUTSIDE, path, "section", "id"):
        unknown_keys = set(entry) - _OUTSIDE_KEYS
        if unknown_keys:
            raise PolicyError(f"{where}: {what}: unknown keys {sorted(unknown_keys)}")
        if section_id in clause_ids or section_id.startswith(("Article ", "Appendix ")):
            raise PolicyError(f"{where}: {what}: a section outside the DPA's clauses is not named like one")
        status = require(entry, "status", str, path, what)
        if status not in ("verified-deployed", "verified-code", "declared"):
            raise PolicyError(f"{where}: {what}: status is verified-deployed, verified-code or declared")
        controls = _checked_controls(entry, status, control_ids, path, where, what)
        note = " ".join(str(entry.get("note") or "").split())
        if not note:
            raise PolicyError(f"{where}: {what}: `note` says why it is not a clause of the DPA")
        sections.append(Clause(
            id=section_id, title=require(entry, "title", str, path, what), quote="", status=status,
            controls=tuple(ControlId(c) for c in controls), title_fr=str(entry.get("title_fr") or ""), note=note,
            parts=_clause_parts(entry, controls, control_ids, where, what), outside=True))
    return sections


def load_clauses(path: Path, control_ids: set[str]) -> tuple[Clause, ...]:
    """The clause ledger: every DPA clause, its quote, its evidence status and the controls enforcing it.

    A missing file is an empty ledger (a policy set of one's own need not map the DPA); a present one
    is validated: known statuses, controls of the catalogue, and none for a clause the gate cannot show.
    Its `outside` sections (the gate's own integrity, inventory aids) follow the clauses, marked `outside`.
    """
    if not path.exists():
        return ()
    document = read_yaml(path)
    clauses: list[Clause] = []
    for entry, clause_id, what, where in keyed_entries(document, "clauses", path, "clause", "id"):
        unknown_keys = set(entry) - _CLAUSE_KEYS
        if unknown_keys:
            raise PolicyError(f"{where}: {what}: unknown keys {sorted(unknown_keys)}")
        status = require(entry, "status", str, path, what)
        if status not in CLAUSE_STATUSES:
            raise PolicyError(f"{where}: {what}: status `{status}` is not one of {list(CLAUSE_STATUSES)}")
        controls = _checked_controls(entry, status, control_ids, path, where, what)
        quote = require(entry, "quote", str, path, what)
        if not quote.strip():
            raise PolicyError(f"{where}: {what}: `quote` is empty")
        parts = _clause_parts(entry, controls, control_ids, where, what)
        clauses.append(
            Clause(
                id=clause_id,
                title=require(entry, "title", str, path, what),
                quote=" ".join(quote.split()),
                status=status,
                controls=tuple(ControlId(c) for c in controls),
                title_fr=str(entry.get("title_fr") or ""),
                note=" ".join(str(entry.get("note") or "").split()),
                parts=parts,
                attestation=_attestation(entry, status, parts, where, what),
            )
        )
    clauses += _outside(document, path, control_ids, {c.id for c in clauses})
    return tuple(clauses)
