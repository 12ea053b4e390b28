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
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Mapping

from dpaguard import contain
from dpaguard.errors import DpaguardError, ProgramError
from dpaguard.markers import PLAINTEXT_REDACTED
from dpaguard.inputs import MAX_RECORD_BYTES, read_input
from dpaguard.model import UNKNOWN, Deployment
from dpaguard.deployment import redact
from dpaguard.source import _runner, failure
from dpaguard.source.interpreter import Interpreter, program_interpreter
from dpaguard.source.project import Project, StackConfig, load_project, load_stack_config
from dpaguard.urn import PROVIDER_TYPE_PREFIX, STACK_TYPE, provider_type, provider_urn_of, stack_urn as make_stack_urn, urn as make_urn
DYNAMIC_PACKAGE = "pulumi-python"
DYNAMIC_TYPE_PREFIX = f"{DYNAMIC_PACKAGE}:dynamic"
# The pickled provider of a dynamic resource: code, not configuration, and possibly captured secrets.
DYNAMIC_PROVIDER_INPUT = "__provider"
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


def _qname(text: str) -> str:
    """The engine's `tokens.IntoQName`: a plugin download URL made into a name part."""
    parts = []
    for segment in text.split("/"):
        if not segment:
            continue
        chars = list(segment)
        if not (chars[0].isalpha() or chars[0] in "_."):
            chars[0] = "_"
        for i in range(1, len(chars)):
            if not (chars[i].isalnum() or chars[i] in "_.-"):
                chars[i] = "_"
        parts.append("".join(chars))
    return "/".join(parts) or "_"


def default_provider_name(version: str, plugin_download_url: str) -> str:
    """The name the engine gives a default provider: `default_1_60_0[_github_/api.github.com/pulumiverse]`."""
    name = "default"
    if version:
        name += "_" + version.replace(".", "_").replace("-", "_").replace("+", "_")
    if plugin_download_url:
        name += "_" + _qname(plugin_download_url)
    return name


def _package(type_token: str) -> str:
    return type_token.split(":", 1)[0]


