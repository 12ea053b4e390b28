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

Nothing here is a safeguard against the program, which runs in this very process and can change any
of it: whatever must hold against a hostile program (cutting plaintext credentials out of the answer,
the read-only view of the files, the end of every process it starts) is done by dpaguard and its
launcher, outside this process. The request file is removed as soon as it is read, so the stack
config's plaintext values do not stay on disk while the program runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import resource
import runpy
import sys
import threading
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse



def _sibling(name: str, file: str) -> Any:
    """One of dpaguard's standard-library-only modules, loaded from its file: in the program's
    interpreter dpaguard is not importable (and a `dpaguard` of the program's may not stand in for it)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_markers = _sibling("_dpaguard_render_markers", "markers.py")
_urn = _sibling("_dpaguard_render_urn", "urn.py")
REDACTED: str = _markers.REDACTED
UNKNOWN: str = _markers.UNKNOWN
SECRET_SIG: str = _markers.SECRET_SIG
SECRET_SIG_KEY: str = _markers.SECRET_SIG_KEY
STACK_TYPE: str = _urn.STACK_TYPE
make_stack_urn = _urn.stack_urn
make_resource_urn = _urn.urn
parse_urn = _urn.parse_urn

_OWN_DIR = str(Path(__file__).resolve().parent)
# Invokes the SDK sends for itself (a resource reference resolved), answered offline: not a program's lookup.
ENGINE_INVOKES = frozenset({"pulumi:pulumi:getResource"})
# How a lookup answered with nothing is marked on stderr (read by dpaguard.source.failure).
LOOKUP_MARK = "dpaguard-runner: lookup answered nothing: "


def preview_id(request: Any) -> str:
    """The id `pulumi preview` knows for a resource it would create: none (unknown), unless it is imported.

    The engine answers a registration in preview with the id the provider's Create returned, and a
    provider previewing a create returns none; the SDK then resolves `.id` as unknown and skips every
    `apply` on it, and the engine writes the unknown sentinel into the state it hands a policy pack.
    An imported resource keeps the id it is imported by, which the engine reads.
    """
    return str(request.importId) if request.custom and request.importId else ""


def _value(value: Any) -> Any:
    """A protobuf Value as JSON data; a secret keeps its wrapper but loses its value."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "struct_value":
        return _struct(value.struct_value)
    if kind == "number_value":
        number = value.number_value
        if number.is_integer() and abs(number) < 2**53:
            return int(number)
        return number
    if kind == "bool_value":
        return value.bool_value
    if kind == "list_value":
        return [_value(v) for v in value.list_value.values]
    return None


def _struct(struct: Any) -> dict[str, Any]:
    fields = struct.fields
    sig = fields.get(SECRET_SIG_KEY)
    if sig is not None and sig.string_value == SECRET_SIG:
        return {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": REDACTED}
    # sorted, as the engine writes property maps (Go sorts map keys): the same program gives the same bytes
    return {key: _value(fields[key]) for key in sorted(fields)}


class DuplicateResourceError(Exception):
    """Two resources with one URN: the engine refuses them, so does the offline render."""

    def __init__(self, urn: str, location: str | None) -> None:
        super().__init__(f"duplicate resource URN '{urn}'; try giving it a unique name")
        self.location = location


def _is_secret_value(value: Any) -> bool:
    if value.WhichOneof("kind") != "struct_value":
        return False
    sig = value.struct_value.fields.get(SECRET_SIG_KEY)
    return sig is not None and sig.string_value == SECRET_SIG


class _Paths:
    """Decides which source files are the user's: inside the project, outside any installed package."""

    def __init__(self, root: str, main_dir: str) -> None:
        self.root = root.rstrip("/") + "/"
        self.main_dir = main_dir.rstrip("/") + "/"
        self.prefixes = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})

    def is_user(self, path: str) -> bool:
        return (
            path.startswith(self.root)
            and not path.startswith(_OWN_DIR)
            and "site-packages" not in path
            and not path.startswith(self.prefixes)
        )

    def relative(self, path: str) -> str:
        return path[len(self.root):] if path.startswith(self.root) else path


