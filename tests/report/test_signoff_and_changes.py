"""The sign-off (attestation, report id, the exceptions in force) and the changes section, in the
HTML, Markdown and text reports of a hand-built Result (issue 22 §5, §7)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from dpaguard.model import Change, Changes, ControlId, Result, Waiver
from dpaguard.report import html, markdown, text
from dpaguard.report.json import result_json
from support.html_elements import Elements

IN_FORCE = Waiver(control=ControlId("DPA-TLS-001"), urn_pattern="urn:pulumi:prod::dpa::scaleway:redis/cluster:Cluster::cache",
                  stack="prod", reason="TLS in the December window", approver="dpo@example.org", expires=dt.date(2027, 1, 31),
                  approved=dt.date(2026, 11, 2), reference="DPO-42", compensating="private network only")
LAPSED = dataclasses.replace(IN_FORCE, urn_pattern="urn:pulumi:prod::dpa::scaleway:redis/cluster:Cluster::old",
                             expires=dt.date(2026, 11, 1), reference="DPO-7")
CHANGES = Changes(baseline="baseline.json", generated_at="2026-11-20T10:00:00Z", git_commit="a" * 40, items=(
    Change("regressed", "DPA-TLS-004", "prod", before="passed", after="1 unwaived finding(s)"),
    Change("new", "DPA-TLS-004", "prod", "urn:pulumi:prod::dpa::scaleway:redis/cluster:Cluster::cache", after="TLS off"),
    Change("fixed", "DPA-RES-001", "dev", "urn:pulumi:dev::dpa::scaleway:object/bucket:Bucket::b", before="bucket in nl-ams"),
    Change("waiver-added", "DPA-TLS-001", "prod", IN_FORCE.urn_pattern, after="approver dpo@example.org"),
    Change("control-changed", "DPA-TLS-002", before="severity high", after="severity low"),
))


def _with(result: Result, **fields: object) -> Result:
    return dataclasses.replace(result, today=dt.date(2026, 11, 27), **fields)  # type: ignore[arg-type]


def test_html_sign_off_lists_the_waivers_in_force_and_names_the_report(result: Result) -> None:
    run = _with(result, waivers=(IN_FORCE, LAPSED))
    page = Elements()
    page.feed(html.render(run))
    report_id = result_json(run)["reportId"]
    (section,) = page.having("data-report-id", "section")
    assert section["data-report-id"] == report_id
    assert [(e["data-urn"], e["data-reference"]) for e in page.having("data-reference", "tr")] == [
        (IN_FORCE.urn_pattern, "DPO-42")]
    words = " ".join(" ".join(page.text).split())
    assert f"I have reviewed this report, id {report_id}," in words and "private network only" in words
    assert "DPO-7" not in words  # lapsed: no exception is accepted for it


def test_html_sign_off_without_waivers_accepts_no_exception(result: Result) -> None:
    page = Elements()
    page.feed(html.render(_with(result, waivers=())))
    assert "No waiver is in force: no exception is accepted." in " ".join(page.text)
    assert not page.having("data-reference", "tr")


def test_markdown_has_the_attestation_and_the_exceptions(result: Result) -> None:
    run = _with(result, waivers=(IN_FORCE, LAPSED))
    out = markdown.render(run)
    assert f"I have reviewed this report, id {result_json(run)['reportId']}," in out
    rows = [line for line in out.splitlines() if line.startswith("| DPA-TLS-001 | prod |")]
    assert len(rows) == 1 and "DPO-42" in rows[0] and "private network only" in rows[0] and "2026-11-02" in rows[0]
    french = markdown.render(run, lang="fr")
    assert "J'ai examiné ce rapport" in french and "2 novembre 2026" in french


def test_changes_in_html_markdown_and_text(result: Result) -> None:
    run = _with(result, changes=CHANGES)
    page = Elements()
    page.feed(html.render(run))
    assert [(c["data-kind"], c["data-subject"]) for c in page.having("data-kind", "tr")] == [
        (c.kind, c.subject) for c in CHANGES.items]
    out = markdown.render(run)
    assert out.count("| regressed control | DPA-TLS-004 |") == 1 and "| control changed | DPA-TLS-002 |" in out
    lines = text.render(run).splitlines()
    (head,) = [line for line in lines if line.startswith("changes since baseline.json")]
    assert "1 regressed" in head and "1 new" in head and "1 fixed" in head
    assert "  control-changed DPA-TLS-002: severity high -> severity low" in lines


def test_without_a_baseline_html_and_markdown_say_so_and_text_is_silent(result: Result) -> None:
    run = _with(result, changes=None)
    assert "No earlier report was given (--baseline)" in html.render(run)
    assert "No earlier report was given (--baseline)" in markdown.render(run)
    assert "changes since" not in text.render(run)


def test_text_and_sarif_show_the_reference_and_compensating_measures(result: Result) -> None:
    from dpaguard.report import sarif
    import json

    waived = [f for f in result.findings if f.waived]
    assert waived
    findings = tuple(dataclasses.replace(f, waiver=IN_FORCE) if f.waived else f for f in result.findings)
    run = _with(result, findings=findings)
    out = text.render(run)
    assert "(reference DPO-42)" in out and "compensating measures: private network only" in out
    rows = [r for r in html.render(run).split("<tr") if 'data-waived="true"' in r]
    assert rows and all("private network only" in r and "DPO-42" in r for r in rows)
    log = json.loads(sarif.render(run))
    justifications = [s["justification"] for r in log["runs"][0]["results"] for s in r.get("suppressions", [])]
    assert any("reference DPO-42" in j and "compensating measures: private network only" in j for j in justifications)
