"""SARIF 2.1.0 for code scanning: one rule per control, one result per finding, located in the program.

A finding points at the Pulumi program line that created the resource when the source recorded
it, else at the stack's config file. Waived findings carry an accepted external suppression, so
code scanning shows them as dismissed rather than dropping them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from dpaguard.model import Control, Finding, Result
from dpaguard.report._shared import control_ids, controls_by_id, location_path, resource_name, sorted_findings

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/dpaguard/dpaguard"
_LEVELS = {"mandatory": "error", "advisory": "warning", "disabled": "none"}
# GitHub code scanning ranks security alerts by this CVSS-like score.
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def _uri(path: str) -> tuple[str, bool]:
    """A path as a SARIF URI: relative paths stay relative to the source root, absolute ones become file URIs."""
    posix = path.replace("\\", "/")
    if PurePosixPath(posix).is_absolute():
        return "file://" + quote(posix), False
    return quote(posix), True


def _rule(control: Control) -> dict[str, Any]:
    help_text = f"{control.description}\n\nDPA clause: {control.clause}"
    if control.help:
        help_text += f"\n\nHow to fix: {control.help}"
    help_markdown = f"{control.description}\n\n**DPA clause:** {control.clause}"
    if control.help:
        help_markdown += f"\n\n**How to fix:** {control.help}"
    default = control.enforcement_for("prod") if control.enforcement else "mandatory"
    return {
        "id": str(control.id),
        "name": control.title,
        "shortDescription": {"text": control.title},
        "fullDescription": {"text": control.description or control.title},
        "help": {"text": help_text, "markdown": help_markdown},
        "defaultConfiguration": {"level": _LEVELS.get(default, "error")},
        "properties": {
            "category": control.category,
            "severity": control.severity,
            "clause": control.clause,
            "enforcement": dict(control.enforcement),
            "tags": ["dpa", "gdpr", "security", control.category],
            "security-severity": _SECURITY_SEVERITY.get(control.severity, "5.5"),
        },
    }


def _fingerprint(finding: Finding) -> str:
    key = "\0".join((str(finding.control), finding.stack, str(finding.urn)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _result(finding: Finding, index: int, result: Result) -> dict[str, Any]:
    uri, relative = _uri(location_path(finding, result))
    artifact: dict[str, Any] = {"uri": uri}
    if relative:
        artifact["uriBaseId"] = "%SRCROOT%"
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if finding.location is not None and finding.location.path:
        physical["region"] = {"startLine": max(1, finding.location.line),
                              "startColumn": max(1, finding.location.column)}
    else:
        physical["region"] = {"startLine": 1}
    prefix = "undetermined: " if finding.status == "undetermined" else ""
    entry: dict[str, Any] = {
        "ruleId": str(finding.control),
        "ruleIndex": index,
        "level": _LEVELS[finding.enforcement],
        "message": {"text": f"{prefix}{finding.message} (stack {finding.stack}, {finding.type} {finding.name})"},
        "locations": [{
            "physicalLocation": physical,
            "logicalLocations": [{"name": finding.name, "fullyQualifiedName": str(finding.urn), "kind": "resource"}],
        }],
        "partialFingerprints": {"dpaguardFinding/v1": _fingerprint(finding)},
        "properties": {
            "stack": finding.stack,
            "urn": str(finding.urn),
            "resourceType": finding.type,
            "clause": finding.clause,
            "enforcement": finding.enforcement,
            "status": finding.status,
        },
    }
    if finding.resources:
        # A finding on a group (a provider's resources): each resource a related location, by URN.
        entry["relatedLocations"] = [
            {"id": i, "logicalLocations": [{"name": resource_name(urn), "fullyQualifiedName": urn, "kind": "resource"}]}
            for i, urn in enumerate(finding.resources)
        ]
        entry["properties"]["resources"] = list(finding.resources)
    if finding.waived and finding.waiver is not None:
        waiver = finding.waiver
        entry["suppressions"] = [{
            "kind": "external",
            "status": "accepted",
            "justification": f"{waiver.reason} (approved by {waiver.approver}"
                             + (f" on {waiver.approved.isoformat()}" if waiver.approved else "")
                             + (f", reference {waiver.reference}" if waiver.reference else "")
                             + f", expires {waiver.expires.isoformat()})"
                             + (f"; compensating measures: {waiver.compensating}" if waiver.compensating else ""),
        }]
    elif finding.waived:
        entry["suppressions"] = [{"kind": "external", "status": "accepted"}]
    return entry


def render(result: Result) -> str:
    """The run as a SARIF 2.1.0 log with one run."""
    ids = control_ids(result)
    table = controls_by_id(result)
    index = {control_id: i for i, control_id in enumerate(ids)}
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "dpaguard",
                "version": result.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(table[control_id]) for control_id in ids],
            }},
            "automationDetails": {"id": "dpaguard/" + ",".join(sorted(s.name for s in result.stacks))},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The Pulumi project's root"}}},
            "results": [_result(f, index[str(f.control)], result) for f in sorted_findings(result.findings)],
            "properties": {
                "policySha256": result.policy_sha256,
                "stacks": [s.name for s in result.stacks],
                "notices": list(result.notices),
            },
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
