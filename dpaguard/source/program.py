"""Offline render: a Pulumi Python program plus a stack's config -> the deployment `pulumi preview` would register.

The program runs in a child process (`dpaguard.source._runner`) under dpaguard's launcher
(`dpaguard.contain`): an allow-listed environment, its own session, its own PID and mount namespaces
with a read-only view of the whole file system (only dpaguard's private work folder and a tmpfs
scratch folder are writable), with a time limit; on timeout, SIGINT or SIGTERM every process it
started is killed, whatever session it started or environment it cleared. Where the kernel refuses
the namespaces the render fails (exit 2) unless ALLOW_UNCONTAINED_ENV is set. The child answers
through a result file, never through stdout, so whatever the program prints cannot corrupt the
answer; plaintext credentials of the stack config are cut out of that answer here, outside the
program's reach. This module turns the child's recorded monitor requests into a stack-export
(version 3) deployment the way the Pulumi engine would store it: URNs, the root stack, default
providers synthesized from the stack's `<package>:*` config, provider references, secrets wrapped.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Mapping, Sequence

from dpaguard import contain
from dpaguard.errors import DpaguardError, ProgramError
from dpaguard.markers import PLAINTEXT_REDACTED
from dpaguard.inputs import MAX_RECORD_BYTES, read_input
from dpaguard.model import Deployment
from dpaguard.deployment import redact
from dpaguard.source import _runner, bytecode, failure
from dpaguard.source.build import build_resources, order
from dpaguard.source.interpreter import Interpreter, program_interpreter, shown
from dpaguard.source.lookups import LookupAnswer
from dpaguard.source.project import Project, StackConfig, load_project, load_stack_config
# Address-space limit of the program's process: a runaway program fails with MemoryError instead of
# taking the machine down (the SDK and the provider packages need a few hundred MB).
MEMORY_LIMIT_MB = 4096
# Whether the launcher may give the program namespaces of its own (the fallback where the kernel refuses
# them is tested by turning this off).
USE_NAMESPACES = True
# Set to 1 in dpaguard's environment (never read from the project): where the kernel refuses the program
# namespaces of its own, render it anyway, without them and without the read-only view (SECURITY.md).
ALLOW_UNCONTAINED_ENV = "DPAGUARD_ALLOW_UNCONTAINED"
# Plaintext config values shorter than this are not cut out of the program's answer: "1", "eu" would maim it.
MIN_SCRUB_LENGTH = 4
# Set, with a value unique to each render, in the program's environment: finds the processes it left behind.
RENDER_MARKER = "DPAGUARD_RENDER_ID"
# How the program's interpreter starts the runner: loaded from its file under a name of its own, so that
# neither a `dpaguard` the program's environment holds can stand in for it, nor dpaguard's folder join
# the program's import path (`python -m dpaguard...` would need dpaguard importable there).
_BOOT = (
    "import importlib.util, sys; "
    "spec = importlib.util.spec_from_file_location('_dpaguard_render_runner', sys.argv[1]); "
    "runner = importlib.util.module_from_spec(spec); sys.modules[spec.name] = runner; "
    "spec.loader.exec_module(runner); runner.main(sys.argv[2])"
)


def _child_env(
    marker: str, interpreter: Interpreter | None = None, scratch: str | None = None, pycache: Path | None = None,
) -> dict[str, str]:
    """The program's environment: an allow-list (contain.ALLOWED_ENV), never ours.

    An offline render needs no cloud credential, and a program from a pull request must not be able
    to copy one (SCW_SECRET_KEY, GITHUB_TOKEN, DATABASE_URL, CI_JOB_JWT ...) into a resource's inputs:
    whatever is not on the list does not reach it, whatever its name. Under the project's own virtual
    environment, that environment is activated as `pulumi` activates it (VIRTUAL_ENV, its bin first on
    PATH), and a PYTHONPATH entry that holds dpaguard itself is left out: dpaguard's packages must not
    stand in for the program's. The program's temporary files go to `scratch` (a private tmpfs, the only
    writable folder it has besides dpaguard's work folder), and Python writes no bytecode next to the
    sources (the tree is read-only to it); it reads bytecode from dpaguard's cache (`pycache`), when there is one
    for its interpreter (dpaguard.source.bytecode).
    """
    env = contain.clean_env({"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", RENDER_MARKER: marker})
    env.pop("PYTHONPYCACHEPREFIX", None)
    if pycache is not None:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    if scratch is not None:
        env.update(TMPDIR=scratch, TEMP=scratch, TMP=scratch)
    if interpreter is not None and interpreter.environment is not None:
        env["VIRTUAL_ENV"] = str(interpreter.environment)
        env["PATH"] = os.pathsep.join(p for p in (str(interpreter.environment / "bin"), env.get("PATH", "")) if p)
        own = _OWN_ROOT
        kept = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and not _same_path(p, own)]
        if kept:
            env["PYTHONPATH"] = os.pathsep.join(kept)
        else:
            env.pop("PYTHONPATH", None)
    return env


# The folder holding the dpaguard package that is running (a checkout, or site-packages).
_OWN_ROOT = Path(__file__).resolve().parents[2]


def _same_path(entry: str, folder: Path) -> bool:
    try:
        return Path(entry).resolve() == folder
    except (OSError, RuntimeError):
        return False


def _kill_marked(marker: bytes) -> None:
    """Kill what escaped the launcher (where it could not contain it): every process that inherited this render's marker."""
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return
    for pid in pids:
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                if marker in handle.read().split(b"\0"):
                    os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            continue


def allow_uncontained() -> bool:
    """Whether dpaguard's environment allows a render without namespaces where the kernel refuses them."""
    return os.environ.get(ALLOW_UNCONTAINED_ENV, "") == "1"


def _write_request(path: str, request: Mapping[str, Any]) -> None:
    """The runner's request (the stack config, plaintext values included): created 0600, removed by the runner once read."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(request, handle)


def _read_result(path: str) -> dict[str, Any]:
    """The runner's answer; only a regular file within the record limit is read (the program can write the
    work folder: not a FIFO that blocks us, a link to /dev/zero or a huge file)."""
    if os.path.islink(path):
        raise ValueError("a symbolic link")
    answer = json.loads(read_input(path, MAX_RECORD_BYTES))
    if not isinstance(answer, dict):
        raise ValueError("not an object")
    return answer


def plaintext_values(config: StackConfig) -> list[str]:
    """The plaintext (not `secure:`) string values of config keys with a sensitive name: cut out of everything the program answers."""
    values = []
    for key, value in config.values.items():
        if (key not in config.secret_keys and redact.is_sensitive_name(key.split(":")[-1]) and isinstance(value, str)
                and not redact.holds_no_credential(value)):
            if len(value) >= MIN_SCRUB_LENGTH:
                values.append(value)
    # the longest first: a value that holds another is cut whole
    return sorted(set(values), key=len, reverse=True)


def _scrubbed(value: Any, values: list[str]) -> Any:
    if isinstance(value, str):
        for secret in values:
            if secret in value:
                value = value.replace(secret, PLAINTEXT_REDACTED)
        return value
    if isinstance(value, dict):
        return {_scrubbed(k, values): _scrubbed(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, values) for v in value]
    return value


def scrub_answer(answer: dict[str, Any], values: list[str]) -> dict[str, Any]:
    """The runner's answer with every plaintext config credential replaced, wherever the program put it (a tag, user
    data, an output, a resource name, an error message), by dpaguard, after the program's process has ended."""
    return _scrubbed(answer, values) if values else answer


