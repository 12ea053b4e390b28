"""JSON output: the stable, documented document other tools read (docs/reports.md, "The JSON report"), built here.

Every other format derives from the same Result through dpaguard.report._shared; this module alone
decides the JSON document's shape, its `reportId` (the digest of the rest) and its `scope`, which the
HTML report quotes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import lru_cache
from typing import Any, Callable, Mapping

from dpaguard.model import CHANGE_KINDS, ENVIRONMENTS, Control, Finding, Result, StackSummary
from dpaguard.report._shared import ClauseRow, clause_rows, examined_total, inventory, shown_path, sorted_findings


def render(result: Result) -> str:
    """The run as one JSON document, findings in deterministic order, ending in a newline."""
    pieces: list[str] = []
    _indented(result_json(result), pieces, "\n")
    pieces.append("\n")  # not `join(...) + "\n"`, which copies the whole report once more
    return "".join(pieces)


def result_json(result: Result) -> dict[str, Any]:
    """The whole JSON document of a run (docs/reports.md, "The JSON report"), its `reportId` last."""
    document = _result_json(result)
    document["reportId"] = report_id(document)
    return document

def _result_json(result: Result) -> dict[str, Any]:
    coverage = [
        {"control": control, "stack": stack, "resources": count}
        for (control, stack), count in sorted(result.coverage.items())
    ]
    return {
        "tool": {"name": "dpaguard", "version": result.tool_version},
        "policy": {"sha256": result.policy_sha256, "engine": result.engine or None},
        "generatedAt": result.generated_at or None,
        "gitCommit": result.git_commit,
        "today": result.today.isoformat() if result.today else None,
        "stacks": [stack_json(s) for s in result.stacks],
        "findings": [finding_json(f) for f in sorted_findings(result.findings)],
        "coverage": coverage,
        "notices": list(result.notices),
        "summary": result.summary(),
        # added with the clause ledger (issue 13); the fields above are unchanged
        "controls": [control_json(c) for c in result.controls],
        "clauses": [clause_json(row) for row in clause_rows(result)],
        "examined": {"resources": examined_total(result), "estate": sum(s.resources for s in result.stacks)},
        "inventory": inventory_json(result),
        # findings about the DPA and its register (controls `about: dpa`), which no program can fix: not in `findings`
        "registerFindings": [finding_json(f) for f in sorted_findings(result.register_findings)],
        "evidence": evidence_json(result),
        "scope": scope_json(result),
        # added with waiver governance and the changes section (issue 22 §5, §6)
        "waivers": [w.to_json() for w in result.waivers],
        "changes": changes_json(result),
    }


def changes_json(result: Result) -> dict[str, Any] | None:
    """The JSON document's `changes`: what changed since --baseline, by kind; None without a baseline."""
    changes = result.changes
    if changes is None:
        return None
    return {
        "baseline": changes.baseline, "generatedAt": changes.generated_at, "gitCommit": changes.git_commit,
        "waiversRecorded": changes.waivers_recorded,
        "counts": {kind: sum(1 for c in changes.items if c.kind == kind) for kind in CHANGE_KINDS},
        "items": [{"kind": c.kind, "subject": c.subject, "stack": c.stack or None, "urn": c.urn or None,
                   "before": c.before or None, "after": c.after or None} for c in changes.items],
    }

