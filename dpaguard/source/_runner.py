"""The child process of an offline render: runs one Pulumi Python program against a recording mock monitor.

Started by `dpaguard.source.program`, through the launcher of `dpaguard.contain` (an allow-listed
environment, its own session and, where the kernel allows, PID namespace), under the interpreter the
project names (`dpaguard.source.interpreter`), which loads this file by its path under a name of its
own and calls `main(REQUEST.json)`: so it imports nothing of dpaguard and only the standard library
before the program's `pulumi`, with the program's main directory as working directory (as
`pulumi`'s Python language host does). It runs the program the way `pulumi-language-python-exec` does (`runpy.run_path` inside
`pulumi.runtime.run_in_stack`) with the SDK's mock runtime in preview mode, records every request the
SDK sends to the resource monitor, and writes them, with secret values already emptied, to the
result file named in the request. The user's program may print, fork or crash: only the result file,
written by this process and no other, carries the answer; stdout is never read, and stderr only to explain,
in one line, a process that ends without writing it (`dpaguard.source.failure`).

Its parts, each loaded from its file as this one is: `_runner_monitor` (the recording monitor),
`_runner_lookups` (the answers to lookups, `--lookups` or unknown), `_runner_program` (the user's
files, the one line a failure is, every config key the program requires and the stack lacks).

Nothing here is a safeguard against the program, which runs in this very process and can change any
of it: whatever must hold against a hostile program (cutting plaintext credentials out of the answer,
the read-only view of the files, the end of every process it starts) is done by dpaguard and its
launcher, outside this process. The request file is removed as soon as it is read, so the stack
config's plaintext values do not stay on disk while the program runs.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

# What only the program's process needs (asyncio, runpy, platform ...) is imported where it is used:
# dpaguard's own process loads this module too, for the names failure.py and program.py read.

_HERE = Path(__file__).resolve().parent


def _sibling(name: str, path: Path) -> Any:
    """One of dpaguard's modules the runner needs, loaded from its file: in the program's interpreter
    dpaguard is not importable (and a `dpaguard` of the program's may not stand in for it)."""
    import importlib.util

    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# In this order: the later ones read the earlier ones from sys.modules.
_sibling("_dpaguard_render_markers", _HERE.parent / "markers.py")
_sibling("_dpaguard_render_urn", _HERE.parent / "urn.py")
_program = _sibling("_dpaguard_render_program", _HERE / "_runner_program.py")
_monitor = _sibling("_dpaguard_render_monitor", _HERE / "_runner_monitor.py")
_lookups = _sibling("_dpaguard_render_lookups", _HERE / "_runner_lookups.py")

ENGINE_INVOKES: frozenset[str] = _monitor.ENGINE_INVOKES
LOOKUP_MARK: str = _monitor.LOOKUP_MARK
missing_config_text = _program.missing_config_text
missing_configs_text = _program.missing_configs_text


def _write(path: str, payload: dict[str, Any]) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
    os.replace(tmp, path)


def _feature_settings(monitor: Any) -> dict[str, Any]:
    """How this SDK learns what the monitor supports, as its own `set_mocks` primes it (3.200 to the newest).

    Newer SDKs read every feature once (`GetDeploymentInfo`) into `monitor_features`; older ones ask
    for each (`SupportsFeature`) and cache the answers in `feature_support`, which a mock's settings
    must hold from the start.
    """
    from google.protobuf import empty_pb2

    if hasattr(monitor, "GetDeploymentInfo"):
        return {"monitor_features": set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures)}
    return {"feature_support": {}}


def runtime_versions() -> dict[str, str]:
    """The interpreter the program ran under and the versions of its Pulumi SDK and the provider SDKs it imported."""
    import platform
    from importlib import metadata

    versions = {"interpreter": sys.executable, "python": platform.python_version()}
    top = sorted(name for name in list(sys.modules) if "." not in name and name.startswith(("pulumi_", "pulumiverse_")))
    for distribution in ["pulumi", *(name.replace("_", "-") for name in top)]:
        try:
            versions[distribution] = metadata.version(distribution)
        except (metadata.PackageNotFoundError, ValueError):
            continue
    return versions


