"""The runner's resource monitor: records every request the program's SDK sends, and answers as a preview would.

Part of the child process of an offline render (`dpaguard.source._runner`, which loads this file by
its path): the standard library and the program's own `pulumi` only. Registrations are answered as a
provider previewing a create answers them (the id and every output it does not echo unknown);
lookups are answered from `--lookups` (`_runner_lookups`), else left unknown.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from typing import Any
from urllib.parse import unquote, urlparse

# Loaded by `_runner` before this file (standard-library-only modules of dpaguard, by their paths).
_markers = sys.modules["_dpaguard_render_markers"]
_urn = sys.modules["_dpaguard_render_urn"]
REDACTED: str = _markers.REDACTED
UNKNOWN: str = _markers.UNKNOWN
SECRET_SIG: str = _markers.SECRET_SIG
SECRET_SIG_KEY: str = _markers.SECRET_SIG_KEY
STACK_TYPE: str = _urn.STACK_TYPE

# Invokes the SDK sends for itself (a resource reference resolved), answered offline: not a program's lookup.
ENGINE_INVOKES = frozenset({"pulumi:pulumi:getResource"})
# How a lookup answered with nothing is marked on stderr (read by dpaguard.source.failure).
LOOKUP_MARK = "dpaguard-runner: lookup answered nothing: "
# What stands for an unknown field of a plain lookup's result (`_runner_lookups`), with the lookup's number.
_LOOKUP_MARKER = re.compile(re.escape(f"{UNKNOWN}-lookup-") + r"(\d+)")


def preview_id(request: Any) -> str:
    """The id `pulumi preview` knows for a resource it would create: none (unknown), unless it is imported.

    The engine answers a registration in preview with the id the provider's Create returned, and a
    provider previewing a create returns none; the SDK then resolves `.id` as unknown and skips every
    `apply` on it, and the engine writes the unknown sentinel into the state it hands a policy pack.
    An imported resource keeps the id it is imported by, which the engine reads.
    """
    return str(request.importId) if request.custom and request.importId else ""


def value_json(value: Any) -> Any:
    """A protobuf Value as JSON data; a secret keeps its wrapper but loses its value."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "struct_value":
        return struct_json(value.struct_value)
    if kind == "number_value":
        number = value.number_value
        if number.is_integer() and abs(number) < 2**53:
            return int(number)
        return number
    if kind == "bool_value":
        return value.bool_value
    if kind == "list_value":
        return [value_json(v) for v in value.list_value.values]
    return None


def struct_json(struct: Any) -> dict[str, Any]:
    """A protobuf Struct as a JSON object, keys sorted; a secret keeps its wrapper but loses its value."""
    fields = struct.fields
    sig = fields.get(SECRET_SIG_KEY)
    if sig is not None and sig.string_value == SECRET_SIG:
        return {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": REDACTED}
    # sorted, as the engine writes property maps (Go sorts map keys): the same program gives the same bytes
    return {key: value_json(fields[key]) for key in sorted(fields)}


def _is_secret_value(value: Any) -> bool:
    if value.WhichOneof("kind") != "struct_value":
        return False
    sig = value.struct_value.fields.get(SECRET_SIG_KEY)
    return sig is not None and sig.string_value == SECRET_SIG


def unmark(value: Any, tokens: list[str]) -> set[str]:
    """Turn every value holding a lookup's marker into the unknown value, in place; the lookups they stood for."""
    kind = value.WhichOneof("kind")
    found: set[str] = set()
    if kind == "string_value":
        numbers = _LOOKUP_MARKER.findall(value.string_value)
        if numbers:
            found = {tokens[int(n)] for n in numbers if int(n) < len(tokens)} or {"a lookup"}
            value.string_value = UNKNOWN
    elif kind == "struct_value":
        for field in value.struct_value.fields.values():
            found |= unmark(field, tokens)
    elif kind == "list_value":
        for item in value.list_value.values:
            found |= unmark(item, tokens)
    return found


def _holds_unknown(value: Any) -> bool:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return bool(value.string_value == UNKNOWN)
    if kind == "struct_value":
        return any(_holds_unknown(v) for v in value.struct_value.fields.values())
    if kind == "list_value":
        return any(_holds_unknown(v) for v in value.list_value.values)
    return False


class DuplicateResourceError(Exception):
    """Two resources with one URN: the engine refuses them, so does the offline render."""

    def __init__(self, urn: str, location: str | None) -> None:
        super().__init__(f"duplicate resource URN '{urn}'; try giving it a unique name")
        self.location = location


def _uri_path(uri: str) -> str:
    return unquote(urlparse(uri).path) if uri.startswith("file:") else ""


class Recorder:
    """What the program registered, in registration order, and the lookups it ran."""

    def __init__(self, paths: Any) -> None:
        self.paths = paths
        self.lock = threading.Lock()
        self.records: list[dict[str, Any]] = []
        self.by_urn: dict[str, dict[str, Any]] = {}
        self.objects: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}
        self.invokes: dict[str, int] = {}  # lookups answered with nothing, by token
        self.answered: dict[str, int] = {}  # lookups `--lookups` answered, by token
        self.unknown_outputs: list[str] = []  # lookups whose output form was wholly unknown, in order
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

    def unknown_output(self, token: str) -> None:
        """Note a lookup whose output form no entry answered (wholly unknown, `_runner_lookups`)."""
        with self.lock:
            if token not in self.unknown_outputs:
                self.unknown_outputs.append(token)

    def add(self, record: dict[str, Any], obj: Any) -> None:
        with self.lock:
            if record["urn"] in self.by_urn:
                position = record.get("sourcePosition")
                where = f"{position['path']}:{position['line']}" if position else None
                raise DuplicateResourceError(record["urn"], where)
            self.records.append(record)
            self.by_urn[record["urn"]] = record
            self.objects[record["urn"]] = obj

    def finished_records(self) -> list[dict[str, Any]]:
        """Every record with its inputs and registered outputs as JSON, in registration order."""
        with self.lock:
            records = list(self.records)
            for record in records:
                obj = self.objects.get(record["urn"])
                record["inputs"] = struct_json(obj) if obj is not None else {}
                outputs = self.outputs.get(record["urn"])
                if outputs is not None:
                    record["registeredOutputs"] = struct_json(outputs)
        return records


