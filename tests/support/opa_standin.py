"""A stand-in for `opa run --server`: OPA's v1 REST API over the real OPA engine (opa_bindings).

No OPA binary can be installed here, but the real OPA evaluator (v1.20, Go) can: the wheel
`opa-golib-python-bindings` loads `github.com/open-policy-agent/opa/v1/rego` in-process. This
server puts OPA's REST API in front of it, on 127.0.0.1 (random port), in a thread, so that the
OPA engine's HTTP path is tested against OPA's own parser, compiler and evaluator. The REST layer
follows OPA's server (v1/server/server.go) and its REST API reference:

    GET    /health                      200 {}
    GET    /v1/policies                 200 {"result": [{"id", "raw", "ast"}]}   (of the ast, only
                                        the package path, from the text);
                                        /v1/policies/ redirects there (OPA's StrictSlash router)
    GET    /v1/policies/<id>            200 {"result": {...}} | 404 resource_not_found
    PUT    /v1/policies/<id>            text/plain Rego. The same text as held: 200 {} at once.
                                        Else parsed and compiled with every other module first:
                                        200 {} | 400 {"code": "invalid_parameter", "message":
                                        "error(s) occurred while compiling module(s)", "errors":
                                        [{"code", "message", "location": {"file": <id>, "row",
                                        "col"}}]}, the old state kept
    DELETE /v1/policies/<id>            200 {} | 404 | 400 invalid_operation when the rest no
                                        longer compiles
    PUT    /v1/data/<path>              application/json, creates parents: 204 | 400
    GET    /v1/data/<path>              200 {"result": ...}, no `result` when undefined
    POST   /v1/data/<path>              {"input": ...} -> 200 {"result": ...}, no `result` when
                                        undefined; `?provenance=true` adds {"provenance":
                                        {"version", "bundles": {name: {"revision"}}}}; 400 on
                                        malformed JSON; 500 {"code": "internal_error"} on an
                                        evaluation error (a builtin error, a conflict)

Policies and data live here; an opa_bindings engine cannot remove a module, so every change
builds a fresh engine from the modules and data held, and a PUT or DELETE builds its candidate
first: refused (400, OPA's errors[] rebuilt from the OpaError text `file:row: code: message`,
with the column of the parser's caret when it shows one, else of the row's first character),
the old state stays, as in OPA. A query runs on the current engine, one at a time.

One difference is deliberate and documented: opa_bindings always evaluates with strict builtin
errors (`?strict-builtin-errors=true`, which dpaguard always sends); without the parameter OPA
would make a failing builtin undefined, the stand-in still answers 500.

A bundle-loaded server (`opa run --server --bundle dpa.tar.gz`): `OpaStandIn(bundle=path)` reads
the gzipped tar as OPA's bundle loader does: `.manifest` (revision, roots, rego_version),
`data.json` files (at the root, or under a folder naming the data path), and `*.rego` modules,
stored under the ids `<bundle name>/<path in the bundle>`. Data and packages outside the roots
are refused (OPA refuses to activate such a bundle). The manifest and etag are exposed at
`data.system.bundles[<name>]`, and the REST API refuses to write policies or data under the
bundle's roots: 400 invalid_parameter "path dpaguard/main is owned by bundle \"dpa.tar.gz\"".

Faults a test injects with `inject(mode, on="METHOD /path-prefix")` (default: every request):
    hang          answer nothing for `hang_seconds` (past the client's timeout)
    drip          the real answer, one byte every `drip_seconds` (each read is quick, the whole
                  answer takes minutes)
    garbage       200 with a body that is not JSON
    error500      500 {"code": "internal_error", "message": ...}
    undefined     200 {} (the document is undefined)
    no-decisions  the real answer with the `decisions` rule left out of the package
    malformed     the real answer with its decisions replaced by malformed ones
    compile-error 400 with OPA's compile-error body, pointing at line 3 of the module
Refused connections need no server: see `closed_port_url()`.
"""

from __future__ import annotations

import copy
import json
import re
import socket
import tarfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from opa_bindings import OpaEngine, OpaError

MODES = ("hang", "drip", "garbage", "error500", "undefined", "no-decisions", "malformed", "compile-error")
COMPILE_MESSAGE = "error(s) occurred while compiling module(s)"
OPA_VERSION = "1.20.2"  # the OPA inside opa-golib-python-bindings 0.4.4
# "rego/x.rego:19: rego_parse_error: unexpected package keyword: expected var" (one line of an OpaError)
_ERROR_LINE = re.compile(r"^(?P<loc>\S+): (?P<code>[a-z_]+_error): (?P<message>.*)$")
_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)