def _uri_path(uri: str) -> str:
    return unquote(urlparse(uri).path) if uri.startswith("file:") else ""


class Recorder:
    """What the program registered, in registration order."""

    def __init__(self, paths: _Paths) -> None:
        self.paths = paths
        self.lock = threading.Lock()
        self.records: list[dict[str, Any]] = []
        self.by_urn: dict[str, dict[str, Any]] = {}
        self.objects: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}
        self.invokes: dict[str, int] = {}
        self.parents: dict[str, str] = {}
        self.resource_transforms: dict[str, list[Any]] = {}
        self.stack_transforms: list[Any] = []

    def source_position(self, request: Any) -> dict[str, Any] | None:
        """The user's line that constructed the resource: the innermost frame in the program, else the project."""
        frames = [_uri_path(f.pc.uri) for f in request.stackTrace.frames]
        lines = [f.pc.line for f in request.stackTrace.frames]
        candidates = list(zip(frames, lines))
        if request.HasField("sourcePosition"):
            candidates.insert(0, (_uri_path(request.sourcePosition.uri), request.sourcePosition.line))
        for prefix in (self.paths.main_dir, self.paths.root):
            for path, line in candidates:
                if path.startswith(prefix) and self.paths.is_user(path) and line > 0:
                    return {"path": self.paths.relative(path), "line": line}
        return None

    def lookup(self, token: str) -> None:
        """Count a lookup answered with nothing, and mark it on stderr: if the program then dies without an
        answer, dpaguard can still name the lookups that ran before (`dpaguard.source.failure`)."""
        with self.lock:
            self.invokes[token] = self.invokes.get(token, 0) + 1
        if token not in ENGINE_INVOKES:
            try:
                os.write(2, f"\n{LOOKUP_MARK}{token}\n".encode())
            except OSError:
                pass  # the program closed stderr: the count still reaches the result

    def add(self, record: dict[str, Any], obj: Any) -> None:
        with self.lock:
            if record["urn"] in self.by_urn:
                position = record.get("sourcePosition")
                where = f"{position['path']}:{position['line']}" if position else None
                raise DuplicateResourceError(record["urn"], where)
            self.records.append(record)
            self.by_urn[record["urn"]] = record
            self.objects[record["urn"]] = obj


def _callback(token: str) -> tuple[Any, asyncio.AbstractEventLoop]:
    """The program's own function behind a callback token (a transform), and the loop it runs on."""
    from pulumi.runtime._callbacks import _CallbackServicer

    for servicer in _CallbackServicer._servicers:
        function = servicer._callbacks.get(token)
        if function is not None:
            return function, servicer._loop
    raise LookupError(f"no callback registered for token {token}")


