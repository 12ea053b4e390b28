"""checkov's worker processes do not outlive its time limit (issue 15, item 11)."""

from __future__ import annotations

import stat
import sys
import time
from pathlib import Path

import pytest

from dpaguard.checkov import runner
from dpaguard.errors import DpaguardError


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def test_grandchildren_of_a_checkov_past_its_time_limit_are_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stands in for checkov: starts two workers (one in a session of its own), records their pids, hangs.
    script = tmp_path / "checkov"
    script.write_text(
        f"#!{sys.executable}\nimport os, subprocess, sys, time\n"
        "worker = [sys.executable, '-c', 'import time\\nwhile True: time.sleep(1)']\n"
        "a = subprocess.Popen(worker)\nb = subprocess.Popen(worker, start_new_session=True)\n"
        f"open({str(tmp_path / 'pids')!r}, 'w').write(f'{{a.pid}} {{b.pid}}')\n"
        "while True: time.sleep(1)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(runner.TIMEOUT_ENV, "2")
    (tmp_path / "main.py").write_text("print('hello')\n")
    started = time.monotonic()
    with pytest.raises(DpaguardError, match="did not finish within 2 s"):
        runner.run_checkov(script, [tmp_path / "main.py"], tmp_path)
    assert time.monotonic() - started < 15
    pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if _alive(p)]
