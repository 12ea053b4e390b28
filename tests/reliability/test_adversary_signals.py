"""Signals during a render (issue 24, L1): whatever stops dpaguard, the stack config's plaintext never stays behind.

A stack file holding a plaintext credential (a sensitive key, not `secure:`) is handed to the program's
runner through a request file. A signal whose default action ends the process (SIGHUP, SIGQUIT, SIGUSR1,
SIGUSR2, SIGALRM) used to leave that file, with the plaintext, in the render's folder.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from support.source_helpers import all_gone_soon, processes_in, start_hanging_check

pytestmark = pytest.mark.e2e  # each case renders a program

CANARY = "plaintext-canary-token-4f2a9c"
STOPS = [signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM]


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
                found.append(path)
        except OSError:
            continue
    return found


@pytest.mark.parametrize("signum", STOPS, ids=[s.name for s in STOPS])
def test_no_plaintext_config_survives_a_signal(tmp_path: Path, signum: int) -> None:
    process, project, temp = start_hanging_check(tmp_path, extra_config=f"  hang:apiToken: {CANARY}\n")
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + signum, stderr
    assert CANARY not in stdout + stderr
    assert all_gone_soon(project, within=5.0), processes_in(project)
    assert _files_holding(temp, CANARY.encode()) == []
    assert os.listdir(temp) == [], "a temporary render folder was left behind"