def _make_monitor(recorder: Recorder, project: str, stack: str) -> Any:
    from google.protobuf import empty_pb2, struct_pb2
    from pulumi.runtime.mocks import MockMonitor, Mocks
    from pulumi.runtime.proto import resource_pb2

    class _NoMocks(Mocks):
        def call(self, args: Any) -> Any:
            return {}, None

        def new_resource(self, args: Any) -> Any:
            return "", {}

    stack_urn = make_stack_urn(stack, project)

    def make_urn(parent: str, type_: str, name: str) -> str:
        # The engine leaves the root stack out of a child's qualified type.
        parsed = parse_urn(parent) if parent and parent != stack_urn else None
        if parsed is not None:
            type_ = f"{parsed[2]}${type_}"
        return str(make_resource_urn(stack, project, type_, name))

    def secret_value(value: Any) -> Any:
        wrapped = struct_pb2.Value()
        wrapped.struct_value.fields[SECRET_SIG_KEY].string_value = SECRET_SIG
        wrapped.struct_value.fields["value"].CopyFrom(value)
        return wrapped

    class RecordingMonitor(MockMonitor):
        """A mock resource monitor that records the full requests and answers like a preview would."""

        def make_urn(self, parent: str, type_: str, name: str) -> str:
            return make_urn(parent, type_, name)

        def _transform(self, request: Any, urn: str) -> tuple[Any, Any]:
            """Run the resource's, its parents' and the stack's transforms, in the engine's order."""
            with recorder.lock:
                recorder.parents[urn] = request.parent
                recorder.resource_transforms[urn] = list(request.transforms)
                chain = list(request.transforms)
                parent = request.parent
                while parent:
                    chain.extend(recorder.resource_transforms.get(parent, ()))
                    parent = recorder.parents.get(parent, "")
                chain.extend(recorder.stack_transforms)
            options = resource_pb2.TransformResourceOptions(
                depends_on=list(request.dependencies),
                protect=request.protect if request.HasField("protect") else False,
                ignore_changes=list(request.ignoreChanges),
                version=request.version,
                provider=request.provider,
                plugin_download_url=request.pluginDownloadURL,
                additional_secret_outputs=list(request.additionalSecretOutputs),
            )
            properties = request.object
            for callback in chain:
                function, loop = _callback(callback.token)
                transform_request = resource_pb2.TransformRequest(
                    type=request.type,
                    name=request.name,
                    custom=request.custom,
                    parent=request.parent,
                    properties=properties,
                    options=options,
                )
                future = asyncio.run_coroutine_threadsafe(function(transform_request.SerializeToString()), loop)
                response = future.result()
                properties = response.properties
                if response.HasField("options"):
                    options = response.options
            return properties, options

        def RegisterStackTransform(self, request: Any) -> Any:  # noqa: N802
            with recorder.lock:
                recorder.stack_transforms.append(request)
            return empty_pb2.Empty()

        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
            urn = make_urn(request.parent, request.type, request.name)
            transformed = None
            if request.type != STACK_TYPE and (request.transforms or recorder.stack_transforms or recorder.resource_transforms):
                transformed = self._transform(request, urn)
            record: dict[str, Any] = {
                "kind": "register",
                "urn": urn,
                "type": request.type,
                "name": request.name,
                "parent": request.parent,
                "custom": bool(request.custom),
                "remote": bool(request.remote),
                "provider": request.provider,
                "dependencies": list(request.dependencies),
                "propertyDependencies": {k: list(v.urns) for k, v in request.propertyDependencies.items()},
                "version": request.version,
                "pluginDownloadURL": request.pluginDownloadURL,
                "additionalSecretOutputs": list(request.additionalSecretOutputs),
                "protect": bool(request.protect) if request.HasField("protect") else False,
                "retainOnDelete": bool(request.retainOnDelete) if request.HasField("retainOnDelete") else False,
                "importId": request.importId,
                "sourcePosition": recorder.source_position(request),
            }
            if request.type == STACK_TYPE:
                recorder.add(record, struct_pb2.Struct())
                return resource_pb2.RegisterResourceResponse(urn=urn)
            rid = preview_id(request)
            if request.custom:
                record["id"] = rid or UNKNOWN
            obj = request.object
            secret_outputs = list(request.additionalSecretOutputs)
            if transformed is not None:
                obj, options = transformed
                secret_outputs = list(options.additional_secret_outputs)
                record.update(
                    provider=options.provider,
                    version=options.version,
                    pluginDownloadURL=options.plugin_download_url,
                    additionalSecretOutputs=secret_outputs,
                    protect=bool(options.protect),
                )
            if secret_outputs:
                copied = struct_pb2.Struct()
                copied.CopyFrom(obj)
                obj = copied
                for key in secret_outputs:
                    field = obj.fields.get(key)
                    if field is not None and not _is_secret_value(field):
                        obj.fields[key].CopyFrom(secret_value(field))
            recorder.add(record, obj)
            # As a provider previewing a create: its outputs are its inputs, and every output it does not
            # echo (a computed endpoint, an address) the SDK resolves as unknown, its applies skipped.
            return resource_pb2.RegisterResourceResponse(urn=urn, id=rid, object=obj)

        def ReadResource(self, request: Any) -> Any:  # noqa: N802
            urn = make_urn(request.parent, request.type, request.name)
            record = {
                "kind": "read",
                "urn": urn,
                "type": request.type,
                "name": request.name,
                "parent": request.parent,
                "custom": True,
                "provider": request.provider,
                "dependencies": list(request.dependencies),
                "version": request.version,
                "pluginDownloadURL": request.pluginDownloadURL,
                "additionalSecretOutputs": list(request.additionalSecretOutputs),
                "id": request.id,
                "sourcePosition": None,
            }
            recorder.add(record, request.properties)
            return resource_pb2.ReadResourceResponse(urn=urn, properties=request.properties)

        def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
            with recorder.lock:
                recorder.outputs[request.urn] = request.outputs
            return empty_pb2.Empty()

        def Invoke(self, request: Any) -> Any:  # noqa: N802
            recorder.lookup(request.tok)
            ret = struct_pb2.Struct()
            if request.tok == "pulumi:pulumi:getResource":
                urn = request.args.fields["urn"].string_value
                known = recorder.by_urn.get(urn)
                if known is None:
                    raise Exception(f"unknown resource {urn}")
                ret.fields["urn"].string_value = urn
                ret.fields["id"].string_value = "" if known.get("id") == UNKNOWN else known.get("id", "")
                ret.fields["state"].struct_value.CopyFrom(recorder.objects[urn])
            # Data sources answer nothing offline: their results stay empty, as for an unreachable provider.
            return resource_pb2.ResourceInvokeResponse(**{"return": ret})

        def Call(self, request: Any) -> Any:  # noqa: N802
            # Resource methods run in providers: offline their results stay empty, like data sources.
            from pulumi.runtime.proto import provider_pb2

            recorder.lookup(request.tok)
            return provider_pb2.CallResponse(**{"return": struct_pb2.Struct()})

    return RecordingMonitor(_NoMocks())


