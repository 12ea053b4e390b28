"""Hostile input, end to end through the command line: each case is one `dpaguard: ...` line and exit 2.

Every case here once ended in a traceback, a hang, a MemoryError or a silent pass (issue 15, item 7
and 8). Each builds its input in a temporary folder, runs the command and expects exactly one line
naming the file or setting at fault, never a traceback and never the offending content.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Callable

import pytest

from support import CLI_FIXTURES, POLICIES, REPO, SOURCE_FIXTURES
from support.cli import dpaguard, dpaguard_command

STATE = CLI_FIXTURES / "prod-drifted.json"
COMPONENTS = SOURCE_FIXTURES / "components"
CANARY = "CANARY-HOSTILE-5e1d"
Case = Callable[[Path], "tuple[subprocess.CompletedProcess[str], str]"]


def _state_with(tmp_path: Path, value: str) -> Path:
    doc = json.loads(STATE.read_text())
    doc["deployment"]["resources"][-1].setdefault("inputs", {})["days"] = "@VALUE@"
    path = tmp_path / "state.json"
    path.write_text(json.dumps(doc).replace('"@VALUE@"', value))
    return path


def _policies(tmp_path: Path) -> Path:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    return policies


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(COMPONENTS, project)
    return project


def _shell(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update(env)
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=180, cwd=REPO,
                          stdin=subprocess.DEVNULL, env=environment)


def _dpaguard_line(*args: str | Path) -> str:
    return " ".join(shlex.quote(str(a)) for a in [*dpaguard_command(), *args])


def state_5000_digits(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    return dpaguard("audit", "--state", _state_with(tmp_path, "7" * 5000)), "not valid JSON: integer overflow"


def state_nan(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    return dpaguard("audit", "--state", _state_with(tmp_path, "NaN")), "not valid JSON: non-standard number"


def state_unreadable(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    if os.geteuid() == 0:
        pytest.skip("root reads any file; tests/source/test_state_hostile.py covers permission denied in-process")
    path = _state_with(tmp_path, "1")
    path.chmod(0)
    return dpaguard("audit", "--state", path), "cannot read state file: Permission denied"


def waiver_impossible_date(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    policies = _policies(tmp_path)
    (policies / "waivers.yaml").write_text(
        "waivers:\n  - control: DPA-RES-001\n    urn: '*'\n    stack: '*'\n    reason: r\n    approver: a\n"
        "    expires: 2027-02-30\n"
    )
    run = dpaguard("audit", "--state", STATE, "--policies", policies)
    return run, "waivers.yaml:7: invalid YAML: not a date that exists"


def subprocessor_impossible_date(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    policies = _policies(tmp_path)
    table = policies / "dpa" / "subprocessors.yaml"
    text = table.read_text()
    line = next(number for number, content in enumerate(text.splitlines(), 1) if content.strip() == "added: null")
    table.write_text(text.replace("added: null", "added: 2027-02-30", 1))
    run = dpaguard("audit", "--state", STATE, "--policies", policies)
    return run, f"subprocessors.yaml:{line}: invalid YAML: not a date that exists"


def project_impossible_date(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    project = _project(tmp_path)
    with (project / "Pulumi.yaml").open("a") as handle:
        handle.write("description: 2027-02-30\n")
    run = dpaguard("check", "--no-checkov", "--project-dir", project)
    return run, "Pulumi.yaml:3: malformed YAML in project file: not a date that exists"


def stack_file_impossible_date(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    project = _project(tmp_path)
    with (project / "Pulumi.dev.yaml").open("a") as handle:
        handle.write("  components:reviewed: 2027-02-30\n")
    run = dpaguard("check", "--no-checkov", "--project-dir", project)
    return run, "Pulumi.dev.yaml:4: malformed YAML in stack config file: not a date that exists"


def main_symlink_loop(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    project = _project(tmp_path)
    (project / "loop-a").symlink_to("loop-b")
    (project / "loop-b").symlink_to("loop-a")
    with (project / "Pulumi.yaml").open("a") as handle:
        handle.write("main: loop-a\n")
    return dpaguard("check", "--no-checkov", "--project-dir", project), "Pulumi.yaml: 'main' is a symlink loop"


def opa_url_unclosed_bracket(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    run = dpaguard("audit", "--state", STATE, "--opa-url", f"http://u:{CANARY}@[::1")
    return run, "--opa-url must be an http:// or https:// URL"


def _log_with(tmp_path: Path, line: str) -> Path:
    log = tmp_path / "evidence.jsonl"
    run = dpaguard("audit", "--state", STATE, "--evidence", log, "--quiet")
    assert run.returncode == 1, run.stderr
    with log.open("a") as handle:
        handle.write(line + "\n")
    return log


def evidence_nan(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    log = _log_with(tmp_path, '{"seq": 2, "previous": "x", "run_digest": "y", "digest": "z", "run": {"n": NaN}}')
    return dpaguard("evidence", "verify", log), "evidence.jsonl: line 2: not a JSON object"


def evidence_deep(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    log = _log_with(tmp_path, "[" * 200_000 + "]" * 200_000)
    return dpaguard("evidence", "history", log), "evidence.jsonl: line 2: nested too deeply"


def evidence_nan_on_append(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    log = _log_with(tmp_path, '{"seq": 2, "previous": "x", "run_digest": "y", "digest": "z", "run": {"n": NaN}}')
    run = dpaguard("audit", "--state", STATE, "--evidence", log, "--quiet", "--output", tmp_path / "r.txt")
    return run, "the newest entry is malformed or altered"


def stdout_full(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    run = _shell(f"{_dpaguard_line('audit', '--state', STATE, '--format', 'json')} > /dev/full")
    return run, "cannot write to stdout: No space left on device"


def stdout_closed(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    return _shell(f"{_dpaguard_line('audit', '--state', STATE)} >&-"), "stdout is closed"


def _max_state(value: str) -> Case:
    def case(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
        run = dpaguard("audit", "--state", STATE, env={"DPAGUARD_MAX_STATE_MB": value})
        return run, f"DPAGUARD_MAX_STATE_MB='{value}' is not a positive, finite number of megabytes"

    return case


def dev_zero(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    run = dpaguard("audit", "--state", "/dev/zero", env={"DPAGUARD_MAX_STATE_MB": "2"}, timeout=60)
    return run, "/dev/zero: state file is above the 2 MB limit"


def endless_pipe(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    run = _shell(f"{_dpaguard_line('audit', '--state')} <(yes)", DPAGUARD_MAX_STATE_MB="2")
    return run, "state file is above the 2 MB limit"


def fifo(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    path = tmp_path / "state.fifo"
    os.mkfifo(path)

    def feed() -> None:
        try:
            with open(path, "wb") as pipe:
                for _ in range(64):
                    pipe.write(b" " * (1 << 20))
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    run = dpaguard("audit", "--state", path, env={"DPAGUARD_MAX_STATE_MB": "2"}, timeout=60)
    writer.join(timeout=30)
    return run, "state file is above the 2 MB limit"


CASES: dict[str, Case] = {
    "state-5000-digit-integer": state_5000_digits,
    "state-nan": state_nan,
    "state-unreadable": state_unreadable,
    "waiver-2027-02-30": waiver_impossible_date,
    "subprocessor-2027-02-30": subprocessor_impossible_date,
    "pulumi-yaml-2027-02-30": project_impossible_date,
    "stack-file-2027-02-30": stack_file_impossible_date,
    "main-symlink-loop": main_symlink_loop,
    "opa-url-unclosed-bracket": opa_url_unclosed_bracket,
    "evidence-line-nan": evidence_nan,
    "evidence-line-deep": evidence_deep,
    "evidence-nan-on-append": evidence_nan_on_append,
    "stdout-dev-full": stdout_full,
    "stdout-closed": stdout_closed,
    "max-state-mb-inf": _max_state("inf"),
    "max-state-mb-nan": _max_state("nan"),
    "max-state-mb-negative": _max_state("-1"),
    "state-dev-zero": dev_zero,
    "state-endless-pipe": endless_pipe,
    "state-fifo": fifo,
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_hostile_input_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    run, expected = CASES[case](tmp_path)
    assert run.returncode == 2, (run.returncode, run.stdout[-500:], run.stderr[-2000:])
    assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr, run.stderr[-2000:]
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dpaguard: ") and expected in lines[0], run.stderr[-2000:]
    assert "internal error" not in lines[0]  # a proper message, not the last resort
    assert CANARY not in run.stderr and "7777777777" not in run.stderr
