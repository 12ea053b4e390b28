"""SIGINT, SIGTERM and SIGKILL to dpaguard stop the renders at once, leave no process and no temporary folder (issue 15, item 11).

So do SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGALRM, whose default action ended dpaguard without removing
the render's folder, the stack config's plaintext values in it (issue 24, L1).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from support.source_helpers import all_gone_soon, processes_in, start_hanging_check

STOPS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM]


@pytest.mark.parametrize("signum, code", [(s, 128 + s) for s in STOPS], ids=[s.name for s in STOPS])
def test_a_signal_stops_the_render_at_once(tmp_path: Path, signum: int, code: int) -> None:
    process, project, temp = start_hanging_check(tmp_path)
    sent = time.monotonic()
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert time.monotonic() - sent < 15, "waited for the program's time limit"
    assert process.returncode == code, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert all_gone_soon(project, within=5.0), processes_in(project)
    assert os.listdir(temp) == [], "a temporary render folder was left behind"


def test_sigkill_to_dpaguard_leaves_no_program_behind(tmp_path: Path) -> None:
    process, project, _ = start_hanging_check(tmp_path)
    process.kill()
    process.communicate(timeout=30)
    assert all_gone_soon(project, within=5.0), processes_in(project)


def test_a_signal_ignored_when_dpaguard_started_stays_ignored(tmp_path: Path) -> None:
    # `nohup dpaguard check ...` keeps running when the terminal hangs up; SIGTERM still stops it cleanly.
    process, project, temp = start_hanging_check(tmp_path, ignored=["SIGHUP"])
    process.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert all_gone_soon(project, within=5.0), processes_in(project)
    assert os.listdir(temp) == [], "a temporary render folder was left behind"