def _user_location(error: BaseException, paths: _Paths) -> str:
    """`file:line` of the innermost frame of the user's own code the error passed through, else ''."""
    location = getattr(error, "location", None) or ""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and not location:
        seen.add(id(current))
        for frame in reversed(traceback.extract_tb(current.__traceback__)):
            if paths.is_user(frame.filename):
                location = f"{paths.relative(frame.filename)}:{frame.lineno}"
                break
        current = current.__cause__ or current.__context__
    return str(location)


def _locate_apply_failures(paths: _Paths) -> None:
    """Make an exception raised in a program's `apply` callback carry the program's line it was raised at.

    The SDK hands such an exception on through futures and tasks, and by the time it ends the program
    the traceback it carries may no longer reach the callback (an apply on an id is re-raised where
    the id is awaited); read where it is raised, the line is always there.
    """
    from pulumi.output import Output

    apply = Output.apply

    def located_apply(self: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
        def call(value: Any) -> Any:
            try:
                return func(value)
            except Exception as error:
                if not getattr(error, "location", None):
                    try:
                        error.location = _user_location(error, paths)  # type: ignore[attr-defined]
                    except (AttributeError, TypeError):
                        pass  # an exception type without attributes: its traceback is all there is
                raise

        return apply(self, call, *args, **kwargs)

    Output.apply = located_apply  # type: ignore[method-assign]


def _error_line(error: BaseException, paths: _Paths) -> str:
    """One line from the user's own frames: `file:line: ExceptionType: message`."""
    location = _user_location(error, paths)
    if isinstance(error, SyntaxError) and error.filename:
        location = f"{paths.relative(str(Path(error.filename).resolve()))}:{error.lineno or 0}"
        message = error.msg
    else:
        message = str(error)
    message = " ".join(message.split())
    if len(message) > 300:
        message = message[:297] + "..."
    kind = type(error).__name__
    text = f"{kind}: {message}" if message else kind
    return f"{location}: {text}" if location else text


def missing_config_text(key: str, config_file: str, secret: bool) -> str:
    """What to write where for a config key a program requires and the stack does not set (no `pulumi` CLI needed)."""
    value = "{secure: <anything>}" if secret else "<value>"
    return (
        f"missing required configuration value '{key}': add `{key}: {value}` under `config:` in {config_file or 'the stack file'}"
        " (offline, a dummy `secure:` value is fine for a secret: dpaguard never decrypts it)"
    )


def _missing_config_line(error: Any, paths: _Paths, config_file: str) -> str:
    location = _user_location(error, paths)
    text = missing_config_text(str(error.key), config_file, bool(error.secret))
    return f"{location}: {text}" if location else text


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


def main(request_path: str) -> None:
    """Run the program described by the request file and write the result file."""
    with open(request_path, encoding="utf-8") as handle:
        request = json.load(handle)
    os.unlink(request_path)
    own_pid = os.getpid()
    result_path = request["result"]
    root, main_dir = request["root"], request["main_dir"]
    paths = _Paths(root, main_dir)

    running: list[Recorder] = []

    def finish(payload: dict[str, Any]) -> None:
        if running and not payload.get("ok"):
            # A failure names the lookups that answered nothing before it (an empty result the program built on).
            payload["invokes"] = dict(running[0].invokes)
        # A process the program forked runs this code too: only the runner itself answers.
        if os.getpid() == own_pid:
            _write(result_path, payload)
        sys.stdout.flush()
        os._exit(0 if payload.get("ok") else 3)

    limit = int(request.get("memory_limit_mb") or 0)
    if limit > 0:
        # the hard limit too: with an infinite one, the program could raise its own soft limit again
        resource.setrlimit(resource.RLIMIT_AS, (limit * 1024 * 1024, limit * 1024 * 1024))
    program = request.get("program") or main_dir

    # As `pulumi`'s language host: the main directory is the working directory and first on sys.path.
    os.chdir(main_dir)
    sys.path[0] = main_dir
    sys.argv = [program if program != main_dir else os.path.join(main_dir, "__main__.py")]

    try:
        import pulumi.runtime
    except ImportError as error:
        finish({"ok": False, "missing": "pulumi", "error": f"cannot import {error.name or 'pulumi'}"})
    from pulumi.runtime.mocks import MockEngine, MockSettings
    from pulumi.runtime.settings import configure
    import logging

    recorder = Recorder(paths)
    running.append(recorder)
    _locate_apply_failures(paths)
    project, stack = request["project"], request["stack"]
    monitor = _make_monitor(recorder, project, stack)
    pulumi.runtime.set_all_config(request["config"], request["secret_keys"])
    logger = logging.getLogger("dpaguard.program")
    logger.propagate = False
    logger.addHandler(logging.NullHandler())
    configure(
        MockSettings(  # type: ignore[no-untyped-call]
            monitor=monitor,
            engine=MockEngine(logger),
            project=project,
            stack=stack,
            dry_run=True,
            organization=request.get("organization", "organization"),
            root_directory=root,
            callbacks=None,
            **_feature_settings(monitor),
        )
    )
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # One monitor thread: registrations reach the monitor in the order the program makes them,
    # so two renders of one program list their resources in the same order.
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=1))

    def run() -> Any:
        return runpy.run_path(program, run_name="__main__")

    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(run))
    except SystemExit as stop:
        if stop.code not in (None, 0):
            finish({"ok": False, "error": f"program called sys.exit({stop.code!r})"})
    except ImportError as error:
        if "__main__" in str(error) and "can't find" in str(error):
            finish({"ok": False, "error": f"no __main__.py in {paths.relative(main_dir + '/') or '.'}"})
        finish({"ok": False, "error": _error_line(error, paths)})
    except BaseException as error:  # noqa: BLE001 the user's program can raise anything
        if isinstance(error, pulumi.ConfigMissingError):
            finish({"ok": False, "error": _missing_config_line(error, paths, request.get("config_file") or "")})
        finish({"ok": False, "error": _error_line(error, paths)})

    with recorder.lock:
        records = list(recorder.records)
        for record in records:
            obj = recorder.objects.get(record["urn"])
            record["inputs"] = _struct(obj) if obj is not None else {}
            outputs = recorder.outputs.get(record["urn"])
            if outputs is not None:
                record["registeredOutputs"] = _struct(outputs)
    finish({"ok": True, "records": records, "invokes": recorder.invokes})


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: python -m dpaguard.source._runner REQUEST.json\n")
        sys.exit(2)
    main(sys.argv[1])