def _callback(token: str) -> tuple[Any, Any]:
    """The program's own function behind a callback token (a transform), and the loop it runs on."""
    from pulumi.runtime._callbacks import _CallbackServicer

    for servicer in _CallbackServicer._servicers:
        function = servicer._callbacks.get(token)
        if function is not None:
            return function, servicer._loop
    raise LookupError(f"no callback registered for token {token}")


def run_transforms(recorder: Recorder, request: Any, urn: str) -> tuple[Any, Any]:
    """Run the resource's, its parents' and the stack's transforms, in the engine's order: (properties, options)."""
    import asyncio

    from pulumi.runtime.proto import resource_pb2

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
            type=request.type, name=request.name, custom=request.custom, parent=request.parent,
            properties=properties, options=options,
        )
        future = asyncio.run_coroutine_threadsafe(function(transform_request.SerializeToString()), loop)
        response = future.result()
        properties = response.properties
        if response.HasField("options"):
            options = response.options
    return properties, options


def register_record(recorder: Recorder, request: Any, urn: str) -> dict[str, Any]:
    """What dpaguard keeps of one RegisterResource request (its inputs are added at the end)."""
    return {
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


def lookup_provenance(recorder: Recorder, answers: Any, properties: Any, dependencies: dict[str, list[str]]) -> dict[str, list[str]]:
    """Which inputs rest on a lookup that answered nothing, and on which: markers turned unknown here, in place.

    A plain lookup's unknown field carries its marker (`_runner_lookups`), which names the lookup. An
    unknown a resource's output makes carries that resource among the property's dependencies; one
    from a lookup's wholly unknown output form carries none, and is named with the lookups whose
    output form had been unknown when the resource was registered.
    """
    with recorder.lock:
        outputs = list(recorder.unknown_outputs)
    provenance: dict[str, list[str]] = {}
    for key, value in properties.fields.items():
        tokens = unmark(value, answers.tokens)
        if not tokens and outputs and not dependencies.get(key) and _holds_unknown(value):
            tokens = set(outputs)
        if tokens:
            provenance[key] = sorted(tokens)
    return provenance


def _secret_value(value: Any) -> Any:
    from google.protobuf import struct_pb2

    wrapped = struct_pb2.Value()
    wrapped.struct_value.fields[SECRET_SIG_KEY].string_value = SECRET_SIG
    wrapped.struct_value.fields["value"].CopyFrom(value)
    return wrapped


def with_secret_outputs(obj: Any, keys: list[str]) -> Any:
    """The properties with each of `keys` wrapped as a secret (additionalSecretOutputs), unless it is one already."""
    if not keys:
        return obj
    from google.protobuf import struct_pb2

    copied = struct_pb2.Struct()
    copied.CopyFrom(obj)
    for key in keys:
        field = copied.fields.get(key)
        if field is not None and not _is_secret_value(field):
            copied.fields[key].CopyFrom(_secret_value(field))
    return copied


def _make_urn_function(project: str, stack: str) -> Any:
    stack_urn = _urn.stack_urn(stack, project)

    def make_urn(parent: str, type_: str, name: str) -> str:
        # The engine leaves the root stack out of a child's qualified type.
        parsed = _urn.parse_urn(parent) if parent and parent != stack_urn else None
        if parsed is not None:
            type_ = f"{parsed[2]}${type_}"
        return str(_urn.urn(stack, project, type_, name))

    return make_urn


def _copy(struct: Any) -> Any:
    from google.protobuf import struct_pb2

    copied = struct_pb2.Struct()
    copied.CopyFrom(struct)
    return copied


def _register(recorder: Recorder, answers: Any, request: Any, urn: str) -> Any:
    """Record one registration and answer it as a provider previewing a create would."""
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import resource_pb2

    transformed = None
    if request.type != STACK_TYPE and (request.transforms or recorder.stack_transforms or recorder.resource_transforms):
        transformed = run_transforms(recorder, request, urn)
    record = register_record(recorder, request, urn)
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
            provider=options.provider, version=options.version, pluginDownloadURL=options.plugin_download_url,
            additionalSecretOutputs=secret_outputs, protect=bool(options.protect),
        )
    if obj is request.object:
        obj = _copy(obj)
    provenance = lookup_provenance(recorder, answers, obj, record["propertyDependencies"])
    if provenance:
        record["unansweredLookups"] = provenance
    obj = with_secret_outputs(obj, secret_outputs)
    recorder.add(record, obj)
    # As a provider previewing a create: its outputs are its inputs, and every output it does not
    # echo (a computed endpoint, an address) the SDK resolves as unknown, its applies skipped.
    return resource_pb2.RegisterResourceResponse(urn=urn, id=rid, object=obj)


