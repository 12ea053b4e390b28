"""A program that fails is one line: its own file:line and the exception, and the lookups that ran before it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import SOURCE_FIXTURES

from dpaguard.errors import ProgramError
from dpaguard.source._runner import LOOKUP_MARK
from dpaguard.source.failure import STDERR_TAIL_BYTES, StderrTail, failure_line
from dpaguard.source.program import render_stack

ROOT = Path("/work/project")
ZONES = "scaleway:index/getAvailabilityZones:getAvailabilityZones"


def _traceback(*frames: str, last: str) -> str:
    lines = ["Traceback (most recent call last):"]
    for frame in frames:
        lines += [f'  File "{frame}", line 12, in f', "    code()"]
    return "\n".join([*lines, last, ""])


def test_the_line_names_the_programs_innermost_frame_and_the_exception() -> None:
    stderr = _traceback(
        "/opt/dpaguard/source/_runner.py", f"{ROOT}/__main__.py", f"{ROOT}/lib/sizes.py",
        f"{ROOT}/.venv/lib/python3.11/site-packages/pulumi/output.py",
        last="pulumi.errors.RunError: bad size",
    )
    line = failure_line(stderr, [ZONES], ROOT, 1, [])
    assert line == (
        "lib/sizes.py:12: RunError: bad size (the program's process ended before answering: exit code 1)"
        f" (offline, 1 lookup(s) answered nothing before it: {ZONES})"
    )


def test_the_exception_that_ended_the_process_is_the_last_one() -> None:
    first = _traceback(f"{ROOT}/__main__.py", last="KeyError: 'size'")
    second = _traceback("/usr/lib/python3.11/runpy.py", last="RuntimeError: while handling it")
    line = failure_line(first + "\nDuring handling of the above exception, another exception occurred:\n\n" + second, [], ROOT, 1, [])
    assert line.startswith("__main__.py:12: RuntimeError: while handling it (")


def test_without_a_traceback_the_line_says_what_was_printed_last_and_how_it_ended() -> None:
    assert failure_line("Fatal Python error: Segmentation fault\n\n", [], ROOT, 139, []) == (
        "it printed last: Fatal Python error: Segmentation fault (the program's process ended before answering: killed by signal 11)"
    )
    assert failure_line("", [], ROOT, 137, []).startswith("it printed nothing on stderr (")


def test_known_plaintext_and_credentials_never_reach_the_line() -> None:
    stderr = _traceback(f"{ROOT}/__main__.py", last="ValueError: token hunter2-token and key SCWABCDEFGHIJKLMNOPQ")
    line = failure_line(stderr, [], ROOT, 1, ["hunter2-token"])
    assert "hunter2" not in line and "SCWABCDEFGHIJKLMNOPQ" not in line and "[redacted]" in line


@pytest.mark.slow
def test_a_program_that_dies_without_answering_is_one_line_with_its_file_line_and_lookups() -> None:
    with pytest.raises(ProgramError) as caught:
        render_stack(SOURCE_FIXTURES / "dies", "dev", timeout=60)
    message = caught.value.one_line()
    assert message == (
        "render stack dev: __main__.py:16: LookupError: no zone for token [redacted]"
        " (the program's process ended before answering: exit code 7)"
        f" (offline, 1 lookup(s) answered nothing before it: {ZONES}) (the program ran under {sys.executable})"
    )
    assert "plaintext-token-4711" not in message


@pytest.mark.slow
def test_a_program_killed_by_a_signal_says_which(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: killed\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text("import os\nimport signal\n\nos.kill(os.getpid(), signal.SIGKILL)\n")
    with pytest.raises(ProgramError) as caught:
        render_stack(tmp_path, "dev", timeout=60)
    assert caught.value.one_line() == (
        "render stack dev: it printed nothing on stderr (the program's process ended before answering: killed by signal 9)"
        f" (the program ran under {sys.executable})"
    )


@pytest.mark.slow
def test_an_apply_callback_that_fails_is_located_at_its_line() -> None:
    # The SDK re-raises it where the id is awaited, far from the callback: the line is read where it is raised.
    with pytest.raises(ProgramError) as caught:
        render_stack(SOURCE_FIXTURES / "apply_failure", "dev", timeout=60)
    assert caught.value.one_line() in (
        f"render stack dev: __main__.py:7: IndexError: list index out of range (the program ran under {sys.executable})",
        f"render stack dev: __main__.py:8: IndexError: list index out of range (the program ran under {sys.executable})",
    )


@pytest.mark.slow
def test_a_failure_the_runner_catches_names_the_lookups_that_ran_before_it(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: lookup\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(
        "import base64\nimport pulumiverse_scaleway as scaleway\n\n"
        "ip = scaleway.ipam.get_ip(type='ipv4')\nbase64.b64decode(ip.address)\n"
    )
    with pytest.raises(ProgramError) as caught:
        render_stack(tmp_path, "dev", timeout=60)
    message = caught.value.one_line()
    # the field is unknown offline: the program decodes a stand-in, not None, and fails on it
    assert message.startswith("render stack dev: __main__.py:5: Error: ")
    assert message.endswith("(offline, 1 lookup(s) answered nothing before it: scaleway:ipam/getIp:getIp)"
                            f" (the program ran under {sys.executable})")


def test_stderr_is_kept_bounded_and_the_lookup_marks_survive_a_flood() -> None:
    tail = StderrTail()
    flood = f"import sys; sys.stderr.write({LOOKUP_MARK!r} + 'a:b:c' + chr(10) + 'x' * 300000 + chr(10) + 'end')"
    try:
        process = subprocess.Popen([sys.executable, "-c", flood], stderr=tail.writer)
    finally:
        tail.started()
    process.wait()
    text = tail.text()
    assert len(text) == STDERR_TAIL_BYTES and text.endswith("x\nend")
    assert tail.lookups == ["a:b:c"]