@dataclass
class Fault:
    """One injected misbehaviour and the requests it applies to."""

    mode: str
    on: str = ""  # "POST /v1/data" applies to requests whose "METHOD path" starts with it


class Refused(Exception):
    """OPA refuses a change or a query: the HTTP status and OPA's error body."""

    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or []

    def body(self) -> dict[str, Any]:
        """OPA's error document."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def ast_errors(error: OpaError, policies: dict[str, str]) -> list[dict[str, Any]]:
    """OPA's errors[] (code, message, location file/row/col) from the text of an OpaError.

    The bindings report `N error(s) occurred: file:row: code: message`, one error per line, a
    parse error followed by its source line and a caret under the column.
    """
    lines = error.message.replace("bundle activation failed: ", "").split("\n")
    found: list[dict[str, Any]] = []
    for index, line in enumerate(lines):
        line = re.sub(r"^\d+ errors? occurred:\s*", "", line)
        match = _ERROR_LINE.match(line)
        if not match:
            continue
        parts = match["loc"].split(":")
        numbers: list[int] = []
        while parts and parts[-1].isdigit() and len(numbers) < 2:
            numbers.insert(0, int(parts.pop()))
        file = ":".join(parts)
        row = numbers[0] if numbers else 0
        col = numbers[1] if len(numbers) > 1 else 0
        if not col and index + 2 < len(lines) and lines[index + 2].strip() == "^":
            col = len(lines[index + 2].removeprefix("\t").rstrip()) or 1
        if not col and row:
            source_lines = policies.get(file, "").split("\n")
            text = source_lines[row - 1] if 0 < row <= len(source_lines) else ""
            col = len(text) - len(text.lstrip()) + 1
        location = {"file": file, "row": row, "col": col}
        found.append({"code": match["code"], "message": match["message"], "location": location})
    if not found:
        found.append({"code": "rego_compile_error", "message": " ".join(error.message.split())[:300]})
    return found


def _owned(path: list[str], root: str) -> bool:
    """OPA's isPathOwned: the path and the root agree on every segment they both have."""
    root_parts = [p for p in root.split("/") if p]
    return all(a == b for a, b in zip(path, root_parts))


def _package_path(source: str) -> list[str]:
    match = _PACKAGE.search(re.sub(r"#.*", "", source))
    return match.group(1).split(".") if match else []


def _ast(source: str) -> dict[str, Any]:
    """The part of OPA's module AST dpaguard reads: the package path, `data` first."""
    path = [{"type": "var", "value": "data"}, *({"type": "string", "value": p} for p in _package_path(source))]
    return {"package": {"path": path}}


@dataclass(frozen=True)
class Bundle:
    """A bundle as OPA activates it: its name, manifest, modules by store id, and data."""

    name: str
    manifest: dict[str, Any]
    modules: dict[str, str]
    data: dict[str, Any]

    @property
    def roots(self) -> list[str]:
        """The manifest's roots (OPA's default: everything)."""
        roots = self.manifest.get("roots")
        return [str(r) for r in roots] if isinstance(roots, list) else [""]


def read_bundle(path: Path, name: str | None = None) -> Bundle:
    """Load a bundle file (gzipped tar) as `opa run --bundle` does; ValueError when OPA would refuse it."""
    name = name or path.name
    manifest: dict[str, Any] = {}
    modules: dict[str, str] = {}
    data: dict[str, Any] = {}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            stream = archive.extractfile(member)
            assert stream is not None
            raw = stream.read()
            rel = "/" + re.sub(r"^(?:\./|/)+", "", member.name)  # "./a/b", "/a/b", "a/b": "/a/b"
            base = PurePosixPath(rel).name
            if base == ".manifest":
                manifest = json.loads(raw)
            elif base == "data.json":
                value = json.loads(raw)
                folder = [p for p in PurePosixPath(rel).parent.parts if p != "/"]
                target = data
                for part in folder[:-1]:
                    target = target.setdefault(part, {})
                if folder:
                    target[folder[-1]] = value
                elif isinstance(value, dict):
                    data.update(value)
                else:
                    raise ValueError("bundle data.json at the root must be an object")
            elif base.endswith(".rego"):
                modules[f"{name}{rel}"] = raw.decode("utf-8")
    bundle = Bundle(name=name, manifest=manifest, modules=modules, data=data)
    if not isinstance(manifest.get("revision", ""), str):
        raise ValueError("bundle .manifest: revision must be a string")
    roots = bundle.roots
    for key in data:
        if not any(_owned([key], root) for root in roots):
            raise ValueError(f"manifest roots {roots} do not permit data at path '/{key}'")
    for module_id, source in modules.items():
        package = _package_path(source)
        if not any(root == "" or package[: len(root.split("/"))] == root.split("/") for root in roots):
            raise ValueError(f"manifest roots {roots} do not permit 'package {'.'.join(package)}' in module '{module_id}'")
    return bundle