def _read(recorder: Recorder, request: Any, urn: str) -> Any:
    from pulumi.runtime.proto import resource_pb2

    record = {
        "kind": "read", "urn": urn, "type": request.type, "name": request.name, "parent": request.parent,
        "custom": True, "provider": request.provider, "dependencies": list(request.dependencies),
        "version": request.version, "pluginDownloadURL": request.pluginDownloadURL,
        "additionalSecretOutputs": list(request.additionalSecretOutputs), "id": request.id, "sourcePosition": None,
    }
    recorder.add(record, request.properties)
    return resource_pb2.ReadResourceResponse(urn=urn, properties=request.properties)


def _invoke(recorder: Recorder, answers: Any, request: Any) -> Any:
    """A lookup's answer: a resource the program registered (the SDK's own), `--lookups`, else unknown."""
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import resource_pb2

    ret = struct_pb2.Struct()
    if request.tok == "pulumi:pulumi:getResource":
        recorder.lookup(request.tok)
        urn = request.args.fields["urn"].string_value
        known = recorder.by_urn.get(urn)
        if known is None:
            raise Exception(f"unknown resource {urn}")
        ret.fields["urn"].string_value = urn
        ret.fields["id"].string_value = "" if known.get("id") == UNKNOWN else known.get("id", "")
        ret.fields["state"].struct_value.CopyFrom(recorder.objects[urn])
        return resource_pb2.ResourceInvokeResponse(**{"return": ret})
    ret, answered = answers.answer(request.tok, request.args)
    if answered:
        with recorder.lock:
            recorder.answered[request.tok] = recorder.answered.get(request.tok, 0) + 1
    else:
        # Offline a data source answers nothing: its result is unknown, as it stays in a preview
        # whose provider cannot be reached, and a finding resting on it says so.
        recorder.lookup(request.tok)
    return resource_pb2.ResourceInvokeResponse(**{"return": ret})


def make_monitor(recorder: Recorder, answers: Any, project: str, stack: str) -> Any:
    """A mock resource monitor that records the full requests and answers like a preview would."""
    from google.protobuf import empty_pb2, struct_pb2
    from pulumi.runtime.mocks import MockMonitor, Mocks

    class _NoMocks(Mocks):
        def call(self, args: Any) -> Any:
            return {}, None

        def new_resource(self, args: Any) -> Any:
            return "", {}

    make_urn = _make_urn_function(project, stack)

    class RecordingMonitor(MockMonitor):
        def make_urn(self, parent: str, type_: str, name: str) -> str:
            return str(make_urn(parent, type_, name))

        def RegisterStackTransform(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
            with recorder.lock:
                recorder.stack_transforms.append(request)
            return empty_pb2.Empty()

        def RegisterResource(self, request: Any) -> Any:  # noqa: N802
            return _register(recorder, answers, request, make_urn(request.parent, request.type, request.name))

        def ReadResource(self, request: Any) -> Any:  # noqa: N802
            return _read(recorder, request, make_urn(request.parent, request.type, request.name))

        def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
            outputs = _copy(request.outputs)
            for value in outputs.fields.values():
                unmark(value, answers.tokens)
            with recorder.lock:
                recorder.outputs[request.urn] = outputs
            return empty_pb2.Empty()

        def Invoke(self, request: Any) -> Any:  # noqa: N802
            return _invoke(recorder, answers, request)

        def Call(self, request: Any) -> Any:  # noqa: N802
            # Resource methods run in providers: offline their results stay empty, like data sources.
            from pulumi.runtime.proto import provider_pb2

            recorder.lookup(request.tok)
            return provider_pb2.CallResponse(**{"return": struct_pb2.Struct()})

    return RecordingMonitor(_NoMocks())