def run_program(
    project: Project, config: StackConfig, *, timeout: float, deadline: float | None = None,
    interpreter: Interpreter | None = None, lookups: Sequence[LookupAnswer] = (),
) -> dict[str, Any]:
    """Run the program in its own session and return the runner's answer; ProgramError when it fails or hangs.

    `timeout` is the limit as the user set it (for the message); `deadline` (time.monotonic) when part of it is spent;
    `interpreter` the project's (program_interpreter), by default dpaguard's own; `lookups` the answers of `--lookups`.
    """
    python = interpreter.executable if interpreter else sys.executable
    deadline = time.monotonic() + timeout if deadline is None else deadline
    cache = bytecode.cache_dir()
    pycache = cache if cache is not None and bytecode.primed(cache, python) else None
    with tempfile.TemporaryDirectory(prefix="dpaguard-render-") as work:
        result_path = os.path.join(work, "result.json")
        request_path = os.path.join(work, "request.json")
        scratch = os.path.join(work, "tmp")
        os.mkdir(scratch, 0o700)
        _write_request(request_path, _request(project, config, result_path, lookups))
        command = [python, "-c", _BOOT, str(Path(_runner.__file__).resolve()), request_path]
        marker = uuid.uuid4().hex
        # Our own environment and memory are closed to the program (see dpaguard.contain).
        contain.harden_self()
        # The program's stderr is read only to explain a process that ends without answering (failure.py).
        stderr = failure.StderrTail()
        # The read-only view but for the work folder (the answer) and the scratch (a tmpfs), in its mount namespace.
        writable, scratches = ([work], [scratch]) if USE_NAMESPACES else ([], [])
        try:
            contained = contain.Contained(
                command, cwd=str(project.main_dir),
                env=_child_env(marker, interpreter, scratch if USE_NAMESPACES else None, pycache),
                isolate=USE_NAMESPACES, required=not allow_uncontained(), writable=writable, scratch=scratches,
                stderr=stderr.writer,
            )
        except OSError as error:
            raise ProgramError(f"cannot start the program runner: {error.strerror or error}") from None
        finally:
            stderr.started()
        try:
            code = contained.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            raise ProgramError(
                f"program did not finish within {timeout:g} s", hint="a program that waits for a cloud API or loops? see --timeout"
            ) from None
        finally:
            # Whatever the program started dies with it, now: on time-out, interruption or success alike.
            contained.stop()
            _kill_marked(f"{RENDER_MARKER}={marker}".encode())
        answer = _answer(result_path, code, stderr, project, config, python)
    if cache is not None and USE_NAMESPACES:
        # only under the read-only view: the cache is code every later render runs
        bytecode.refresh(python, answer.get("bytecode"), cache)
    return _checked(scrub_answer(answer, plaintext_values(config)), python)