class OpaStandIn:
    """The stand-in server: `with OpaStandIn() as opa: ... opa.url ...`."""

    def __init__(
        self,
        *,
        hang_seconds: float = 30.0,
        drip_seconds: float = 1.0,
        prefix: str = "",
        bundle: Path | None = None,
    ) -> None:
        self.prefix = prefix  # serve under a path prefix, as behind a reverse proxy ("/opa")
        self.policies: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.bundles: dict[str, Bundle] = {}
        self.fault: Fault | None = None
        self.hang_seconds = hang_seconds
        self.drip_seconds = drip_seconds
        self.requests: list[str] = []  # "METHOD /path" of every request, in order
        self.inputs: list[Any] = []  # the input document of every query, in order
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._engine: OpaEngine | None = None
        if bundle is not None:
            self.activate(read_bundle(bundle))
        standin = self

        class Handler(_Handler):
            server_state = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        """Where the server listens."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "OpaStandIn":
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; a hanging or dripping handler is released."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None

    def __enter__(self) -> "OpaStandIn":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, mode: str, on: str = "") -> None:
        """Misbehave with `mode` on requests starting with `on` ("POST /v1/data"); see the module doc."""
        assert mode in MODES, mode
        self.fault = Fault(mode, on)

    def heal(self) -> None:
        """Stop misbehaving."""
        self.fault = None

    # -- the OPA side --------------------------------------------------------------------------

    def activate(self, bundle: Bundle) -> None:
        """Load a bundle as `opa run --bundle` does (ValueError when its modules do not compile)."""
        with self._lock:
            policies = {**self.policies, **bundle.modules}
            data = copy.deepcopy({**self.data, **bundle.data})
            data.setdefault("system", {}).setdefault("bundles", {})[bundle.name] = {
                "manifest": bundle.manifest,
                "etag": "",
            }
            try:
                self._install(self._build(policies, data), policies, data)
            except Refused as refused:
                raise ValueError(f"bundle {bundle.name}: {refused.message}: {refused.errors}") from None
            self.bundles[bundle.name] = bundle

    def _build(self, policies: dict[str, str], data: dict[str, Any]) -> OpaEngine:
        """A fresh OPA engine holding these modules and data, compiled; Refused (400) when they do not."""
        engine = OpaEngine()
        try:
            for pid, source in sorted(policies.items()):
                engine.add_policy(pid, source)
            engine.add_data(data)
            engine.eval_query("true")  # OPA compiles every module when it prepares a query
        except OpaError as error:
            engine.close()
            raise Refused(400, "invalid_parameter", COMPILE_MESSAGE, ast_errors(error, policies)) from None
        return engine

    def _install(self, engine: OpaEngine, policies: dict[str, str], data: dict[str, Any]) -> None:
        old, self._engine = self._engine, engine
        self.policies, self.data = policies, data
        if old is not None:
            old.close()

    def _check_scope(self, path: list[str]) -> None:
        """OPA's checkPathScope: nothing under a bundle's roots is written through the API."""
        if not self.bundles:
            return
        if not path:
            raise Refused(400, "invalid_parameter", "can't write to document root with bundle roots configured")
        for name, bundle in sorted(self.bundles.items()):
            for root in bundle.roots:
                if root == "":
                    raise Refused(400, "invalid_parameter", f'all paths owned by bundle "{name}"')
                if _owned(path, root):
                    raise Refused(400, "invalid_parameter", f'path {"/".join(path)} is owned by bundle "{name}"')

    def put_policy(self, pid: str, source: str) -> None:
        """Add or replace a module, as OPA's PUT /v1/policies/<id> does; Refused otherwise."""
        with self._lock:
            if pid in self.policies:
                self._check_scope(_package_path(self.policies[pid]))
                if self.policies[pid] == source:
                    return
            self._check_scope(_package_path(source))
            policies = {**self.policies, pid: source}
            self._install(self._build(policies, self.data), policies, self.data)

    def delete_policy(self, pid: str) -> None:
        """Remove a module, as OPA's DELETE /v1/policies/<id> does; Refused otherwise."""
        with self._lock:
            if pid not in self.policies:
                raise Refused(404, "resource_not_found", f'storage_not_found_error: policy id "{pid}"')
            self._check_scope(_package_path(self.policies[pid]))
            policies = {k: v for k, v in self.policies.items() if k != pid}
            try:
                engine = self._build(policies, self.data)
            except Refused as refused:
                refused.code = "invalid_operation"
                raise
            self._install(engine, policies, self.data)

    def put_data(self, path: list[str], document: Any) -> None:
        """Write a document at data.<path>, creating parents, as OPA's PUT /v1/data does."""
        with self._lock:
            self._check_scope(path)
            if not path:
                if not isinstance(document, dict):
                    raise Refused(400, "invalid_parameter", "root document must be an object")
                data = json.loads(json.dumps(document))
            else:
                data = json.loads(json.dumps(self.data))
                target = data
                for segment in path[:-1]:
                    child = target.setdefault(segment, {})
                    if not isinstance(child, dict):
                        raise Refused(404, "resource_conflict", "storage_write_conflict_error: " + "/".join(path))
                    target = child
                target[path[-1]] = document
            self._install(self._build(self.policies, data), self.policies, data)

    def evaluate(self, path: list[str], input_document: Any, *, has_input: bool) -> tuple[bool, Any]:
        """(defined, value) of data.<path> for this input; Refused (500) on an evaluation error."""
        query = "x = data" + "".join(f"[{json.dumps(segment)}]" for segment in path)
        with self._lock:
            if self._engine is None:
                self._install(self._build(self.policies, self.data), self.policies, self.data)
            assert self._engine is not None
            try:
                rows = self._engine.eval_query(query, input_document if has_input else None)
            except OpaError as error:
                raise Refused(500, "internal_error", error.message) from None
        if not rows:
            return False, None
        return True, rows[0]["x"]

    def provenance(self) -> dict[str, Any]:
        """OPA's `?provenance=true` block: its version and each bundle's revision."""
        block: dict[str, Any] = {"version": OPA_VERSION, "build_commit": "", "build_timestamp": "", "build_hostname": ""}
        if self.bundles:
            block["bundles"] = {name: {"revision": str(b.manifest.get("revision", ""))} for name, b in self.bundles.items()}
        return block


