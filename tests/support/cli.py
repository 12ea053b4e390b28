"""Running `dpaguard` as a user does, and reading its one-line errors.

`dpaguard(ARGS)` calls `dpaguard.cli.main(argv)` in the test's own process, as pip-audit tests its
CLI: no interpreter start and no imports per call, which made the command-line tests the slowest of
the fast tier. It gives the command what a fresh process would have (stdin at end of file, stdout
and stderr captured at the file-descriptor level, its own cwd and environment) and puts back all
that `main` or the stages may change in the process: cwd, environment, standard streams and file
descriptors 0 to 2, signal handlers, umask, the dumpable flag.

`dpaguard_process(ARGS)` runs the installed console script instead, for what only a process shows:
the script is installed, exit codes under pipes and signals, what children inherit. Both return a
CompletedProcess of text, so a call site reads the same either way.
"""

from __future__ import annotations

import ctypes
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from dpaguard import cli
from support import REPO

# The ciphertext of the Redis password in prod-drifted.json: no output may ever contain it.
CANARY = "CANARY-CIPHERTEXT-7f3a"

# Unset for every run, as a developer's shell may set them: colour and the reproducible-date epoch
# change the reports, and a test that wants them passes them in `env`.
_UNSET = ("NO_COLOR", "SOURCE_DATE_EPOCH")
# Handlers `main` installs (SIGTERM) or a stage could; SIGALRM carries the in-process time limit.
_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE, signal.SIGALRM)
_PR_GET_DUMPABLE, _PR_SET_DUMPABLE = 3, 4


def dpaguard_command() -> list[str]:
    """The installed console script of the venv running the tests."""
    script = Path(sys.executable).parent / "dpaguard"
    if script.exists():
        return [str(script)]
    found = shutil.which("dpaguard")
    assert found, "the dpaguard console script is not installed (pip install -e '.[test]')"
    return [found]


def _environment(env: dict[str, str] | None) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in _UNSET}
    environment.update(env or {})
    return environment


def dpaguard_process(*args: str | Path, cwd: Path | None = None, timeout: float = 180,
                     env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console script `dpaguard ARGS` as a process and capture its output (stdin closed)."""
    return subprocess.run(
        [*dpaguard_command(), *map(str, args)], capture_output=True, text=True, cwd=cwd or REPO, timeout=timeout,
        stdin=subprocess.DEVNULL, env=_environment(env),
    )


class _TimeLimit(BaseException):
    """The in-process run outlived its time limit (a BaseException: `main`'s last-resort handler must not take it)."""


def _time_up(signum: int, frame: FrameType | None) -> None:
    raise _TimeLimit()


def _prctl(option: int, arg: int = 0) -> int:
    return int(ctypes.CDLL(None, use_errno=True).prctl(option, arg, 0, 0, 0))


@contextmanager
def _process_state_kept() -> Iterator[None]:
    """Put back, on the way out, all of the process that a run of `main` may change."""
    cwd, environment = os.getcwd(), dict(os.environ)
    streams = sys.stdin, sys.stdout, sys.stderr
    handlers = {signum: signal.getsignal(signum) for signum in _SIGNALS}
    umask = os.umask(0o022)
    os.umask(umask)
    dumpable = _prctl(_PR_GET_DUMPABLE) if sys.platform.startswith("linux") else -1
    timer, started = signal.getitimer(signal.ITIMER_REAL), time.monotonic()  # a caller's own alarm, if any
    for stream in streams[1:]:
        stream.flush()
    descriptors = [os.dup(fd) for fd in (0, 1, 2)]
    try:
        yield
    finally:
        for fd, saved in enumerate(descriptors):
            os.dup2(saved, fd)
            os.close(saved)
        sys.stdin, sys.stdout, sys.stderr = streams
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        if timer[0] > 0:  # what was left of it, at least a moment: it still fires
            signal.setitimer(signal.ITIMER_REAL, max(timer[0] - (time.monotonic() - started), 0.001), timer[1])
        os.umask(umask)
        if dumpable >= 0:
            _prctl(_PR_SET_DUMPABLE, dumpable)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(environment)


def _text(stream: Any) -> str:
    """What a captured descriptor holds, decoded as `subprocess.run(text=True)` decodes (UTF-8, universal newlines)."""
    stream.seek(0)
    return io.TextIOWrapper(io.BytesIO(stream.read()), encoding="utf-8").read()


def _exit_code(stop: SystemExit) -> int:
    """The exit status Python gives a process leaving by this SystemExit (argparse's --help, usage errors)."""
    if stop.code is None:
        return 0
    if isinstance(stop.code, int):
        return stop.code
    sys.stderr.write(f"{stop.code}\n")
    return 1


def dpaguard(*args: str | Path, cwd: Path | None = None, timeout: float = 180,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `dpaguard ARGS` in this process through `cli.main` (stdin closed, NO_COLOR unset unless given).

    TimeoutExpired after `timeout` seconds, as `subprocess.run` raises it.
    """
    # cwd, descriptors and signal handlers belong to the process: one run at a time, from the main thread.
    assert threading.current_thread() is threading.main_thread(), "dpaguard() runs from the main thread only"
    argv = [str(a) for a in args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        timed_out = False
        with _process_state_kept():
            os.environ.clear()
            os.environ.update(_environment(env))
            os.chdir(cwd or REPO)
            devnull = os.open(os.devnull, os.O_RDONLY)
            for source, fd in ((devnull, 0), (out.fileno(), 1), (err.fileno(), 2)):
                os.dup2(source, fd)
            os.close(devnull)
            # What a fresh interpreter opens on descriptors 0 to 2 when they are not a terminal.
            sys.stdin = open(0, encoding="utf-8", closefd=False)
            sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
            sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
            signal.signal(signal.SIGALRM, _time_up)
            signal.setitimer(signal.ITIMER_REAL, timeout)
            deadline = time.monotonic() + timeout
            try:
                code = cli.main(argv)
            except SystemExit as stop:
                code = _exit_code(stop)
            except _TimeLimit:
                timed_out, code = True, -signal.SIGKILL
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                for stream in (sys.stdin, sys.stdout, sys.stderr):
                    try:
                        stream.close()  # flushes; the descriptor stays open (closefd=False)
                    except (OSError, ValueError):
                        pass  # a last flush that fails, as it would at a process's exit
        # `main` stops on SIGALRM as on SIGTERM (its own handler replaces ours): the time limit all the same.
        if code == 128 + signal.SIGALRM and time.monotonic() >= deadline:
            timed_out = True
        if timed_out:
            raise subprocess.TimeoutExpired(["dpaguard", *argv], timeout, _text(out), _text(err))
        return subprocess.CompletedProcess(["dpaguard", *argv], code, _text(out), _text(err))


def assert_one_line_error(run: subprocess.CompletedProcess[str], expected: str) -> None:
    """Exit 2, nothing on stdout, exactly one `dpaguard: ...` line on stderr naming what went wrong."""
    assert run.returncode == 2, (run.returncode, run.stdout[-2000:], run.stderr)
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("dpaguard: ") and expected in lines[0], lines[0]
    assert "Traceback" not in run.stderr


@dataclass(frozen=True)
class AuditRun:
    """`dpaguard audit` of the two fixture exports with every format written: JSON on stdout, the rest to files."""

    process: subprocess.CompletedProcess[str]
    document: dict[str, Any]
    files: dict[str, Path]

    def text(self, fmt: str) -> str:
        """The report of one format, as written."""
        return self.process.stdout if fmt == "json" else self.files[fmt].read_text(encoding="utf-8")
