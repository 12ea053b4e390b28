"""checkov's worker processes do not outlive its time limit (issue 15, item 11)."""

from __future__ import annotations

import os
import stat
import sys
import time
import uuid
from pathlib import Path

import pytest

from dpaguard.checkov import runner
from dpaguard.errors import DpaguardError


def _with_token(token: str) -> list[int]:
    """The live processes whose command line holds `token` (pids as this process sees them: checkov may run in a
    PID namespace of its own, where its own pids mean other processes)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                if token.encode() not in handle.read():
                    continue
            with open(f"/proc/{name}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                    found.append(int(name))
        except OSError:
            continue
    return found


def test_grandchildren_of_a_checkov_past_its_time_limit_are_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stands in for checkov: starts two workers (one in a session of its own), says so, hangs.
    token = f"dpaguard-checkov-worker-{uuid.uuid4().hex}"
    script = tmp_path / "checkov"
    script.write_text(
        f"#!{sys.executable}\nimport os, subprocess, sys, time\n"
        f"worker = [sys.executable, '-c', 'import time\\nwhile True: time.sleep(1)', {token!r}]\n"
        "a = subprocess.Popen(worker)\nb = subprocess.Popen(worker, start_new_session=True)\n"
        f"open({str(tmp_path / 'started')!r}, 'w').write('2')\n"
        "while True: time.sleep(1)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(runner.TIMEOUT_ENV, "2")
    (tmp_path / "main.py").write_text("print('hello')\n")
    started = time.monotonic()
    with pytest.raises(DpaguardError, match="did not finish within 2 s"):
        runner.run_checkov(script, [tmp_path / "main.py"], tmp_path)
    assert time.monotonic() - started < 15
    assert (tmp_path / "started").read_text() == "2"
    deadline = time.monotonic() + 5
    while _with_token(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _with_token(token)
