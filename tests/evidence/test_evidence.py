"""The evidence log: chaining, secret-free entries, tamper detection, finding history, concurrent appends, CLI."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dpaguard.errors import InputError, OutputError
from dpaguard.evidence import GENESIS, append, entry_digest, verify
from dpaguard.evidence.log import canonical, sha256
from dpaguard.model import Finding, Result, StackSummary, Urn
from support.cli import dpaguard

CANARY = "canary-evidence-7d1e-secret"


def finding(control: str, stack: str, name: str, *, waived: bool = False, status: str = "violation") -> Finding:
    urn = Urn(f"urn:pulumi:{stack}::dpa-estate::scaleway:object/bucket:Bucket::{name}")
    return Finding(
        control=control,  # type: ignore[arg-type]
        category="residency",
        clause="Appendix C §1.1",
        severity="high",
        enforcement="mandatory",
        stack=stack,
        urn=urn,
        type="scaleway:object/bucket:Bucket",
        name=name,
        message=f"bucket {name} has password {CANARY}",  # a message never goes into the log
        status=status,  # type: ignore[arg-type]
        waived=waived,
    )


def result(findings: list[Finding], *, stacks: tuple[str, ...] = ("prod", "dev"), at: str = "2026-11-01T10:00:00Z") -> Result:
    return Result(
        tool_version="0.1.0",
        policy_sha256="ab" * 32,
        stacks=tuple(
            StackSummary(name=s, project="dpa-estate", environment=s, source="program", resources=12,
                         config_file=f"stacks/Pulumi.{s}.yaml", config_sha256=f"{s}-config".encode().hex().ljust(64, "0"))
            for s in stacks
        ),
        controls=(),
        findings=tuple(findings),
        generated_at=at,
        git_commit="0123456789abcdef",
    )


A = finding("DPA-RES-001", "prod", "logs")
B = finding("DPA-BAK-002", "prod", "db")
C = finding("DPA-SEG-003", "dev", "shared")


def three_runs(path: Path) -> list[dict[str, Any]]:
    return [
        append(path, result([A, C], at="2026-11-01T10:00:00Z")),
        append(path, result([A, B], stacks=("prod",), at="2026-11-02T10:00:00Z")),  # dev not evaluated
        append(path, result([B], at="2026-11-03T10:00:00Z")),
    ]


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_entries_are_chained(tmp_path: Path) -> None:
    log = tmp_path / "evidence.jsonl"
    entries = three_runs(log)
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert entries[0]["previous"] == GENESIS
    assert entries[1]["previous"] == entries[0]["digest"]
    assert entries[2]["previous"] == entries[1]["digest"]
    for entry, line in zip(entries, lines(log)):
        assert json.loads(line) == entry
        assert line.encode() == canonical(entry) + b"\n"
        assert entry["digest"] == entry_digest(entry)
        assert entry["run_digest"] == sha256(entry["run"])
    report = verify(log)
    assert report.intact and report.entries == 3 and report.head == entries[2]["digest"]


def test_entry_is_minimal_and_secret_free(tmp_path: Path) -> None:
    log = tmp_path / "evidence.jsonl"
    entry = append(log, result([A, finding("DPA-SEC-001", "prod", "api", waived=True)]))
    run = entry["run"]
    assert CANARY not in log.read_text(encoding="utf-8")
    assert set(run) == {"format", "generated_at", "today", "recorded_at", "tool_version", "recorder_version", "git_commit",
                        "policy_sha256", "stacks", "findings", "summary",
                        "git_dirty", "git_diff_sha256", "versions", "stages"}  # what was evaluated (issue 13)
    assert run["policy_sha256"] == "ab" * 32
    assert run["stacks"][0] == {"name": "dev", "environment": "dev", "source": "program", "resources": 12,
                                "config_sha256": "dev-config".encode().hex().ljust(64, "0"), "deployment_sha256": None}
    assert {f["control"]: f["waived"] for f in run["findings"]} == {"DPA-RES-001": False, "DPA-SEC-001": True}
    assert all(set(f) == {"control", "stack", "urn", "status", "enforcement", "waived", "message_sha256"}
               for f in run["findings"])
    assert run["findings"][0]["message_sha256"] == hashlib.sha256(A.message.encode()).hexdigest()


def test_config_digests_keyword_overrides(tmp_path: Path) -> None:
    entry = append(tmp_path / "e.jsonl", result([]), config_digests={"prod": "f" * 64})
    assert {s["name"]: s["config_sha256"] for s in entry["run"]["stacks"]}["prod"] == "f" * 64


# -- tampering -----------------------------------------------------------------------------------


def test_edited_field_is_detected(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    three_runs(log)
    text = lines(log)
    entry = json.loads(text[1])
    entry["run"]["findings"][0]["waived"] = True  # someone waives a finding after the fact
    text[1] = json.dumps(entry) + "\n"
    log.write_text("".join(text), encoding="utf-8")
    report = verify(log)
    assert not report.intact
    assert {p.line for p in report.problems} == {2}
    assert any("run digest mismatch" in p.message for p in report.problems)


def test_edited_entry_with_recomputed_digests_breaks_the_chain(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    three_runs(log)
    text = lines(log)
    entry = json.loads(text[0])
    entry["run"]["findings"] = []  # pretend run 1 was clean, and recompute its own digests
    entry["run_digest"] = sha256(entry["run"])
    entry["digest"] = entry_digest(entry)
    text[0] = canonical(entry).decode() + "\n"
    log.write_text("".join(text), encoding="utf-8")
    report = verify(log)
    assert [p.line for p in report.problems] == [2]
    assert "chain broken" in report.problems[0].message


def test_deleted_line_is_detected(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    three_runs(log)
    text = lines(log)
    del text[1]
    log.write_text("".join(text), encoding="utf-8")
    report = verify(log)
    assert not report.intact
    assert {p.line for p in report.problems} == {2}
    assert any("chain broken" in p.message for p in report.problems)


def test_deleted_first_line_is_detected(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    three_runs(log)
    log.write_text("".join(lines(log)[1:]), encoding="utf-8")
    assert {p.line for p in verify(log).problems} == {1, 2}


def test_swapped_lines_are_detected(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    three_runs(log)
    text = lines(log)
    text[1], text[2] = text[2], text[1]
    log.write_text("".join(text), encoding="utf-8")
    report = verify(log)
    assert {p.line for p in report.problems} == {2, 3}


def test_inserted_forged_line_is_detected(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    entries = three_runs(log)
    text = lines(log)
    # a well-formed forgery chained to entry 1: consistent on its own, but entry 2 no longer follows
    forged: dict[str, Any] = {"seq": 2, "previous": entries[0]["digest"], "run": {**entries[0]["run"], "findings": []}}
    forged["run_digest"] = sha256(forged["run"])
    forged["digest"] = entry_digest(forged)
    text.insert(1, canonical(forged).decode() + "\n")
    log.write_text("".join(text), encoding="utf-8")
    report = verify(log)
    assert not report.intact
    assert 3 in {p.line for p in report.problems}
    assert 2 not in {p.line for p in report.problems}


def test_truncated_file_is_malformed_naming_the_line(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    three_runs(log)
    raw = log.read_bytes()
    log.write_bytes(raw[: len(raw) - 40])
    with pytest.raises(InputError, match=r"e\.jsonl: line 3: incomplete last line"):
        verify(log)
    with pytest.raises(OutputError, match="line 3"):
        append(log, result([]))


def test_cut_off_entries_are_detected_with_an_anchor(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    entries = three_runs(log)
    log.write_text("".join(lines(log)[:2]), encoding="utf-8")
    assert verify(log).intact  # a hash chain alone cannot see its end cut off ...
    report = verify(log, anchors=[entries[2]["digest"]])  # ... a head recorded elsewhere can
    assert not report.intact and "anchor" in report.problems[0].message
    assert verify(log, anchors=[entries[1]["digest"]]).intact


def test_append_refuses_to_chain_to_an_altered_newest_entry(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    three_runs(log)
    log.write_text(log.read_text(encoding="utf-8").replace('"waived":false', '"waived":true'), encoding="utf-8")
    with pytest.raises(OutputError, match="line 3: the newest entry is malformed or altered"):
        append(log, result([]))


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json\n", "line 1: not a JSON object"),
        ('{"seq": 1}\n', "line 1: not an evidence entry"),
        ("[1, 2]\n", "line 1: not an evidence entry"),
    ],
)
def test_malformed_lines_name_the_line(tmp_path: Path, content: str, why: str) -> None:
    log = tmp_path / "e.jsonl"
    three_runs(log)
    log.write_text(log.read_text(encoding="utf-8") + content, encoding="utf-8")
    with pytest.raises(InputError, match=why.replace("line 1", "line 4")):
        verify(log)


# -- history -------------------------------------------------------------------------------------


def test_first_seen_and_fixed_over_three_runs(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    three_runs(log)
    history = {(h.control, h.stack): h for h in verify(log).findings}
    assert set(history) == {("DPA-RES-001", "prod"), ("DPA-BAK-002", "prod"), ("DPA-SEG-003", "dev")}
    a = history[("DPA-RES-001", "prod")]
    assert (a.first_seen.opened_seq, a.first_seen.opened_at) == (1, "2026-11-01T10:00:00Z")
    assert a.fixed is not None and (a.fixed.fixed_seq, a.fixed.fixed_at) == (3, "2026-11-03T10:00:00Z")
    b = history[("DPA-BAK-002", "prod")]
    assert b.first_seen.opened_seq == 2 and b.fixed is None
    # run 2 did not evaluate dev: it says nothing about C, which is fixed only in run 3
    c = history[("DPA-SEG-003", "dev")]
    assert c.first_seen.opened_seq == 1 and c.fixed is not None and c.fixed.fixed_seq == 3


def test_a_finding_that_returns_opens_a_new_period(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    for findings in ([A], [], [A]):
        append(log, result(findings))
    (a,) = verify(log).findings
    assert [(p.opened_seq, p.fixed_seq) for p in a.periods] == [(1, 2), (3, None)]
    assert a.fixed is None


# -- concurrency ---------------------------------------------------------------------------------


def _append_many(path: str, worker: int) -> None:
    for run in range(5):
        append(path, result([finding("DPA-RES-001", "prod", f"w{worker}-r{run}")]))


def test_concurrent_appends_keep_one_chain(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(str(log), w)) for w in range(6)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
        assert process.exitcode == 0
    report = verify(log)
    assert report.intact and report.entries == 30
    assert len({h.urn for h in report.findings}) == 30


# -- the CLI -------------------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return dpaguard("evidence", *args, timeout=60)


def test_cli_verify_intact_tampered_malformed(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    entries = three_runs(log)
    ok = cli("verify", str(log), "--format", "json")
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["intact"] is True and report["entries"] == 3 and report["head"] == entries[2]["digest"]
    fixed = {(f["control"], f["stack"]): f["fixed"] for f in report["findings"]}
    assert fixed[("DPA-RES-001", "prod")]["seq"] == 3 and fixed[("DPA-BAK-002", "prod")] is None

    text = cli("verify", str(log))
    assert text.returncode == 0 and "intact, 3 entries" in text.stdout

    swapped = lines(log)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    log.write_text("".join(swapped), encoding="utf-8")
    tampered = cli("verify", str(log))
    assert tampered.returncode == 1
    assert "TAMPERED" in tampered.stdout and "line 1:" in tampered.stdout and "line 2:" in tampered.stdout

    log.write_text("garbage\n", encoding="utf-8")
    malformed = cli("verify", str(log))
    assert malformed.returncode == 2 and malformed.stdout == ""
    assert malformed.stderr.count("\n") == 1 and f"{log}: line 1" in malformed.stderr

    missing = cli("verify", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2 and "nope.jsonl" in missing.stderr and missing.stderr.count("\n") == 1


def test_cli_verify_anchor_and_history(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    entries = three_runs(log)
    log.write_text("".join(lines(log)[:2]), encoding="utf-8")
    assert cli("verify", str(log), "--anchor", entries[1]["digest"]).returncode == 0
    assert cli("verify", str(log), "--anchor", entries[2]["digest"]).returncode == 1
    history = cli("history", str(log))
    assert history.returncode == 0
    assert "2 runs" in history.stdout and "DPA-RES-001 prod" in history.stdout and "OPEN" in history.stdout


def test_cli_history_of_a_tampered_log_exits_1_as_verify_does(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    three_runs(log)
    edited = lines(log)
    edited[1] = edited[1].replace('"DPA-RES-001"', '"DPA-RES-002"', 1)
    assert edited[1] != lines(log)[1]
    log.write_text("".join(edited), encoding="utf-8")
    history = cli("history", str(log))
    assert history.returncode == 1 == cli("verify", str(log)).returncode
    assert "TAMPERED" in history.stdout and "line 2:" in history.stdout
    as_json = cli("history", str(log), "--format", "json")
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["intact"] is False


def test_the_date_waivers_were_judged_against_is_recorded(tmp_path: Path) -> None:
    import dataclasses
    import datetime as dt

    log = tmp_path / "e.jsonl"
    entry = append(log, dataclasses.replace(result([A]), today=dt.date(2026, 1, 31)))
    assert entry["run"]["today"] == "2026-01-31"
    assert verify(log).intact
