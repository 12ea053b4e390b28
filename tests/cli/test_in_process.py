"""The command-line tests run `dpaguard` in process (support/cli.py): that must be the installed command's
behaviour, and must leave the test process as it found it. These few runs of the console script are
also its smoke tests: it is installed, it runs, it fails in one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support import CLI_FIXTURES
from support.cli import dpaguard, dpaguard_process
from support.source_helpers import all_gone_soon, copy_fixture, processes_in

EPOCH = {"SOURCE_DATE_EPOCH": "1800000000"}  # generatedAt fixed, so two runs' reports compare byte for byte

ARGVS = {
    "audit": ["audit", "--state", str(CLI_FIXTURES / "prod-drifted.json"), "--today", "2026-11-27", "--format", "json"],
    "version": ["--version"],
    "usage error": ["audit", "--format", "json"],
    "bad input": ["audit", "--state", "/nonexistent/prod.json"],
}


@pytest.mark.parametrize("argv", ARGVS.values(), ids=list(ARGVS))
def test_in_process_is_the_installed_command(argv: list[str]) -> None:
    inside, installed = dpaguard(*argv, env=EPOCH), dpaguard_process(*argv, env=EPOCH)
    assert installed.returncode in (0, 1, 2), installed.stderr
    assert (inside.returncode, inside.stdout, inside.stderr) == (installed.returncode, installed.stdout, installed.stderr)


def _process_state() -> dict[str, object]:
    umask = os.umask(0o077)
    os.umask(umask)
    return {
        "cwd": os.getcwd(), "environ": dict(os.environ), "umask": umask,
        "streams": (sys.stdin, sys.stdout, sys.stderr),
        "descriptors": [(os.fstat(fd).st_dev, os.fstat(fd).st_ino) for fd in (0, 1, 2)],
        "handlers": {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM)},
    }


def test_a_run_in_process_leaves_the_process_as_it_found_it(tmp_path: Path) -> None:
    before = _process_state()
    run = dpaguard("audit", "--state", CLI_FIXTURES / "prod-drifted.json", "--format", "json", "--output", "report.json",
                   cwd=tmp_path, env={"NO_COLOR": "1", **EPOCH})
    assert run.returncode == 1 and (tmp_path / "report.json").is_file(), run.stderr
    # `main` sets its SIGTERM handler, the run had its own cwd and environment: all put back
    assert _process_state() == before


@pytest.mark.e2e  # renders a program
def test_a_run_past_its_time_limit_is_timeout_expired_and_stops_what_it_started(tmp_path: Path) -> None:
    project = copy_fixture("hang", tmp_path)
    with pytest.raises(subprocess.TimeoutExpired):
        dpaguard("render", "--stack", "dev", "--project-dir", project, "--timeout", "120", timeout=3)
    assert all_gone_soon(project), processes_in(project)
