"""The scope block (issue 22 §3): what was examined, by what, against what, and the report's id."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from dpaguard.model import Result
from dpaguard.dpa_text import DPA_ENV, dpa_document_sha256
from dpaguard.report import html
from dpaguard.report import json as json_report
from dpaguard.report.json import report_id
from dpaguard.source.state import load_state


def _audit(result: Result) -> Result:
    """The sample run as an audit: every stack from a stack export, with its manifest."""
    stacks = tuple(dataclasses.replace(s, source="state", origin=f"/home/ci/work/{s.name} export.json",
                                       state_time="2026-11-20T10:00:00Z", state_version="v3.140.0")
                   for s in result.stacks)
    return dataclasses.replace(result, stacks=stacks, dpa_sha256="e" * 64)


def test_the_report_id_is_the_digest_of_the_json_report_without_it(result: Result) -> None:
    doc = json.loads(json_report.render(result))
    body = {k: v for k, v in doc.items() if k != "reportId"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert doc["reportId"] == hashlib.sha256(canonical.encode()).hexdigest() == report_id(doc)
    fewer = dataclasses.replace(result, findings=result.findings[1:])
    assert json.loads(json_report.render(fewer))["reportId"] != doc["reportId"]
    assert doc["reportId"] in html.render(result)  # the HTML names the JSON report it goes with


def test_a_check_records_the_estate_commit_and_the_program_as_source(result: Result) -> None:
    programs = dataclasses.replace(result, stacks=tuple(dataclasses.replace(s, source="program") for s in result.stacks))
    scope = json.loads(json_report.render(programs))["scope"]
    assert scope["estateCommit"] == "c" * 40 and scope["dpaguard"]["workTreeCommit"] is None
    assert [s["source"] for s in scope["stacks"]] == ["program", "program"]
    assert scope["policySha256"] == "b" * 64 and scope["dpaSha256"] is None
    page = html.render(programs)
    assert "DPA text not found" in page and "the program, rendered offline" in page


def test_an_audit_records_the_state_not_the_checkers_commit_and_no_absolute_path(result: Result) -> None:
    audit = _audit(result)
    doc = json.loads(json_report.render(audit))
    scope = doc["scope"]
    assert scope["estateCommit"] is None  # a stack export records no commit
    assert scope["dpaguard"] == {"version": "0.1.0", "engine": None, "workTreeCommit": "c" * 40}
    dev = next(s for s in scope["stacks"] if s["name"] == "dev")
    assert dev == {"name": "dev", "environment": "dev", "source": "state", "from": "dev export.json",
                   "stateTime": "2026-11-20T10:00:00Z", "statePulumiVersion": "v3.140.0",
                   "deploymentSha256": None}
    assert scope["dpaSha256"] == "e" * 64
    page = html.render(audit)
    for report in (page, json_report.render(audit)):
        assert "/home/ci" not in report
    assert "not known: a stack export records no commit" in page and "written 2026-11-20T10:00:00Z by v3.140.0" in page
    french = html.render(audit, lang="fr")
    assert "écrit le 20 novembre 2026 à 10:00 UTC par v3.140.0" in french


def test_a_state_files_manifest_is_read(tmp_path: Path) -> None:
    export = tmp_path / "prod.json"
    export.write_text(json.dumps({"version": 3, "deployment": {
        "manifest": {"time": "2026-11-20T10:00:00.123Z", "magic": "x", "version": "v3.140.0"},
        "resources": [{"urn": "urn:pulumi:prod::shop::pulumi:pulumi:Stack::shop-prod", "custom": False,
                       "type": "pulumi:pulumi:Stack"}]}}), encoding="utf-8")
    assert load_state(export).state_manifest == {"time": "2026-11-20T10:00:00.123Z", "version": "v3.140.0"}


def test_the_dpa_text_is_found_beside_the_project_or_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DPA_ENV, raising=False)
    project = tmp_path / "repo"
    project.mkdir()
    assert dpa_document_sha256(project) is None
    text = tmp_path / "shared" / "dpa" / "data-processing-agreement.txt"
    text.parent.mkdir(parents=True)
    text.write_bytes(b"Data Processing Agreement\n")
    assert dpa_document_sha256(project) == hashlib.sha256(b"Data Processing Agreement\n").hexdigest()
    monkeypatch.setenv(DPA_ENV, str(tmp_path / "absent.txt"))
    assert dpa_document_sha256(project) is None


def test_html_findings_carry_control_urn_source_line_and_fix(result: Result) -> None:
    import re

    from dpaguard.report.html import _finding_row
    from dpaguard.report._shared import outcomes
    from dpaguard.report.i18n import strings

    rows = {(o.stack.name, str(o.control.id), str(f.urn)): _finding_row(f, strings("en"), "en", o)
            for o in outcomes(result) for f in o.findings}
    db = rows[("prod", "DPA-RES-001", "urn:pulumi:prod::dpa-estate::scaleway:databases/instance:Instance::main-db")]
    assert 'data-where="infra/estate/database.py:42"' in db and "<code>DPA-RES-001</code>" in db
    assert "urn:pulumi:prod::dpa-estate::scaleway:databases/instance:Instance::main-db</span>" in db
    assert "<strong>Fix:</strong> Set scaleway:region to fr-par." in db
    stack_level = rows[("prod", "DPA-RET-001", "urn:pulumi:prod::dpa-estate::pulumi:pulumi:Stack::dpa-estate-prod")]
    assert 'data-where="stacks/Pulumi.prod.yaml"' in stack_level  # the stack config, not line 1 of a program
    dev = rows[("dev", "DPA-TLS-001", "urn:pulumi:dev::dpa-estate::scaleway:redis/cluster:Cluster::cache")]
    assert 'data-where="dev export.json"' in dev and "/tmp" not in dev  # a state file by name
    page = html.render(result)
    assert len(re.findall(r'<tr class="finding"[^>]*data-where="infra/estate/database.py:42"', page)) == 1


def test_an_audits_evidence_names_the_commit_and_packages_as_the_checkers(result: Result) -> None:
    audit = dataclasses.replace(_audit(result), versions={"pulumi": "3.200.0"})
    page = html.render(audit)
    assert "Commit dpaguard ran from (not the estate&#x27;s" in page
    assert "Versions in dpaguard&#x27;s environment (not the estate&#x27;s)" in page
    programs = dataclasses.replace(audit, stacks=tuple(dataclasses.replace(s, source="program") for s in audit.stacks))
    assert "Commit dpaguard ran from" not in html.render(programs)