def _request(project: Project, config: StackConfig, result_path: str, lookups: Sequence[LookupAnswer]) -> dict[str, Any]:
    """What the runner is asked: the program, its stack config (plaintext values included), where to answer."""
    return {
        "project": project.name,
        "stack": config.stack,
        "root": str(project.root),
        "main_dir": str(project.main_dir),
        "program": str(project.program or project.main_dir),
        "memory_limit_mb": MEMORY_LIMIT_MB,
        "config": config.program_config(),
        "secret_keys": sorted(config.secret_keys),
        "result": result_path,
        "config_file": project.relative(config.file) if config.file else "",
        "missing_config": [[key, secret, f"declared in {project.file.name}"] for key, secret in config.missing],
        "lookups": [answer.request() for answer in lookups],
    }


def _ran_under(python: str) -> str:
    """The end of a failed program's line: the interpreter it ran under (issue 21 §1)."""
    return f" (the program ran under {python})"


def _answer(
    result_path: str, code: int, stderr: failure.StderrTail, project: Project, config: StackConfig, python: str,
) -> dict[str, Any]:
    """The runner's answer once its process ended; ProgramError, in one line, where it gave none."""
    if code == contain.NO_ISOLATION:
        raise ProgramError(
            "cannot contain the program: the kernel refuses it namespaces of its own, so it would run with write"
            " access to this machine's files",
            hint=f"set {ALLOW_UNCONTAINED_ENV}=1 to render without them, see SECURITY.md",
        )
    try:
        return _read_result(result_path)
    except FileNotFoundError:
        if code == contain.NO_VIEW:
            raise ProgramError("cannot give the program a read-only view of the files (mount namespace)") from None
        line = failure.failure_line(stderr.text(), stderr.lookups, project.root, code, plaintext_values(config))
        raise ProgramError(line + _ran_under(python)) from None
    except (OSError, ValueError):
        raise ProgramError("program runner wrote an unreadable result") from None


def _checked(answer: dict[str, Any], python: str) -> dict[str, Any]:
    """The answer of a program that ran to its end; ProgramError for one that failed or could not import pulumi."""
    if answer.get("missing") == "pulumi":
        raise ProgramError(
            f"the program's Python ({python}) cannot import pulumi ({answer.get('error')}): install the program's"
            f" dependencies there ({python} -m pip install pulumi, or its requirements)"
        )
    if not answer.get("ok"):
        message = str(answer.get("error") or "program failed")
        # The program tried to write outside its scratch folder: the view is read-only (see dpaguard.contain).
        hint = "during dpaguard's render a program may write only to its temporary folder ($TMPDIR), see SECURITY.md"
        message += failure.lookups_clause(answer.get("invokes") or {}) + _ran_under(python)
        raise ProgramError(message, hint=hint if "Read-only file system" in message else None)
    return answer


