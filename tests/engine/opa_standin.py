"""A stand-in OPA server for the tests: the parts of OPA's v1 REST API dpaguard uses, on regopy.

No OPA binary can be installed here, so the OPA engine is tested against this server, started on
127.0.0.1 (random port) in a thread. It follows OPA's REST API reference (docs/rest-api.md):

    GET    /health                      200 {}
    GET    /v1/policies                 200 {"result": [{"id", "raw", "ast"}]}   (ast left empty);
                                        /v1/policies/ redirects there (OPA's StrictSlash router)
    GET    /v1/policies/<id>            200 {"result": {...}} | 404
    PUT    /v1/policies/<id>            text/plain Rego; parsed and compiled with the other
                                        modules first: 200 {} | 400 {"code": "invalid_parameter",
                                        "message": ..., "errors": [{"code", "message",
                                        "location": {"file": <id>, "row", "col"}}]}
    DELETE /v1/policies/<id>            200 {} | 404 | 400 when the rest no longer compiles
    PUT    /v1/data/<path>              application/json, creates parents: 204
    GET    /v1/data/<path>              200 {"result": ...}, no `result` when undefined
    POST   /v1/data/<path>              {"input": ...} -> 200 {"result": ...}, no `result` when
                                        undefined; ?strict-builtin-errors=true honoured;
                                        400 on malformed JSON; 500 {"code": "internal_error"} on
                                        an evaluation error

Evaluation: a fresh regopy.Interpreter with every module and the data, rebuilt whenever a
policy or the data changes, one query at a time (regopy interpreters are not shared across
threads). regopy (rego-cpp 1.5) compiles less strictly than OPA (it lets an unsafe variable or an
unknown function through as undefined), so the stand-in's 400s are a subset of OPA's: use the
"compile-error" fault to get OPA's shape for those.

Faults a test injects with `inject(mode, on="METHOD /path-prefix")` (default: every request):
    hang          answer nothing for `hang_seconds` (past the client's timeout)
    garbage       200 with a body that is not JSON
    error500      500 {"code": "internal_error", "message": ...}
    undefined     200 {} (the document is undefined)
    malformed     the real answer with its decisions replaced by malformed ones
    compile-error 400 with OPA's compile-error body, pointing at line 3 of the module
Refused connections need no server: see `closed_port_url()`.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import regopy

_ERROR = re.compile(r"\(error \d+:(?P<file>[^|]*)\|(?P<offset>\d+)\|\d+\s*\(errormsg (?P<length>\d+):")


@dataclass
class Fault:
    """One injected misbehaviour and the requests it applies to."""

    mode: str
    on: str = ""  # "POST /v1/data" applies to requests whose "METHOD path" starts with it


class RegoFailure(Exception):
    """regopy refused the modules or failed to evaluate."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _row_col(source: str, offset: int) -> tuple[int, int]:
    before = source[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


class OpaStandIn:
    """The stand-in server: `with OpaStandIn() as opa: ... opa.url ...`."""

    def __init__(self, *, hang_seconds: float = 30.0, prefix: str = "") -> None:
        self.prefix = prefix  # serve under a path prefix, as behind a reverse proxy ("/opa")
        self.policies: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.fault: Fault | None = None
        self.hang_seconds = hang_seconds
        self.requests: list[str] = []  # "METHOD /path" of every request, in order
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._interpreter: regopy.Interpreter | None = None
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
        return f"http://{host}:{port}"

    def start(self) -> "OpaStandIn":
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; a hanging handler is released."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "OpaStandIn":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, mode: str, on: str = "") -> None:
        """Misbehave with `mode` on requests starting with `on` ("POST /v1/data"); see the module doc."""
        assert mode in ("hang", "garbage", "error500", "undefined", "malformed", "compile-error"), mode
        self.fault = Fault(mode, on)

    def heal(self) -> None:
        """Stop misbehaving."""
        self.fault = None

    # -- the Rego side -------------------------------------------------------------------------

    def _build(self, policies: dict[str, str]) -> regopy.Interpreter:
        interpreter = regopy.Interpreter()
        for pid, source in sorted(policies.items()):
            try:
                interpreter.add_module(pid, source)
            except regopy.RegoError as error:
                raise RegoFailure("error(s) occurred while compiling module(s)", _errors(str(error), policies)) from error
        interpreter.add_data(self.data)
        try:
            interpreter.query("true")  # rego-cpp compiles the modules on the first query
        except regopy.RegoError as error:
            raise RegoFailure("error(s) occurred while compiling module(s)", _errors(str(error), policies)) from error
        return interpreter

    def compile_check(self, policies: dict[str, str]) -> None:
        """Raise RegoFailure when these modules do not parse and compile together."""
        with self._lock:
            self._build(policies)

    def changed(self) -> None:
        """Policies or data changed: the next query builds a fresh interpreter."""
        with self._lock:
            self._interpreter = None

    def evaluate(self, path: list[str], input_document: Any, *, has_input: bool, strict: bool) -> tuple[bool, Any]:
        """(defined, value) of data.<path> for this input."""
        ref = "data" + "".join(f"[{json.dumps(segment)}]" for segment in path)
        with self._lock:
            if not has_input:  # input stays undefined: a fresh interpreter, none left over
                interpreter = self._build(self.policies)
            else:
                if self._interpreter is None:
                    self._interpreter = self._build(self.policies)
                interpreter = self._interpreter
                interpreter.set_input_term(json.dumps(input_document))
            interpreter.strict_built_in_errors = strict
            try:
                output = interpreter.query(ref)
            except regopy.RegoError as error:
                raise RegoFailure(f"1 error occurred: {' '.join(str(error).split())[:500]}", []) from error
            text = str(output)
        if text == "undefined":
            return False, None
        try:
            expressions = json.loads(text)["expressions"]
        except (ValueError, KeyError, TypeError) as error:
            raise RegoFailure(f"1 error occurred: eval_error: {text[:200]}", []) from error
        return True, expressions[0]


def _errors(text: str, policies: dict[str, str]) -> list[dict[str, Any]]:
    """rego-cpp's (rego-errorseq ...) as OPA's errors[] with file, row and column."""
    errors: list[dict[str, Any]] = []
    for match in _ERROR.finditer(text):
        start = match.end()
        message = text[start : start + int(match["length"])]
        file = match["file"]
        row, col = _row_col(policies.get(file, ""), int(match["offset"]))
        errors.append(
            {"code": "rego_parse_error", "message": message, "location": {"file": file, "row": row, "col": col}}
        )
    if not errors:
        errors.append({"code": "rego_compile_error", "message": " ".join(text.split())[:300]})
    # rego-cpp reports the innermost error first; OPA reports in source order.
    return sorted(errors, key=lambda e: (e.get("location", {}).get("file", ""), e.get("location", {}).get("row", 0)))


class _Handler(BaseHTTPRequestHandler):
    server_state: OpaStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    # -- plumbing ------------------------------------------------------------------------------

    def _send(self, status: int, body: Any = None, *, raw: bytes | None = None) -> None:
        payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        body: dict[str, Any] = {"code": code, "message": message}
        if errors:
            body["errors"] = errors
        self._send(status, body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _fault(self, path: str) -> str | None:
        fault = self.server_state.fault
        if fault is None or not f"{self.command} {path}".startswith(fault.on):
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
            self._error(500, "internal_error", "storage error: stand-in fault")
            return "done"
        if fault.mode == "compile-error":
            self._body()
            pid = unquote(path.removeprefix("/v1/policies/"))
            self._error(
                400,
                "invalid_parameter",
                "error(s) occurred while compiling module(s)",
                [{"code": "rego_unsafe_var_error", "message": "var x is unsafe", "location": {"file": pid, "row": 3, "col": 1}}],
            )
            return "done"
        return fault.mode  # undefined, malformed: decided after evaluation

    def _route(self) -> tuple[str, list[str], dict[str, list[str]]]:
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
            self._send(200, {"result": [{"id": pid, "raw": raw, "ast": {}} for pid, raw in sorted(state.policies.items())]})
        elif segments[:2] == ["v1", "policies"]:
            pid = "/".join(segments[2:])
            if pid in state.policies:
                self._send(200, {"result": {"id": pid, "raw": state.policies[pid], "ast": {}}})
            else:
                self._error(404, "resource_not_found", f'storage_not_found_error: policy id "{pid}"')
        elif segments[:2] == ["v1", "data"]:
            self._query(path, segments[2:], None, has_input=False, query=query)
        else:
            self._error(404, "resource_not_found", "not found")

    def do_POST(self) -> None:
        path, segments, query = self._route()
        self.server_state.requests.append(f"POST {path}")
        mode = self._fault(path)
        if mode == "done":
            return
        if segments[:2] != ["v1", "data"]:
            self._error(404, "resource_not_found", "not found")
            return
        raw = self._body()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError as error:
            self._error(400, "invalid_parameter", f"body contains malformed input document: {error}")
            return
        if not isinstance(body, dict):
            self._error(400, "invalid_parameter", "body must be an object")
            return
        self._query(path, segments[2:], body.get("input"), has_input="input" in body, query=query, mode=mode)

    def _query(
        self, path: str, ref: list[str], input_document: Any, *, has_input: bool, query: dict[str, list[str]], mode: str | None = None
    ) -> None:
        strict = any(value in ("", "true", "True") for value in query.get("strict-builtin-errors", []))
        try:
            defined, value = self.server_state.evaluate(ref, input_document, has_input=has_input, strict=strict)
        except RegoFailure as failure:
            self._error(500, "internal_error", str(failure))
            return
        if mode == "undefined" or not defined:
            self._send(200, {})
            return
        if mode == "malformed":
            malformed = [{"control": 42, "urn": None, "message": ["not", "a", "string"]}]
            if isinstance(value, dict) and "decisions" in value:
                value = {**value, "decisions": malformed}
            else:
                value = malformed
        self._send(200, {"result": value})

    def do_PUT(self) -> None:
        path, segments, _ = self._route()
        self.server_state.requests.append(f"PUT {path}")
        if self._fault(path) == "done":
            return
        state = self.server_state
        raw = self._body()
        if segments[:2] == ["v1", "policies"] and len(segments) > 2:
            pid = "/".join(segments[2:])
            source = raw.decode("utf-8", errors="replace")
            candidate = {**state.policies, pid: source}
            try:
                state.compile_check(candidate)
            except RegoFailure as failure:
                self._error(400, "invalid_parameter", str(failure), failure.errors)
                return
            state.policies[pid] = source
            state.changed()
            self._send(200, {})
        elif segments[:2] == ["v1", "data"]:
            try:
                document = json.loads(raw)
            except ValueError as error:
                self._error(400, "invalid_parameter", f"body contains malformed JSON: {error}")
                return
            target = state.data
            *parents, last = segments[2:] or [""]
            if not last:
                if not isinstance(document, dict):
                    self._error(400, "invalid_parameter", "root document must be an object")
                    return
                state.data = document
            else:
                for segment in parents:
                    child = target.setdefault(segment, {})
                    if not isinstance(child, dict):
                        self._error(404, "resource_conflict", "storage_write_conflict_error")
                        return
                    target = child
                target[last] = document
            state.changed()
            self._send(204)
        else:
            self._error(404, "resource_not_found", "not found")

    def do_DELETE(self) -> None:
        path, segments, _ = self._route()
        self.server_state.requests.append(f"DELETE {path}")
        if self._fault(path) == "done":
            return
        state = self.server_state
        if segments[:2] == ["v1", "policies"] and len(segments) > 2:
            pid = "/".join(segments[2:])
            if pid not in state.policies:
                self._error(404, "resource_not_found", f'storage_not_found_error: policy id "{pid}"')
                return
            rest = {k: v for k, v in state.policies.items() if k != pid}
            try:
                state.compile_check(rest)
            except RegoFailure as failure:
                self._error(400, "invalid_parameter", str(failure), failure.errors)
                return
            state.policies = rest
            state.changed()
            self._send(200, {})
        else:
            self._error(404, "resource_not_found", "not found")


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
