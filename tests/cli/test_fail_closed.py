"""The command fails closed: files it writes never alias each other or its input, the exit code survives
a closed pipe, time limits are finite, stderr is printable, and the date waivers are judged against is
shown and recorded. All through the command line (in process; the closed pipes with the installed `dpaguard`)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support import CLI_FIXTURES, REPO, SOURCE_FIXTURES
from support.cli import assert_one_line_error, dpaguard, dpaguard_command

STATE = CLI_FIXTURES / "prod-drifted.json"
TODAY = ["--today", "2026-11-27"]


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    """A folder with a state file and an evidence log holding one entry."""
    shutil.copy(STATE, tmp_path / "state.json")
    run = dpaguard("audit", "--state", "state.json", *TODAY, "--evidence", "evidence.jsonl", "--quiet",
                   "--format", "json", "--output", "first.json", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    (tmp_path / "sub").mkdir()
    return tmp_path


ALIASES = {
    "same-name": (["--output", "evidence.jsonl", "--evidence", "evidence.jsonl"], "are the same file"),
    "dot-dot": (["--output", "sub/../evidence.jsonl", "--evidence", "evidence.jsonl"], "are the same file"),
    "symlink": (["--output", "link.jsonl", "--evidence", "evidence.jsonl"], "are the same file"),
    "hard-link": (["--output", "hard.jsonl", "--evidence", "evidence.jsonl"], "are the same file"),
    "two-outputs": (["--format", "json", "--format", "sarif", "--output", "r.json", "--output", "./sub/../r.json"],
                    "are the same file"),
    "new-file-twice": (["--output", "new.json", "--evidence", "./new.json"], "are the same file"),
    "output-over-state": (["--output", "state.json"], "is the same file as --state state.json"),
    "evidence-over-state": (["--evidence", "sub/../state.json"], "is the same file as --state state.json"),
    "output-over-state-link": (["--output", "state-link.json"], "is the same file as --state state.json"),
}


@pytest.mark.parametrize("case", ALIASES, ids=list(ALIASES))
def test_a_run_never_writes_one_file_twice_or_over_its_input(workdir: Path, case: str) -> None:
    (workdir / "link.jsonl").symlink_to("evidence.jsonl")
    os.link(workdir / "evidence.jsonl", workdir / "hard.jsonl")
    (workdir / "state-link.json").symlink_to("state.json")
    before = {p.name: p.read_bytes() for p in workdir.iterdir() if p.is_file()}
    args, expected = ALIASES[case]
    run = dpaguard("audit", "--state", "state.json", *TODAY, *args, cwd=workdir)
    assert_one_line_error(run, expected)
    assert {p.name: p.read_bytes() for p in workdir.iterdir() if p.is_file()} == before  # nothing written


def test_a_stack_config_is_an_input_too(workdir: Path) -> None:
    shutil.copy(CLI_FIXTURES / "dev.json", workdir / "dev.json")
    shutil.copy(CLI_FIXTURES / "Pulumi.dev.yaml", workdir / "Pulumi.dev.yaml")
    run = dpaguard("audit", "--state", "dev.json", "--stack-config", "Pulumi.dev.yaml", "--output", "./Pulumi.dev.yaml",
                   cwd=workdir)
    assert_one_line_error(run, "is the same file as --stack-config Pulumi.dev.yaml")


@pytest.mark.parametrize(("flag", "name", "expected"), [
    ("--output", "Pulumi.dev.yaml", "is the same file as stack config"),
    ("--evidence", "Pulumi.yaml", "is the same file as project file"),
])
def test_check_never_writes_over_the_project_or_stack_files(tmp_path: Path, flag: str, name: str, expected: str) -> None:
    project = tmp_path / "p"
    shutil.copytree(SOURCE_FIXTURES / "components", project)
    before = (project / name).read_bytes()
    (project / "x").mkdir()
    run = dpaguard("check", "--no-checkov", "-C", project, flag, project / "x" / ".." / name)
    assert_one_line_error(run, expected)
    assert (project / name).read_bytes() == before


def test_export_never_writes_over_its_state(workdir: Path) -> None:
    run = dpaguard("export", "--state", "state.json", "--output", "sub/../state.json", cwd=workdir)
    assert_one_line_error(run, "--output sub/../state.json is the same file as --state state.json")


# -- a reader that leaves early ------------------------------------------------------------------------------


def test_the_exit_code_is_the_results_when_the_reader_of_stdout_has_left() -> None:
    # The read end is closed before dpaguard writes a byte: its write meets EPIPE for certain.
    process = subprocess.Popen([*dpaguard_command(), "audit", "--state", str(STATE), *TODAY, "--format", "json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=REPO)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 1, stderr  # prod-drifted.json has mandatory findings
    assert "Traceback" not in stderr and "Broken pipe" not in stderr and "Exception ignored" not in stderr, stderr


def test_a_failing_gate_fails_under_pipefail() -> None:
    # `true` leaves without reading: under pipefail the pipeline's status is dpaguard's own
    command = " ".join([*dpaguard_command(), "audit", "--state", str(STATE), *TODAY, "--format", "json"])
    run = subprocess.run(["bash", "-c", f"set -o pipefail; {command} | true"], capture_output=True, text=True,
                         cwd=REPO, timeout=120, stdin=subprocess.DEVNULL)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr


# -- time limits ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e309", "0", "-1", "1e300", "soon"])
@pytest.mark.parametrize(
    "command",
    [
        ["check", "--no-checkov", "--timeout"],
        ["render", "--stack", "dev", "--timeout"],
        ["export", "--stack", "dev", "--timeout"],
        ["audit", "--state", str(STATE), "--opa-timeout"],
        ["check", "--no-checkov", "--opa-timeout"],
    ],
    ids=["check", "render", "export", "audit-opa", "check-opa"],
)
def test_time_limits_are_positive_finite_numbers(command: list[str], value: str) -> None:
    run = dpaguard(*command[:-1], f"{command[-1]}={value}")
    assert run.returncode == 2 and run.stdout == "", (run.returncode, run.stderr)
    (line,) = run.stderr.splitlines()
    flag = command[-1]
    assert line.startswith(f"dpaguard {command[0]}: error: argument {flag}: ") and repr(value) in line, line


# -- stderr is printable ------------------------------------------------------------------------------------


@pytest.mark.e2e  # renders a program
def test_terminal_escapes_in_a_programs_exception_are_shown_escaped(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: escapes\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text('raise RuntimeError("boom \\x1b[2J\\x1b]0;owned\\x07 \\x9b31m done")\n')
    run = dpaguard("render", "--stack", "dev", "--project-dir", tmp_path)
    assert run.returncode == 2, run.stderr
    assert "RuntimeError" in run.stderr and "boom" in run.stderr
    assert "\\x1b[2J" in run.stderr and "\\x07" in run.stderr and "\\x9b" in run.stderr, run.stderr
    assert all(ch.isprintable() for line in run.stderr.splitlines() for ch in line), repr(run.stderr)


def test_control_characters_in_an_argument_are_shown_escaped(tmp_path: Path) -> None:
    run = dpaguard("audit", "--state", tmp_path / "\x1b[31mred\x07.json")
    assert_one_line_error(run, "\\x1b[31mred\\x07.json: state file not found")
    bad_choice = dpaguard("audit", "--state", STATE, "--format", "\x1b[2J")
    assert bad_choice.returncode == 2 and "\x1b" not in bad_choice.stderr and "\\x1b[2J" in bad_choice.stderr


# -- the date waivers are judged against ----------------------------------------------------------------------


def test_today_is_recorded_and_a_date_other_than_the_real_one_is_noted(tmp_path: Path) -> None:
    run = dpaguard("audit", "--state", STATE, "--today", "2020-01-01", "--format", "json", "--evidence",
                   tmp_path / "e.jsonl", "--quiet")
    assert run.returncode == 1, run.stderr
    assert json.loads(run.stdout)["today"] == "2020-01-01"
    entry = json.loads((tmp_path / "e.jsonl").read_text().splitlines()[0])
    assert entry["run"]["today"] == "2020-01-01"
    real = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert run.stderr.splitlines() == [f"dpaguard: note: waivers judged as of --today 2020-01-01, not the UTC date {real}"]


def test_without_today_the_real_utc_date_is_recorded_and_nothing_noted() -> None:
    run = dpaguard("audit", "--state", STATE, "--format", "json")
    real = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert run.returncode == 1 and json.loads(run.stdout)["today"] in (real, dt.date.today().isoformat())
    assert "--today" not in run.stderr


# -- the last resort --------------------------------------------------------------------------------------------


def test_an_unexpected_exception_is_one_line_naming_its_type_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import dpaguard.cli.controls as controls
    from dpaguard.cli import main

    def broken(args: Any) -> int:
        raise KeyError("CANARY-INTERNAL-\x1b[2J")

    monkeypatch.setattr(controls, "run", broken)
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    assert main(["controls"]) == 2
    (line,) = stderr.getvalue().splitlines()
    assert line.startswith("dpaguard: internal error (KeyError): this is a bug in dpaguard"), line
    assert "CANARY" not in line and "\x1b" not in line


def test_progress_on_a_broken_stderr_does_not_stop_the_run() -> None:
    from dpaguard.cli._common import ProgressLine

    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    progress = ProgressLine(["dev", "prod"], enabled=True, stream=Broken())
    progress("dev", "start", "")
    progress("dev", "done", "3 resources, 0.1s")  # would raise before
    progress.clear()


def _project_with_links(tmp_path: Path) -> Path:
    project = tmp_path / "p"
    shutil.copytree(SOURCE_FIXTURES / "components", project)
    (project / "x").mkdir()
    (project / "config-link.yaml").symlink_to("Pulumi.dev.yaml")
    os.link(project / "__main__.py", project / "x" / "hard-main.py")
    return project


@pytest.mark.parametrize(("command", "target", "expected"), [
    ("render", "x/../Pulumi.dev.yaml", "is the same file as stack config"),
    ("render", "config-link.yaml", "is the same file as stack config"),
    ("render", "Pulumi.yaml", "is the same file as project file"),
    ("render", "__main__.py", "is a source file of the program"),
    ("render", "x/hard-main.py", "is a source file of the program"),
    ("export", "x/../Pulumi.dev.yaml", "is the same file as stack config"),
])
def test_render_and_export_never_write_over_the_project_they_render(tmp_path: Path, command: str, target: str,
                                                                     expected: str) -> None:
    project = _project_with_links(tmp_path)
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    run = dpaguard(command, "--project-dir", project, "--stack", "dev",
                   "--output", project / target)
    assert_one_line_error(run, expected)
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("command", ["data", "bundle"])
@pytest.mark.parametrize(("target", "expected"), [
    ("policies/dpa/controls.yaml", "is inside the policy set"),
    ("policies/rego/new.json", "is inside the policy set"),
    ("controls-link.yaml", "is inside the policy set"),
    ("controls-hard.yaml", "is the same file as"),
])
def test_data_and_bundle_never_write_over_the_policy_set(tmp_path: Path, command: str, target: str, expected: str) -> None:
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    (tmp_path / "controls-link.yaml").symlink_to("policies/dpa/controls.yaml")
    os.link(tmp_path / "policies" / "dpa" / "controls.yaml", tmp_path / "controls-hard.yaml")
    before = {p: p.read_bytes() for p in (tmp_path / "policies").rglob("*") if p.is_file()}
    run = dpaguard(command, "--policies", "policies", "--output", target, cwd=tmp_path)
    assert_one_line_error(run, expected)
    assert {p: p.read_bytes() for p in (tmp_path / "policies").rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("baseline", ["first.json", "sub/../first.json"])
def test_audit_never_writes_its_report_over_its_baseline(workdir: Path, baseline: str) -> None:
    before = (workdir / "first.json").read_bytes()
    run = dpaguard("audit", "--state", "state.json", *TODAY, "--format", "json", "--output", "first.json",
                   "--baseline", baseline, cwd=workdir)
    assert_one_line_error(run, f"--output first.json is the same file as --baseline {baseline}")
    assert (workdir / "first.json").read_bytes() == before
