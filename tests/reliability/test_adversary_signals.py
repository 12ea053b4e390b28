"""Signals during a render (issue 24, L1): whatever stops dpaguard, the stack config's plaintext never stays behind.

A stack file holding a plaintext credential (a sensitive key, not `secure:`) is handed to the program's
runner through a request file. A signal whose default action ends the process (SIGHUP, SIGQUIT, SIGUSR1,
SIGUSR2, SIGALRM) used to leave that file, with the plaintext, in the render's folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from support import SOURCE_FIXTURES
from support.cli import dpaguard_command
from support.source_helpers import all_gone_soon, named_process_in, processes_in

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
    project = tmp_path / "hang"
    shutil.copytree(SOURCE_FIXTURES / "hang", project)
    stack = project / "Pulumi.dev.yaml"
    stack.write_text(stack.read_text(encoding="utf-8") + f"  hang:apiToken: {CANARY}\n", encoding="utf-8")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TMPDIR"] = str(temp)
    process = subprocess.Popen(
        [*dpaguard_command(), "check", "--project-dir", str(project), "--stack", "dev", "--no-checkov", "--timeout", "300"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    deadline = time.monotonic() + 60
    while not named_process_in(project, "dpaguard-hang"):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the program never started"
        time.sleep(0.05)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + signum, stderr
    assert CANARY not in stdout + stderr
    assert all_gone_soon(project, within=5.0), processes_in(project)
    assert _files_holding(temp, CANARY.encode()) == []
    assert os.listdir(temp) == [], "a temporary render folder was left behind"
