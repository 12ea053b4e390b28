"""Files a pull request can name or plant where dpaguard reads one: bounded, and only regular files (issue 24, M4).

`dpaguard evidence verify /dev/zero` once grew to 24 GB. Every reader of a file given to dpaguard (the
evidence log, waivers and the DPA tables, `Pulumi.yaml` and stack configs, a baseline report) refuses a
device, a fifo or a socket, and a file beyond its size limit, with exit 2 and one line. Each run has a
time limit and an address-space limit, so a regression fails the test instead of the machine.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from pathlib import Path

import pytest

from support import CLI_FIXTURES, POLICIES, REPO, SOURCE_FIXTURES
from support.cli import assert_one_line_error, dpaguard_command

from dpaguard.inputs import MAX_CONFIG_BYTES, MAX_RECORD_BYTES, UnfitInput, read_input

STATE = CLI_FIXTURES / "prod-drifted.json"
NOT_REGULAR = "not a regular file"


def _limited() -> None:
    """In the child: at most 2 GB of memory (a reader of /dev/zero dies here rather than taking the machine)."""
    resource.setrlimit(resource.RLIMIT_DATA, (2 << 30, 2 << 30))


def _dpaguard(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The installed `dpaguard`, bounded in memory and time (a fifo opened for reading would wait for ever)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "SOURCE_DATE_EPOCH")}
    return subprocess.run([*dpaguard_command(), *map(str, args)], capture_output=True, text=True, cwd=REPO,
                          timeout=timeout, stdin=subprocess.DEVNULL, env=environment, preexec_fn=_limited)


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


@pytest.mark.parametrize("command", ["verify", "history"])
def test_evidence_of_a_device_is_refused(command: str) -> None:
    assert_one_line_error(_dpaguard("evidence", command, "/dev/zero"), f"evidence log /dev/zero: cannot read: {NOT_REGULAR}")


def test_evidence_of_a_fifo_is_refused(tmp_path: Path) -> None:
    log = _fifo(tmp_path / "evidence.jsonl")
    assert_one_line_error(_dpaguard("evidence", "verify", log), NOT_REGULAR)


def test_evidence_beyond_the_limit_is_refused(tmp_path: Path) -> None:
    log = _sparse(tmp_path / "evidence.jsonl", MAX_RECORD_BYTES + 1)
    assert_one_line_error(_dpaguard("evidence", "verify", log), "cannot read: larger than 256 MB")


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_appending_evidence_to_a_device_or_fifo_is_refused(tmp_path: Path, target: str) -> None:
    log = "/dev/zero" if target == "/dev/zero" else _fifo(tmp_path / "evidence.jsonl")
    run = _dpaguard("audit", "--state", STATE, "--evidence", log, "--quiet", "--output", tmp_path / "r.txt")
    assert_one_line_error(run, f"cannot append: {NOT_REGULAR}")


def _policies(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    return root


@pytest.mark.parametrize("name", ["waivers.yaml", "dpa/settings.yaml", "rego/backup.rego"])
def test_a_policy_file_that_is_a_device_or_fifo_is_refused(tmp_path: Path, name: str) -> None:
    for kind in ("device", "fifo"):
        root = _policies(tmp_path / kind)
        target = root / name
        target.unlink()
        if kind == "device":
            target.symlink_to("/dev/zero")
        else:
            _fifo(target)
        run = _dpaguard("audit", "--state", STATE, "--policies", root)
        assert_one_line_error(run, f"{name}: cannot read: {NOT_REGULAR}")


def test_a_policy_file_beyond_the_limit_is_refused(tmp_path: Path) -> None:
    root = _policies(tmp_path)
    _sparse(root / "waivers.yaml", MAX_CONFIG_BYTES + 1)
    assert_one_line_error(_dpaguard("audit", "--state", STATE, "--policies", root), "waivers.yaml: cannot read: larger than 16 MB")


@pytest.mark.parametrize("name, device, large", [
    ("Pulumi.yaml", "no Pulumi.yaml", "Pulumi.yaml: cannot read project file: larger than 16 MB"),
    ("Pulumi.dev.yaml", "unknown stack 'dev'", "Pulumi.dev.yaml: cannot read stack config file: larger than 16 MB"),
])
def test_a_project_file_that_is_a_device_or_too_large_is_refused(tmp_path: Path, name: str, device: str, large: str) -> None:
    for kind, expected in (("device", device), ("large", large)):
        project = tmp_path / kind
        shutil.copytree(SOURCE_FIXTURES / "components", project)
        target = project / name
        if kind == "device":
            target.unlink()
            target.symlink_to("/dev/zero")
        else:
            _sparse(target, MAX_CONFIG_BYTES + 1)
        run = _dpaguard("check", "--no-checkov", "--stack", "dev", "--project-dir", project)
        assert_one_line_error(run, expected)


def test_a_baseline_that_is_a_device_is_refused(tmp_path: Path) -> None:
    run = _dpaguard("audit", "--state", STATE, "--baseline", "/dev/zero", "--format", "json")
    assert_one_line_error(run, f"/dev/zero: cannot read: {NOT_REGULAR}")


def test_read_input_stops_at_its_limit_even_if_the_size_lied(tmp_path: Path) -> None:
    small = tmp_path / "small"
    small.write_bytes(b"x" * 10)
    assert read_input(small, 10) == b"x" * 10
    with pytest.raises(UnfitInput, match="larger than 0 MB"):
        read_input(small, 9)
    with pytest.raises(UnfitInput, match="is a directory"):
        read_input(tmp_path, 10)


def test_the_checkov_mapping_reader_refuses_an_oversized_file(tmp_path: Path) -> None:
    """The checkov stage reads the mapping (in `policies/`); the stack configs are the findings stage's (the facts)."""
    from dpaguard.checkov import MAPPING_FILE, load_mapping
    from dpaguard.errors import PolicyError

    root = _policies(tmp_path)
    _sparse(root / MAPPING_FILE, MAX_CONFIG_BYTES + 1)
    with pytest.raises(PolicyError, match="larger than 16 MB"):
        load_mapping(root)


@pytest.mark.parametrize("planted", ["os.mkfifo(b)", "os.symlink('/dev/zero', b)"], ids=["fifo", "dev-zero"])
def test_a_program_cannot_plant_its_result_as_a_fifo_or_a_device(tmp_path: Path, planted: str) -> None:
    """The program shares its process with dpaguard's runner: it can make the result file something else."""
    project = tmp_path / "project"
    shutil.copytree(SOURCE_FIXTURES / "components", project)
    with (project / "__main__.py").open("a", encoding="utf-8") as handle:
        handle.write(f"\nimport os\nos.replace = lambda a, b: (os.unlink(a), {planted})\n")
    run = _dpaguard("check", "--no-checkov", "--stack", "dev", "--project-dir", project, timeout=90)
    assert_one_line_error(run, "program runner wrote an unreadable result")