class _Run:
    """One run of the program: its request, what it registered, and how the runner answers."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.request = request
        self.own_pid = os.getpid()
        self.paths = _program.Paths(request["root"], request["main_dir"])
        self.recorder: Any = None
        self.missing: Any = None

    def finish(self, payload: dict[str, Any]) -> None:
        """Write the answer (the runner itself only, not a process the program forked) and end the process."""
        if self.recorder is not None:
            payload["runtime"] = runtime_versions()
            payload["bytecode"] = _program.bytecode_report()
            if not payload.get("ok"):
                # A failure names the lookups that answered nothing before it (an unknown result the program built on).
                payload["invokes"] = dict(self.recorder.invokes)
        if os.getpid() == self.own_pid:
            _write(self.request["result"], payload)
        sys.stdout.flush()
        os._exit(0 if payload.get("ok") else 3)

    def fail(self, line: str) -> None:
        """End with the program's failure; where it lacked config keys, these first (the rest may follow from them)."""
        missing = self.missing.entries() if self.missing is not None else []
        if missing:
            config_file = self.request.get("config_file") or ""
            line = f"{_program.missing_configs_text(missing, config_file)} (the program then stopped: {line})"
        self.finish({"ok": False, "error": line})

    def configure(self, pulumi: Any) -> Any:
        """Prime the SDK's mock runtime in preview mode with the recording monitor; the event loop the program runs on."""
        import asyncio
        import concurrent.futures
        import logging

        from pulumi.runtime.mocks import MockEngine, MockSettings
        from pulumi.runtime.settings import configure

        request = self.request
        self.recorder = _monitor.Recorder(self.paths)
        answers = _lookups.Answers(request.get("lookups") or [])
        _program.locate_apply_failures(self.paths)
        answers.capture_result_types()
        _lookups.unanswered_outputs_are_unknown(self.recorder)
        self.missing = _program.MissingConfig(self.paths, request.get("missing_config") or [])
        self.missing.install()
        project, stack = request["project"], request["stack"]
        monitor = _monitor.make_monitor(self.recorder, answers, project, stack)
        pulumi.runtime.set_all_config(request["config"], request["secret_keys"])
        logger = logging.getLogger("dpaguard.program")
        logger.propagate = False
        logger.addHandler(logging.NullHandler())
        configure(
            MockSettings(  # type: ignore[no-untyped-call]
                monitor=monitor, engine=MockEngine(logger), project=project, stack=stack, dry_run=True,
                organization=request.get("organization", "organization"), root_directory=request["root"],
                callbacks=None, **_feature_settings(monitor),
            )
        )
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        # One monitor thread: registrations reach the monitor in the order the program makes them,
        # so two renders of one program list their resources in the same order.
        loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=1))
        return loop

    def run(self, pulumi: Any, program: str) -> None:
        """Run the program as `pulumi-language-python-exec` does; on failure, end with its one line."""
        import runpy

        loop = self.configure(pulumi)
        try:
            loop.run_until_complete(pulumi.runtime.run_in_stack(lambda: runpy.run_path(program, run_name="__main__")))
        except SystemExit as stop:
            if stop.code not in (None, 0):
                self.fail(f"program called sys.exit({stop.code!r})")
        except ImportError as error:
            if "__main__" in str(error) and "can't find" in str(error):
                self.fail(f"no __main__.py in {self.paths.relative(self.request['main_dir'] + '/') or '.'}")
            self.fail(_program.error_line(error, self.paths))
        except BaseException as error:  # noqa: BLE001 the user's program can raise anything
            if isinstance(error, pulumi.ConfigMissingError):
                # a require the runner could not answer with a placeholder (a method this SDK names otherwise)
                self.missing.add(str(error.key), bool(error.secret), _program.user_location(error, self.paths))
                self.finish({"ok": False, "error": _program.missing_configs_text(
                    self.missing.entries(), self.request.get("config_file") or "")})
            self.fail(_program.error_line(error, self.paths))
        missing = self.missing.entries()
        if missing:
            self.finish({"ok": False, "error": _program.missing_configs_text(missing, self.request.get("config_file") or "")})
        recorder = self.recorder
        self.finish({"ok": True, "records": recorder.finished_records(), "invokes": recorder.invokes,
                     "answered": recorder.answered})


def main(request_path: str) -> None:
    """Run the program described by the request file and write the result file."""
    with open(request_path, encoding="utf-8") as handle:
        request = json.load(handle)
    os.unlink(request_path)
    run = _Run(request)
    limit = int(request.get("memory_limit_mb") or 0)
    if limit > 0:
        import resource

        # the hard limit too: with an infinite one, the program could raise its own soft limit again
        resource.setrlimit(resource.RLIMIT_AS, (limit * 1024 * 1024, limit * 1024 * 1024))
    main_dir = request["main_dir"]
    program = request.get("program") or main_dir
    # As `pulumi`'s language host: the main directory is the working directory and first on sys.path.
    os.chdir(main_dir)
    sys.path[0] = main_dir
    sys.argv = [program if program != main_dir else os.path.join(main_dir, "__main__.py")]
    try:
        import pulumi.runtime
    except ImportError as error:
        run.finish({"ok": False, "missing": "pulumi", "error": f"cannot import {error.name or 'pulumi'}"})
    run.run(pulumi, program)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: python -m dpaguard.source._runner REQUEST.json\n")
        sys.exit(2)
    main(sys.argv[1])
