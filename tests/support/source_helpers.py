"""Helpers of the source tests: where the fixture programs are, resource lookup, process checks."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence


from support import SOURCE_FIXTURES
from dpaguard.model import Deployment

# The `rendered` fixture (conftest.py): render(fixture, stack) -> Deployment.
Render = Callable[..., Deployment]


def by_name(deployment: Deployment, name: str) -> dict[str, Any]:
    """The one resource of a deployment whose URN ends with ::name."""
    (found,) = [r for r in deployment.resources if r["urn"].endswith(f"::{name}")]
    return dict(found)


def gone_soon(pid: int, within: float = 3.0) -> bool:
    """Whether a process is dead within a few seconds (a SIGKILL takes effect asynchronously)."""
    deadline = time.monotonic() + within
    while process_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def process_alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def processes_in(directory: Path) -> list[int]:
    """Live processes whose working directory is `directory`: a fixture program and whatever it started.

    Found by working directory rather than by pid: a program rendered in a PID namespace of its
    own does not know the pid the rest of the machine sees.
    """
    target = str(directory.resolve())
    found = []
    for name in Path("/proc").iterdir():
        if not name.name.isdigit():
            continue
        try:
            if str(Path(name / "cwd").resolve(strict=True)) == target and process_alive(int(name.name)):
                found.append(int(name.name))
        except (OSError, RuntimeError):
            continue
    return found


def named_process_in(directory: Path, name: str) -> bool:
    """Whether a live process working in `directory` took the name `name` (PR_SET_NAME): how a fixture
    program says it runs, since its view of the files is read-only."""
    for pid in processes_in(directory):
        try:
            with open(f"/proc/{pid}/comm", encoding="utf-8") as handle:
                if handle.read().strip() == name:
                    return True
        except OSError:
            continue
    return False


def wait_for_named_process(directory: Path, name: str, within: float = 60.0) -> bool:
    """Whether a process named `name` works in `directory` within `within` seconds."""
    deadline = time.monotonic() + within
    while not named_process_in(directory, name):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def all_gone_soon(directory: Path, within: float = 3.0) -> bool:
    """Whether no process works in `directory` within a few seconds."""
    deadline = time.monotonic() + within
    while processes_in(directory):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def copy_fixture(name: str, destination: Path) -> Path:
    """A fixture project copied to a folder of its own (its processes are then recognisable by working directory)."""
    target = destination / name
    shutil.copytree(SOURCE_FIXTURES / name, target)
    return target


# dpaguard keeps a stop signal ignored where it started ignored (`nohup dpaguard ...`), and a test
# process may have them ignored: nohup ignores SIGHUP, and a non-interactive shell starts a job in
# the background with SIGINT and SIGQUIT ignored. `nohup pytest ... &` then made every signal test
# of those three wait 30 s for a dpaguard that rightly kept running. The command is started as a
# terminal starts one: each signal dpaguard stops on (argv[1]) at its default but those asked ignored
# (argv[2]), both comma-separated names, then exec (the pid stays dpaguard's).
_WITH_DEFAULT_SIGNALS = (
    "import os, signal, sys\n"
    "ignored = set(filter(None, sys.argv[2].split(',')))\n"
    "for name in sys.argv[1].split(','):\n"
    "    signal.signal(getattr(signal, name), signal.SIG_IGN if name in ignored else signal.SIG_DFL)\n"
    "os.execv(sys.argv[3], sys.argv[3:])\n"
)


def start_hanging_check(
    tmp_path: Path, *, extra_config: str = "", ignored: Sequence[str] = (),
) -> tuple[subprocess.Popen[str], Path, Path]:
    """`dpaguard check` of the `hang` fixture (a program that never ends) as a process, once the program runs.

    Returns the process, the project's copy and the TMPDIR given to dpaguard; `extra_config` is
    appended to the stack file's config block; `ignored` names the signals dpaguard starts with
    ignored (as under `nohup`), every other stop signal at its default.
    """
    from dpaguard.cli import STOP_SIGNALS
    from support.cli import dpaguard_command

    project = tmp_path / "hang"
    shutil.copytree(SOURCE_FIXTURES / "hang", project)
    if extra_config:
        stack = project / "Pulumi.dev.yaml"
        stack.write_text(stack.read_text(encoding="utf-8") + extra_config, encoding="utf-8")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TMPDIR"] = str(temp)
    command = [*dpaguard_command(), "check", "--project-dir", str(project), "--stack", "dev", "--no-checkov", "--timeout", "300", "--quiet"]
    stops = ",".join(signum.name for signum in (signal.SIGINT, *STOP_SIGNALS))  # Ctrl-C, and what dpaguard stops on
    process = subprocess.Popen(
        [sys.executable, "-c", _WITH_DEFAULT_SIGNALS, stops, ",".join(ignored), *command],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    deadline = time.monotonic() + 60
    while not named_process_in(project, "dpaguard-hang"):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the program never started"
        time.sleep(0.05)
    return process, project, temp