def _mark_secret(properties: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    if not keys:
        return properties
    marked = dict(properties)
    for key in keys:
        if key in marked and not redact.is_secret(marked[key]):
            marked[key] = redact.secret_placeholder()
    return marked


def _source_position(position: Mapping[str, Any] | None) -> str | None:
    if not position:
        return None
    return f"project:///{position['path']}#{position['line']}"


def _default_provider_config(config: StackConfig, package: str) -> dict[str, Any]:
    """What the engine gives a default provider of `package`: its `<package>:*` settings, secrets wrapped.

    The provider of Python dynamic resources (`pulumi-python`) has no settings of its own: the engine
    hands it the whole stack config, keys in full (`project:key`), so a dynamic provider can read it.
    """
    if package == DYNAMIC_PACKAGE:
        settings = config.program_config()
        secret = set(config.secret_keys)
    else:
        settings = config.package_config(package)
        secret = {key for key in settings if f"{package}:{key}" in config.secret_keys}
    return {key: redact.secret_placeholder() if key in secret else value for key, value in settings.items()}


def build_resources(records: list[dict[str, Any]], *, project: str, stack: str, config: StackConfig) -> list[dict[str, Any]]:
    """The deployment's resources from the runner's records, as the engine would write them to state."""
    stack_urn = make_stack_urn(stack, project)
    resources: list[dict[str, Any]] = []
    default_providers: dict[tuple[str, str, str], str] = {}

    def default_provider(package: str, version: str, url: str) -> str:
        key = (package, version, url)
        if key not in default_providers:
            urn = make_urn(stack, project, provider_type(package), default_provider_name(version, url))
            inputs = _default_provider_config(config, package)
            # As the engine (3.276) hands them on: the version an input, the download URL kept internal (`__internal`).
            if version:
                inputs["version"] = version
            inputs = redact.redact_properties(dict(sorted(inputs.items())))
            # As in the engine's preview of a new stack: a provider not yet created has no id.
            pid = UNKNOWN
            resources.append(
                {
                    "urn": urn,
                    "custom": True,
                    "id": pid,
                    "type": provider_type(package),
                    "inputs": inputs,
                    "outputs": dict(inputs),
                    "dependencies": [],
                }
            )
            default_providers[key] = f"{urn}::{pid}"
        return default_providers[key]

    for record in records:
        type_token: str = record["type"]
        if type_token == STACK_TYPE:
            resources.append(
                {
                    "urn": record["urn"],
                    "custom": False,
                    "type": STACK_TYPE,
                    "outputs": redact.redact_properties(record.get("registeredOutputs") or {}),
                }
            )
            continue
        inputs: dict[str, Any] = dict(record.get("inputs") or {})
        if type_token.startswith(DYNAMIC_TYPE_PREFIX):
            inputs.pop(DYNAMIC_PROVIDER_INPUT, None)
        if type_token.startswith(PROVIDER_TYPE_PREFIX):
            # As the engine does for provider resources: the plugin version becomes an input (the URL an internal one).
            if record.get("version") and "version" not in inputs:
                inputs["version"] = record["version"]
        secret_outputs = list(record.get("additionalSecretOutputs") or [])
        inputs = redact.redact_properties(_mark_secret(dict(sorted(inputs.items())), secret_outputs))
        custom = bool(record.get("custom"))
        resource: dict[str, Any] = {"urn": record["urn"], "custom": custom}
        if custom:
            resource["id"] = record.get("id", "")
        resource["type"] = type_token
        resource["inputs"] = inputs
        if custom:
            resource["outputs"] = dict(inputs)
        else:
            resource["outputs"] = redact.redact_properties(record.get("registeredOutputs") or {})
        resource["parent"] = record.get("parent") or (stack_urn if record["urn"] != stack_urn else "")
        if record.get("kind") == "read":
            resource["external"] = True
        provider = record.get("provider") or ""
        package = _package(type_token)
        if custom and not provider and not type_token.startswith(PROVIDER_TYPE_PREFIX) and package != "pulumi":
            # appended now, so it precedes its first user, as the engine registers it on demand
            provider = default_provider(package, record.get("version", ""), record.get("pluginDownloadURL", ""))
        if provider and custom:
            resource["provider"] = provider
        if record.get("protect"):
            resource["protect"] = True
        if record.get("retainOnDelete"):
            resource["retainOnDelete"] = True
        resource["dependencies"] = list(record.get("dependencies") or [])
        property_dependencies = {k: v for k, v in (record.get("propertyDependencies") or {}).items() if v}
        if property_dependencies:
            resource["propertyDependencies"] = property_dependencies
        if secret_outputs:
            resource["additionalSecretOutputs"] = secret_outputs
        if record.get("importId"):
            resource["importID"] = record["importId"]
        position = _source_position(record.get("sourcePosition"))
        if position:
            resource["sourcePosition"] = position
        resources.append(resource)
    return resources


def _child_env(marker: str, interpreter: Interpreter | None = None, scratch: str | None = None) -> dict[str, str]:
    """The program's environment: an allow-list (contain.ALLOWED_ENV), never ours.

    An offline render needs no cloud credential, and a program from a pull request must not be able
    to copy one (SCW_SECRET_KEY, GITHUB_TOKEN, DATABASE_URL, CI_JOB_JWT ...) into a resource's inputs:
    whatever is not on the list does not reach it, whatever its name. Under the project's own virtual
    environment, that environment is activated as `pulumi` activates it (VIRTUAL_ENV, its bin first on
    PATH), and a PYTHONPATH entry that holds dpaguard itself is left out: dpaguard's packages must not
    stand in for the program's. The program's temporary files go to `scratch` (a private tmpfs, the only
    writable folder it has besides dpaguard's work folder), and Python writes no bytecode next to the
    sources (the tree is read-only to it).
    """
    env = contain.clean_env({"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", RENDER_MARKER: marker})
    env.pop("PYTHONPYCACHEPREFIX", None)
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
        if key not in config.secret_keys and redact.is_sensitive_name(key.split(":")[-1]) and isinstance(value, str):
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
    interpreter: Interpreter | None = None,
) -> dict[str, Any]:
    """Run the program in its own session and return the runner's answer; ProgramError when it fails or hangs.

    `timeout` is the limit as the user set it (for the message); `deadline` (time.monotonic) when part of it is spent;
    `interpreter` the project's (program_interpreter), by default dpaguard's own.
    """
    python = interpreter.executable if interpreter else sys.executable
    deadline = time.monotonic() + timeout if deadline is None else deadline
    with tempfile.TemporaryDirectory(prefix="dpaguard-render-") as work:
        result_path = os.path.join(work, "result.json")
        request_path = os.path.join(work, "request.json")
        scratch = os.path.join(work, "tmp")
        os.mkdir(scratch, 0o700)
        _write_request(request_path, {
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
        })
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
                command, cwd=str(project.main_dir), env=_child_env(marker, interpreter, scratch if USE_NAMESPACES else None),
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
        if code == contain.NO_ISOLATION:
            raise ProgramError(
                "cannot contain the program: the kernel refuses it namespaces of its own, so it would run with write"
                " access to this machine's files",
                hint=f"set {ALLOW_UNCONTAINED_ENV}=1 to render without them, see SECURITY.md",
            )
        try:
            answer: dict[str, Any] = _read_result(result_path)
        except FileNotFoundError:
            if code == contain.NO_VIEW:
                raise ProgramError("cannot give the program a read-only view of the files (mount namespace)") from None
            raise ProgramError(failure.failure_line(stderr.text(), stderr.lookups, project.root, code, plaintext_values(config))) from None
        except (OSError, ValueError):
            raise ProgramError("program runner wrote an unreadable result") from None
    answer = scrub_answer(answer, plaintext_values(config))
    if answer.get("missing") == "pulumi":
        raise ProgramError(
            f"the program's Python ({python}) cannot import pulumi ({answer.get('error')}): install the program's"
            f" dependencies there ({python} -m pip install pulumi, or its requirements)"
        )
    if not answer.get("ok"):
        message = str(answer.get("error") or "program failed")
        # The program tried to write outside its scratch folder: the view is read-only (see dpaguard.contain).
        hint = "during dpaguard's render a program may write only to its temporary folder ($TMPDIR), see SECURITY.md"
        message += failure.lookups_clause(answer.get("invokes") or {})
        raise ProgramError(message, hint=hint if "Read-only file system" in message else None)
    return answer


