"""The evidence trail end to end: `dpaguard audit --evidence` three times (drifted, drifted, fixed),
then `dpaguard evidence verify` tells when each finding appeared and was fixed, and sees tampering."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from support import CLI_FIXTURES
from support.cli import dpaguard as in_process

DRIFTED = CLI_FIXTURES / "prod-drifted.json"
CANARY = "CANARY-CIPHERTEXT-7f3a"
BUCKET = "urn:pulumi:prod::dpa-estate::scaleway:object/bucket:Bucket::call-recordings"


def dpaguard(*args: Any) -> subprocess.CompletedProcess[str]:
    return in_process(*map(str, args), timeout=120)


def test_three_audits_then_verify(tmp_path: Path) -> None:
    # the drift is undone: the bucket is back in fr-par and Redis has TLS again
    fixed = tmp_path / "prod-fixed.json"
    fixed.write_text(
        DRIFTED.read_text(encoding="utf-8").replace("nl-ams", "fr-par").replace('"tlsEnabled": false', '"tlsEnabled": true'),
        encoding="utf-8",
    )
    log = tmp_path / "evidence.jsonl"
    for state in (DRIFTED, DRIFTED, fixed):
        run = dpaguard("audit", "--state", state, "--format", "json", "--quiet", "--today", "2026-11-27", "--evidence", log)
        assert run.returncode in (0, 1), run.stderr
    assert CANARY not in log.read_text(encoding="utf-8")

    verified = dpaguard("evidence", "verify", log, "--format", "json")
    assert verified.returncode == 0, verified.stderr
    report = json.loads(verified.stdout)
    assert report["intact"] and report["entries"] == 3
    history = {(f["control"], f["urn"]): f for f in report["findings"]}
    residency = history[("DPA-RES-001", BUCKET)]
    assert residency["first_seen"]["seq"] == 1 and residency["fixed"]["seq"] == 3 and not residency["open"]
    tls = [f for (control, _), f in history.items() if control == "DPA-TLS-004"]
    assert tls and all(f["fixed"]["seq"] == 3 for f in tls)
    still_open = [f for f in report["findings"] if f["open"]]
    assert still_open and all(f["first_seen"]["seq"] == 1 for f in still_open)

    # someone deletes the second run from the log
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    log.write_text(lines[0] + lines[2], encoding="utf-8")
    tampered = dpaguard("evidence", "verify", log)
    assert tampered.returncode == 1
    assert "TAMPERED" in tampered.stdout and "line 2:" in tampered.stdout

    # and a later audit refuses to chain onto a log whose newest entry was altered
    log.write_text(lines[0] + lines[1] + lines[2].replace('"waived":false', '"waived":true', 1), encoding="utf-8")
    refused = dpaguard("audit", "--state", DRIFTED, "--format", "json", "--quiet", "--evidence", log)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and f"{log}: line 3" in refused.stderr
