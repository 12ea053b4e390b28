"""The program of a pull request cannot change what dpaguard reads after it, nor undo what dpaguard does to its answer (issue 24).

Each case is a small hostile Pulumi program of tests/source/fixtures, rendered for real through the
launcher: it tries the write, the scrub undo or the limit lift the attack used, and the test checks the
files, the output and the exit code dpaguard gives, not what the program says about itself alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import pytest

from support.cli import dpaguard, dpaguard_command
from support.source_helpers import by_name, copy_fixture, wait_for_named_process

import dpaguard as dpaguard_package
from dpaguard import contain
from dpaguard.errors import ProgramError
from dpaguard.source import program
from dpaguard.source.program import render_stack

# Each case renders a hostile program or runs the real checkov and git: the e2e tier.
pytestmark = pytest.mark.e2e

# The folder of the dpaguard package the tests run (an editable install: a checkout the program could write).
PACKAGE = Path(dpaguard_package.__file__).resolve().parent
PROBE = PACKAGE / "_hostile_probe.py"
REFUSED = "EROFS"


def _tree(root: Path) -> dict[str, str]:
    """Every file under `root` (hidden ones and .git included) by relative path: its sha256, or where a symlink points."""
    files = {}
    for current, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            path = Path(current) / name
            relative = path.relative_to(root).as_posix()
            files[relative] = f"-> {os.readlink(path)}" if path.is_symlink() else hashlib.sha256(path.read_bytes()).hexdigest()
        for name in dirs:
            files[(Path(current) / name).relative_to(root).as_posix() + "/"] = "folder"
    return files


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[Path]:
    """A copy of the hostile-writes program; a module it managed to plant in dpaguard is removed afterwards."""
    project = copy_fixture("hostile_writes", tmp_path)
    try:
        yield project
    finally:
        PROBE.unlink(missing_ok=True)


def test_the_program_writes_nothing_dpaguard_reads_after_it(hostile: Path) -> None:
    before, package = _tree(hostile), _tree(PACKAGE)
    deployment = render_stack(hostile, "dev", timeout=120)
    attempts = deployment.resources[0]["outputs"]["attempts"]
    assert attempts == {
        "dpaguard-module": REFUSED, "dpaguard-new-module": REFUSED, "policies": REFUSED, "git": REFUSED,
        "checkov-config": REFUSED, "key-file": REFUSED, "remount": "EPERM", "scratch": "written",
    }
    assert not PROBE.exists()
    assert _tree(PACKAGE) == package
    assert _tree(hostile) == before
    assert by_name(deployment, "hostile")["type"] == "scaleway:network/vpc:Vpc"


def test_check_scans_the_key_file_the_program_tried_to_delete_and_reads_no_waiver_it_wrote(hostile: Path) -> None:
    runs = [dpaguard("check", "--project-dir", hostile, "--stack", "dev", "--no-checkov", "--format", "json")
            for _ in range(2)]
    for run in runs:
        assert run.returncode == 1, run.stderr
        report = json.loads(run.stdout)
        keys = [f for f in report["findings"] if f["control"] == "DPA-SEC-104"]
        assert [(f["location"]["path"], f["location"]["line"]) for f in keys] == [("deploy.env", 2)]
        assert not any(f.get("waived") for f in report["findings"])
    assert not (hostile / "policies").exists() and not (hostile / ".git").exists()


def test_the_credential_scan_reads_the_files_before_an_uncontained_program_deletes_them(
    hostile: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from dpaguard.cli import main

    monkeypatch.setattr(program, "USE_NAMESPACES", False)  # as without the namespaces (DPAGUARD_ALLOW_UNCONTAINED)
    code = main(["check", "--project-dir", str(hostile), "--stack", "dev", "--no-checkov", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert not (hostile / "deploy.env").exists(), "the program did not delete its key file"
    keys = [f for f in report["findings"] if f["control"] == "DPA-SEC-104"]
    assert [(f["location"]["path"], f["location"]["line"]) for f in keys] == [("deploy.env", 2)]
    assert code == 1


def test_a_plaintext_credential_is_cut_out_even_where_the_program_undid_the_scrub(tmp_path: Path) -> None:
    project = copy_fixture("undo_scrub", tmp_path)
    output = tmp_path / "render.json"
    run = dpaguard("render", "--project-dir", project, "--stack", "dev", "--output", output)
    assert run.returncode == 0, run.stderr
    text = output.read_text()
    assert "CANARYPLAINUNDO0042" not in text + run.stdout + run.stderr
    (vpc,) = [r for r in json.loads(text)["deployment"]["resources"] if r["urn"].endswith("::leaky")]
    assert vpc["inputs"]["tags"] == ["admin=[plaintext redacted]"]


def test_the_program_cannot_lift_its_address_space_limit(tmp_path: Path) -> None:
    deployment = render_stack(copy_fixture("lift_limit", tmp_path), "dev")
    outputs = deployment.resources[0]["outputs"]
    limit = program.MEMORY_LIMIT_MB * 1024 * 1024
    assert outputs["attempt"] == "ValueError"
    assert outputs["limits"] == [limit, limit]


def test_the_request_with_the_plaintext_config_is_gone_while_the_program_runs(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    project = copy_fixture("hang", tmp_path)
    errors: list[str] = []

    def render() -> None:
        try:
            render_stack(project, "dev", timeout=4)
        except ProgramError as error:
            errors.append(str(error))

    worker = threading.Thread(target=render)
    worker.start()
    try:
        assert wait_for_named_process(project, "dpaguard-hang", within=30), "the program never ran"
        (work,) = temp.iterdir()
        assert work.name.startswith("dpaguard-render-") and (work.stat().st_mode & 0o777) == 0o700
        assert sorted(p.name for p in work.iterdir()) == ["tmp"]
    finally:
        worker.join()
    assert errors == ["render stack dev: program did not finish within 4 s"]
    assert list(temp.iterdir()) == []


def _can_drop_sys_admin() -> bool:
    return os.getuid() == 0 and shutil.which("setpriv") is not None


@pytest.mark.skipif(not _can_drop_sys_admin(), reason="needs root and setpriv: the test makes the kernel refuse the "
                    "namespaces by dropping CAP_SYS_ADMIN (an unprivileged user gets a user namespace instead)")
def test_where_the_kernel_refuses_namespaces_the_program_does_not_run(hostile: Path) -> None:
    before = _tree(hostile)
    refuse = ["setpriv", "--bounding-set", "-sys_admin"]
    environment = {k: v for k, v in os.environ.items() if k != program.ALLOW_UNCONTAINED_ENV}
    run = subprocess.run([*refuse, *dpaguard_command(), "render", "--project-dir", str(hostile), "--stack", "dev"],
                         capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL, env=environment)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("dpaguard: render stack dev: cannot contain the program: the kernel refuses it namespaces")
    assert run.stderr.count("\n") == 1 and run.stdout == ""
    assert _tree(hostile) == before and not PROBE.exists()


def test_the_launcher_runs_nothing_without_the_namespaces_it_was_told_to_require(monkeypatch: pytest.MonkeyPatch,
                                                                                  tmp_path: Path) -> None:
    witness = tmp_path / "ran"
    monkeypatch.setattr(contain, "_isolate", lambda: False)  # the kernel's refusal, as _isolate reports it
    assert contain.main(["--require-isolation", "--", "touch", str(witness)]) == contain.NO_ISOLATION
    assert contain.main(["--no-isolate", "--writable", str(tmp_path), "--", "touch", str(witness)]) == contain.NO_ISOLATION
    assert not witness.exists()


def test_the_fixture_programs_attempts_succeed_without_the_view(hostile: Path) -> None:
    """The hostile program is a real threat: run without namespaces (the opt-out), every write lands."""
    script = (
        "import sys\nfrom dpaguard.source import program\n"
        "program.USE_NAMESPACES = False\n"
        "d = program.render_stack(sys.argv[1], 'dev', timeout=120)\n"
        "print(__import__('json').dumps(d.resources[0]['outputs']['attempts']))\n"
    )
    python = Path(dpaguard_command()[0]).parent / "python"
    run = subprocess.run([str(python), "-c", script, str(hostile)], capture_output=True, text=True, timeout=180,
                         stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr
    attempts = json.loads(run.stdout)
    assert {k: v for k, v in attempts.items() if k != "remount"} == dict.fromkeys(set(attempts) - {"remount"}, "written")
    assert (hostile / "policies" / "dpa" / "waivers.yaml").exists() and not (hostile / "deploy.env").exists()



def test_a_program_that_writes_beside_its_sources_fails_in_one_line_saying_where_it_may_write(tmp_path: Path) -> None:
    project = tmp_path / "writer"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: writer\nruntime: python\n")
    (project / "Pulumi.dev.yaml").write_text("config:\n  scaleway:region: fr-par\n")
    (project / "__main__.py").write_text("open('generated.txt', 'w').write('x')\n")
    with pytest.raises(ProgramError) as caught:
        render_stack(project, "dev")
    line = caught.value.one_line()
    assert line.startswith("render stack dev: __main__.py:1: OSError: [Errno 30] Read-only file system"), line
    assert line.endswith("(during dpaguard's render a program may write only to its temporary folder ($TMPDIR), see SECURITY.md)")
    assert not (project / "generated.txt").exists()