def report_id(document: Mapping[str, Any]) -> str:
    """The report's id: sha256 of its JSON document (canonical: sorted keys, no spaces) without the id itself."""
    body = {k: v for k, v in document.items() if k != "reportId"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()

def finding_json(finding: Finding) -> dict[str, Any]:
    """One finding of the JSON document (the documented, stable shape)."""
    location = finding.location
    return {
        "control": str(finding.control),
        "category": finding.category,
        "clause": finding.clause,
        "severity": finding.severity,
        "enforcement": finding.enforcement,
        "stack": finding.stack,
        "urn": str(finding.urn),
        "type": finding.type,
        "name": finding.name,
        "message": finding.message,
        "status": finding.status,
        "waived": finding.waived,
        "waiver": finding.waiver.to_json() if finding.waiver else None,
        "location": (
            {"path": shown_path(location.path), "line": location.line, "column": location.column} if location else None
        ),
        "resources": list(finding.resources),
    }

def stack_json(stack: StackSummary) -> dict[str, Any]:
    """One stack of the JSON document."""
    return {
        "name": stack.name,
        "project": stack.project,
        "environment": stack.environment,
        "source": stack.source,
        "resources": stack.resources,
        "configFile": stack.config_file,
        "configSha256": stack.config_sha256,
        "deploymentSha256": stack.deployment_sha256,
    }

def control_json(control: Control) -> dict[str, Any]:
    """One control of the JSON document's `controls` array: the catalogue as evaluated (for --baseline)."""
    return {
        "id": str(control.id),
        "title": control.title,
        "category": control.category,
        "clause": control.clause,
        "severity": control.severity,
        "enforcement": {env: control.enforcement_for(env) for env in ENVIRONMENTS},
    }

def clause_json(row: ClauseRow) -> dict[str, Any]:
    """One clause of the JSON document's `clauses` array."""
    return {
        "id": row.id,
        "title": row.title,
        "quote": row.quote,
        "evidence": row.grade,
        "status": row.status,
        "controls": list(row.controls),
        "resources": row.examined,
        "files": row.files,
        "stacks": dict(row.stacks),
        "note": row.note or None,
        "parts": [{"part": p.what, "evidence": p.evidence, "status": p.state, "controls": list(p.controls),
                   "resources": p.resources, "why": p.why or None} for p in row.parts],
        "outside": row.outside,  # not a DPA clause: the gate's own integrity, an inventory aid
        "attestation": dataclasses.asdict(row.attestation) if row.attestation is not None else None,
    }

def inventory_json(result: Result) -> dict[str, Any]:
    """The JSON document's `inventory`: what the estate uses against Appendix B and Appendix C §1.2."""
    used, places, unused, sites_unseen = inventory(result)
    return {
        "subprocessors": [{"name": r.name, "inAppendixB": r.listed, "service": r.detail or None, "country": r.country,
                           "resources": dict(r.resources)} for r in used],
        "unusedSubprocessors": unused,
        "locations": [{"name": r.name, "country": r.country, "site": r.detail or None, "namedInAppendixC": r.listed,
                       "namedInPart": r.partly, "resources": dict(r.resources)} for r in places],
        "hostingSitesNotSeen": sites_unseen,
    }

def evidence_json(result: Result) -> dict[str, Any]:
    """The JSON document's `evidence`: what exactly was evaluated (work tree, versions, stages)."""
    return {
        "gitCommit": result.git_commit,
        "gitDirty": result.git_dirty,
        "gitDiffSha256": result.git_diff_sha256,
        "versions": dict(result.versions),
        "deployments": {s.name: s.deployment_sha256 for s in result.stacks},
        "stages": [{"name": s.name, "ran": s.ran, "detail": s.detail} for s in result.stages],
    }

def scope_json(result: Result) -> dict[str, Any]:
    """What was examined, by what, against what: enough for anyone to run the same check again.

    A stack export records no commit: in an audit the estate's commit is unknown, and the work tree
    the gate ran in (its policies) is recorded as the checker's, never as the estate's.
    """
    programs = any(s.source == "program" for s in result.stacks)
    return {
        "projects": sorted({s.project for s in result.stacks}),
        "estateCommit": result.git_commit if programs else None,
        "estateWorkTree": ("modified" if result.git_dirty else "clean") if programs and result.git_dirty is not None else None,
        "stacks": [{
            "name": s.name, "environment": s.environment, "source": s.source,
            "from": shown_path(s.config_file if s.source == "program" else s.origin) or None,
            "stateTime": s.state_time, "statePulumiVersion": s.state_version,
            "deploymentSha256": s.deployment_sha256,
        } for s in result.stacks],
        "policySha256": result.policy_sha256,
        "dpaSha256": result.dpa_sha256,
        "dpaguard": {"version": result.tool_version, "engine": result.engine or None,
                     "workTreeCommit": None if programs else result.git_commit},
        "waiversJudgedOn": result.today.isoformat() if result.today else None,
        "generatedAt": result.generated_at or None,
    }


_CONTAINERS = (dict, list, tuple)


@lru_cache(maxsize=64)
def _flat_encoder(inner: str) -> Callable[[Any], str]:
    """Encodes one container with no non-empty container inside, its items separated by `inner`'s line break."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without json's C accelerator
        return json.JSONEncoder(ensure_ascii=False, separators=("," + inner, ": ")).encode
    # json.JSONEncoder(ensure_ascii=False, separators=...).encode without building an encoder per call;
    # no check for cycles, which a container holding no container cannot have
    encoder = make(None, _not_serializable, json.encoder.encode_basestring, None, ": ", "," + inner, False, False, True)
    return lambda value: "".join(encoder(value, 0))


def _not_serializable(value: Any) -> Any:
    return json.JSONEncoder().default(value)


def _indented(value: Any, pieces: list[str], newline: str) -> None:
    """Append the text of `json.dumps(value, indent=2, ensure_ascii=False)` at the indentation of `newline`.

    json's C encoder runs only without `indent`, and the pure-Python one took a fifth of an audit of
    4,000 resources; so a container holding only values and empty containers (a finding, mostly) is
    written by the C encoder with the line break and indentation as its item separator, and only the
    containers above them are walked here. Anything else (a key that is not text) is left to json.
    """
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        pieces.append(json.dumps(value, ensure_ascii=False))
        return
    if not value:
        pieces.append("{}" if isinstance(value, dict) else "[]")
        return
    inner = newline + "  "
    for item in items:
        if item and isinstance(item, _CONTAINERS):
            break
    else:
        text = _flat_encoder(inner)(value)
        pieces.append(text[0] + inner + text[1:-1] + newline + text[-1])
        return
    if isinstance(value, dict):
        if not all(type(key) is str for key in value):
            pieces.append(json.dumps(value, indent=2, ensure_ascii=False).replace("\n", newline))
            return
        separator = "{" + inner
        for key, item in value.items():
            pieces.append(separator + json.dumps(key, ensure_ascii=False) + ": ")
            _indented(item, pieces, inner)
            separator = "," + inner
        pieces.append(newline + "}")
    else:
        separator = "[" + inner
        for item in value:
            pieces.append(separator)
            _indented(item, pieces, inner)
            separator = "," + inner
        pieces.append(newline + "]")