def render_stack(
    project_dir: Path | str, stack: str, *, timeout: float = 120.0, lookups: Sequence[LookupAnswer] = (),
) -> Deployment:
    """Render one stack of a Pulumi Python project offline into a deployment (stack export v3 shape).

    `lookups`: the answers `--lookups` gives the program's lookups (data sources); the others are unknown.
    """
    started = time.monotonic()
    project = load_project(Path(project_dir))
    try:
        config = load_stack_config(project, stack, collect_missing=True)
        interpreter = program_interpreter(project)
        answer = run_program(project, config, timeout=timeout, deadline=started + timeout, interpreter=interpreter,
                             lookups=lookups)
    except DpaguardError as error:
        raise error.wrap(f"render stack {stack}") from None
    # A credential in a resource's name, type token, parent or source path is cut out like one in a value
    # (the properties are redacted by build_resources): every output prints these.
    records = [
        {key: value if key in ("inputs", "registeredOutputs") else redact.redact_strings(value) for key, value in record.items()}
        for record in answer["records"]
    ]
    resources = build_resources(records, project=project.name, stack=config.stack, config=config)
    positions = {}
    for record in records:
        position = record.get("sourcePosition")
        if position:
            positions[record["urn"]] = (position["path"], int(position["line"]), 1)
    runtime = program_runtime(interpreter, answer, project.root)
    return Deployment(
        stack=config.stack,
        project=project.name,
        source="program",
        resources=tuple(order(resources)),
        config=config.public(),
        secret_config_keys=config.secret_keys,
        origin=str(project.root),
        config_file=project.relative(config.file) if config.file else None,
        config_sha256=config.sha256,
        source_positions=positions,
        config_positions=config.positions,
        notices=render_notices(project, config.stack, interpreter, runtime, answer),
        runtime=runtime,
        unanswered_lookups=_unanswered_lookups(records),
    )


# What the runner may report of its packages (the program's process answers: checked before it is shown).
_DISTRIBUTION = re.compile(r"[a-z0-9][a-z0-9._-]{0,80}")
_VERSION = re.compile(r"[0-9A-Za-z.+!_-]{1,40}")


def program_runtime(interpreter: Interpreter, answer: Mapping[str, Any], root: Path) -> dict[str, str]:
    """The interpreter the program ran under (dpaguard's own knowledge) and the versions its process reported."""
    raw = answer.get("runtime")
    reported: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    # no absolute path in a report: the project's own virtualenv relative to it (two clones of one commit
    # give the same report), any other interpreter by its last parts
    runtime = {"interpreter": shown(interpreter.executable, root)}
    for name, version in sorted(reported.items()):
        if name != "interpreter" and isinstance(name, str) and isinstance(version, str) \
                and _DISTRIBUTION.fullmatch(name) and _VERSION.fullmatch(version):
            runtime[name] = version
    return runtime


def _unanswered_lookups(records: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, tuple[str, ...]]]:
    answer: dict[str, dict[str, tuple[str, ...]]] = {}
    for record in records:
        provenance = record.get("unansweredLookups")
        if isinstance(provenance, dict) and provenance:
            answer[record["urn"]] = {str(key): tuple(str(t) for t in tokens) for key, tokens in provenance.items()}
    return answer


def runtime_text(runtime: Mapping[str, str]) -> str:
    """`Python 3.11.7; pulumi 3.272.0, pulumiverse-scaleway 1.60.0`: what a report says the program ran with."""
    packages = ", ".join(f"{name} {version}" for name, version in runtime.items() if name not in ("interpreter", "python"))
    python = f"Python {runtime['python']}" if runtime.get("python") else ""
    return "; ".join(part for part in (python, packages) if part)


def render_notices(
    project: Project, stack: str, interpreter: Interpreter, runtime: Mapping[str, str], answer: Mapping[str, Any],
) -> tuple[str, ...]:
    """What a report must say about how the program ran: the interpreter and its versions, the lookups that answered nothing."""
    # `runtime` names the interpreter as a report may; a fallback's notice names paths of its own
    ran = shown(interpreter.notice, project.root) if interpreter.notice else \
        f"{project.name}: the program ran under {runtime['interpreter']}"
    ran_with = runtime_text(runtime)
    notices = [f"{ran} ({ran_with})" if ran_with else ran]
    invokes = answer.get("invokes") or {}
    lookups = sorted(token for token in invokes if token not in _runner.ENGINE_INVOKES)
    if lookups:
        notices.append(
            f"stack {stack}: offline, {len(lookups)} lookup(s) answered nothing, so what rests on them is unknown "
            f"(answer them with --lookups FILE): {', '.join(lookups)}"
        )
    return tuple(notices)