class _Handler(BaseHTTPRequestHandler):
    server_state: OpaStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    # -- plumbing ------------------------------------------------------------------------------

    def _send(self, status: int, body: Any = None, *, raw: bytes | None = None) -> None:
        payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        fault = self.server_state.fault
        if fault is not None and fault.mode == "drip" and self._faulted:
            self._drip(status, payload)
            return
        self.send_response(status)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _drip(self, status: int, payload: bytes) -> None:
        """The whole answer, status line included, one byte at a time."""
        head = (
            f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode()
        state = self.server_state
        try:
            for index in range(len(head) + len(payload)):
                if state._stopping.wait(state.drip_seconds if index else 0):
                    break
                self.wfile.write((head + payload)[index : index + 1])
                self.wfile.flush()
        except OSError:
            pass  # the client gave up
        self.close_connection = True

    def _refuse(self, refused: Refused) -> None:
        self._send(refused.status, refused.body())

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _fault(self, path: str) -> str | None:
        fault = self.server_state.fault
        self._faulted = fault is not None and f"{self.command} {path}".startswith(fault.on)
        if fault is None or not self._faulted:
            return None
        if fault.mode == "hang":
            self._body()
            self.server_state._stopping.wait(self.server_state.hang_seconds)
            self.close_connection = True
            return "done"
        if fault.mode == "garbage":
            self._body()
            self._send(200, raw=b"<html>502 Bad Gateway</html>")
            return "done"
        if fault.mode == "error500":
            self._body()
            self._refuse(Refused(500, "internal_error", "storage error: stand-in fault"))
            return "done"
        if fault.mode == "compile-error":
            self._body()
            pid = unquote(path.removeprefix("/v1/policies/"))
            error = {"code": "rego_unsafe_var_error", "message": "var x is unsafe", "location": {"file": pid, "row": 3, "col": 1}}
            self._refuse(Refused(400, "invalid_parameter", COMPILE_MESSAGE, [error]))
            return "done"
        return fault.mode  # drip, undefined, no-decisions, malformed: decided on the answer

    def _route(self) -> tuple[str, list[str], dict[str, list[str]]]:
        self._faulted = False
        prefix = self.server_state.prefix
        if prefix:  # a proxy forwards only what is under its prefix: the rest is not found
            self.path = self.path[len(prefix) :] if self.path.startswith(prefix + "/") else "/outside-prefix" + self.path
        parts = urlsplit(self.path)
        segments = [unquote(s) for s in parts.path.split("/") if s]
        return parts.path, segments, parse_qs(parts.query, keep_blank_values=True)

    # -- methods -------------------------------------------------------------------------------

    def do_GET(self) -> None:
        path, segments, query = self._route()
        self.server_state.requests.append(f"GET {path}")
        if self._fault(path) == "done":
            return
        state = self.server_state
        if path == "/v1/policies/":
            # OPA's router has StrictSlash(true): /v1/policies/ redirects to /v1/policies
            self.send_response(301)
            self.send_header("Location", "/v1/policies")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif segments == ["health"]:
            self._send(200, {})
        elif segments[:2] == ["v1", "policies"] and len(segments) == 2:
            self._send(200, {"result": [{"id": pid, "raw": raw, "ast": _ast(raw)} for pid, raw in sorted(state.policies.items())]})
        elif segments[:2] == ["v1", "policies"]:
            pid = "/".join(segments[2:])
            if pid in state.policies:
                self._send(200, {"result": {"id": pid, "raw": state.policies[pid], "ast": _ast(state.policies[pid])}})
            else:
                self._refuse(Refused(404, "resource_not_found", f'storage_not_found_error: policy id "{pid}"'))
        elif segments[:2] == ["v1", "data"]:
            self._query(segments[2:], None, has_input=False, query=query)
        else:
            self._refuse(Refused(404, "resource_not_found", "not found"))

    def do_POST(self) -> None:
        path, segments, query = self._route()
        self.server_state.requests.append(f"POST {path}")
        mode = self._fault(path)
        if mode == "done":
            return
        if segments[:2] != ["v1", "data"]:
            self._refuse(Refused(404, "resource_not_found", "not found"))
            return
        raw = self._body()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError as error:
            self._refuse(Refused(400, "invalid_parameter", f"body contains malformed input document: {error}"))
            return
        if not isinstance(body, dict):
            self._refuse(Refused(400, "invalid_parameter", "body must be an object"))
            return
        if "input" in body:
            self.server_state.inputs.append(body["input"])
        self._query(segments[2:], body.get("input"), has_input="input" in body, query=query, mode=mode)

    def _query(self, ref: list[str], input_document: Any, *, has_input: bool, query: dict[str, list[str]], mode: str | None = None) -> None:
        state = self.server_state
        try:
            defined, value = state.evaluate(ref, input_document, has_input=has_input)
        except Refused as refused:
            self._refuse(refused)
            return
        answer: dict[str, Any] = {}
        if any(v in ("", "true") for v in query.get("provenance", [])):
            answer["provenance"] = state.provenance()
        if mode == "undefined" or not defined:
            self._send(200, answer)
            return
        if mode == "no-decisions" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "decisions"}
        elif mode == "no-decisions":
            self._send(200, answer)
            return
        if mode == "malformed":
            malformed = [{"control": 42, "urn": None, "message": ["not", "a", "string"]}]
            value = {**value, "decisions": malformed} if isinstance(value, dict) and "decisions" in value else malformed
        self._send(200, {**answer, "result": value})

    def do_PUT(self) -> None:
        path, segments, _ = self._route()
        self.server_state.requests.append(f"PUT {path}")
        if self._fault(path) == "done":
            return
        state = self.server_state
        raw = self._body()
        try:
            if segments[:2] == ["v1", "policies"] and len(segments) > 2:
                state.put_policy("/".join(segments[2:]), raw.decode("utf-8", errors="replace"))
                self._send(200, {})
            elif segments[:2] == ["v1", "data"]:
                try:
                    document = json.loads(raw)
                except ValueError as error:
                    raise Refused(400, "invalid_parameter", f"body contains malformed JSON: {error}") from None
                state.put_data(segments[2:], document)
                self._send(204)
            else:
                self._refuse(Refused(404, "resource_not_found", "not found"))
        except Refused as refused:
            self._refuse(refused)

    def do_DELETE(self) -> None:
        path, segments, _ = self._route()
        self.server_state.requests.append(f"DELETE {path}")
        if self._fault(path) == "done":
            return
        try:
            if segments[:2] == ["v1", "policies"] and len(segments) > 2:
                self.server_state.delete_policy("/".join(segments[2:]))
                self._send(200, {})
            else:
                self._refuse(Refused(404, "resource_not_found", "not found"))
        except Refused as refused:
            self._refuse(refused)


def wait_listening(url: str, deadline: float = 5.0) -> None:
    """Block until something accepts connections at url (the server thread has started)."""
    parts = urlsplit(url)
    end = time.monotonic() + deadline
    while True:
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.02)


__all__ = ["OpaStandIn", "Bundle", "read_bundle", "closed_port_url", "ast_errors", "wait_listening"]
