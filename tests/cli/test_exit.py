"""The console script's exit: exit handlers run and output is flushed before the process ends without its teardown."""

from __future__ import annotations

import subprocess
import sys

from support import CLI_FIXTURES, REPO

PROBE = """
import atexit, sys, threading
from dpaguard.cli import run
atexit.register(lambda: print("exit handler ran", flush=True))
if sys.argv[1] == "thread":
    # a thread main() did not start and that outlives it: Python's own exit waits for it
    threading.Thread(target=lambda: (threading.Event().wait(0.5), print("thread finished", flush=True))).start()
sys.argv[1:] = sys.argv[2:]
run()
"""


def _run(mode: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE, mode, *argv], capture_output=True, text=True, cwd=REPO, check=False,
                          timeout=120)


def test_the_exit_runs_the_handlers_and_flushes_a_report_on_stdout() -> None:
    done = _run("alone", "audit", "--state", str(CLI_FIXTURES / "prod-drifted.json"), "--format", "json", "--quiet")
    assert done.returncode == 1, done.stderr  # the fixture breaks mandatory controls
    report, _, handler = done.stdout.rpartition("}\n")
    assert report.startswith("{") and '"findings"' in report  # the whole report, buffered, then flushed
    assert handler == "exit handler ran\n"


def test_the_exit_code_is_main_s() -> None:
    done = _run("alone", "--version")
    version, handler = done.stdout.splitlines()
    assert (done.returncode, handler) == (0, "exit handler ran") and version.startswith("dpaguard ")
    assert _run("alone", "audit", "--state", "/nonexistent.json").returncode == 2


def test_a_thread_still_running_gets_python_s_own_exit() -> None:
    done = _run("thread", "--version")
    assert done.returncode == 0
    assert done.stdout.splitlines()[1:] == ["thread finished", "exit handler ran"]