def render_stack(project_dir: Path | str, stack: str, *, timeout: float = 120.0) -> Deployment:
    """Render one stack of a Pulumi Python project offline into a deployment (stack export v3 shape)."""
    started = time.monotonic()
    project = load_project(Path(project_dir))
    try:
        config = load_stack_config(project, stack)
        interpreter = program_interpreter(project)
        answer = run_program(project, config, timeout=timeout, deadline=started + timeout, interpreter=interpreter)
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
    return Deployment(
        stack=config.stack,
        project=project.name,
        source="program",
        resources=tuple(_order(resources)),
        config=config.public(),
        secret_config_keys=config.secret_keys,
        origin=str(project.root),
        config_file=project.relative(config.file) if config.file else None,
        config_sha256=config.sha256,
        source_positions=positions,
        config_positions=config.positions,
        notices=render_notices(config.stack, interpreter, answer),
    )


def render_notices(stack: str, interpreter: Interpreter, answer: Mapping[str, Any]) -> tuple[str, ...]:
    """What a report must say about how the program ran: the interpreter it fell back to, the lookups answered with nothing."""
    notices = [interpreter.notice] if interpreter.notice else []
    lookups = sorted(token for token in answer.get("invokes") or {} if token not in _runner.ENGINE_INVOKES)
    if lookups:
        notices.append(
            f"stack {stack}: offline, {len(lookups)} lookup(s) answered nothing (the program built on empty "
            f"results, e.g. an IP list or an image id): {', '.join(lookups)}"
        )
    return tuple(notices)


def _order(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Registration order, with every parent and provider before the resources that name it (as in state)."""
    by_urn = {r["urn"]: r for r in resources}
    placed: set[str] = set()
    ordered: list[dict[str, Any]] = []

    def place(resource: dict[str, Any], depth: int = 0) -> None:
        urn = resource["urn"]
        if urn in placed or depth > 10_000:
            return
        placed.add(urn)
        for ref in (resource.get("parent"), provider_urn_of(resource.get("provider"))):
            if ref and ref in by_urn and ref not in placed:
                place(by_urn[ref], depth + 1)
        ordered.append(resource)

    for resource in resources:
        place(resource)
    return ordered
