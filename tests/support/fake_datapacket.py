"""A local stand-in for DataPacket's GraphQL API on 127.0.0.1, answering from fixture data (imported by conftest)."""

from __future__ import annotations

import copy
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PARIS = {"name": "Paris", "region": "Europe"}
AMSTERDAM = {"name": "Amsterdam", "region": "Europe"}

FIXTURE_SERVERS: dict[str, dict[str, Any]] = {
    "dp-par-sip-01": {
        "name": "dp-par-sip-01",
        "alias": "sip-a",
        "hostname": "dp-par-sip-01.dc.datapacket.example",
        "location": PARIS,
        "network": {"ipAddresses": [{"ip": "2001:db8::10", "isPrimary": False}, {"ip": "198.51.100.10", "isPrimary": True}]},
        "tags": [{"key": "env", "value": "prod"}],
    },
    "dp-par-db-01": {
        "name": "dp-par-db-01",
        "alias": None,
        "hostname": "dp-par-db-01.dc.datapacket.example",
        "location": PARIS,
        "network": {"ipAddresses": [{"ip": "198.51.100.20", "isPrimary": True}]},
        "tags": [],
    },
    "dp-ams-web-01": {
        "name": "dp-ams-web-01",
        "alias": "web-ams",
        "hostname": "dp-ams-web-01.dc.datapacket.example",
        "location": AMSTERDAM,
        "network": {"ipAddresses": [{"ip": "203.0.113.30", "isPrimary": True}]},
        "tags": [],
    },
}

# Names that make the stand-in misbehave the way a real API can.
GRAPHQL_ERROR_NAME = "dp-graphql-error"
ECHO_KEY_NAME = "dp-echo-key"
HTTP_500_NAME = "dp-http-500"
HTML_NAME = "dp-html-page"


@dataclass
class FakeDataPacket:
    """The running stand-in: its URL, the key it accepts, its servers and the requests it received."""

    url: str
    api_key: str
    servers: dict[str, dict[str, Any]]
    requests: list[dict[str, Any]] = field(default_factory=list)


def _handler(state: FakeDataPacket) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: Any) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length) or b"{}")
            authorization = self.headers.get("Authorization") or ""
            state.requests.append({"path": self.path, "authorization": authorization, "payload": payload})
            if self.path != "/v0/graphql":
                self._answer(404, {"message": "no such route"})
                return
            if authorization != f"Bearer {state.api_key}":
                self._answer(401, {"errors": [{"message": "Unauthorized", "extensions": {"code": "UNAUTHENTICATED"}}]})
                return
            query = str(payload.get("query") or "")
            variables = payload.get("variables") or {}
            if "setServerTags" in query:
                name = variables["input"]["server"]["name"]
                server = state.servers.get(name)
                if server is None:
                    self._answer(200, _not_found(name))
                    return
                server["tags"] = [dict(t) for t in variables["input"]["tags"]]
                self._answer(200, {"data": {"setServerTags": server}})
                return
            if "server(" in query:
                name = variables["input"]["name"]
                if name == GRAPHQL_ERROR_NAME:
                    self._answer(200, {"data": None, "errors": [{"message": "Internal error while loading server", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]})
                elif name == ECHO_KEY_NAME:
                    self._answer(200, {"data": None, "errors": [{"message": f"bad request from {authorization}"}]})
                elif name == HTML_NAME:
                    raw = b"<html><body>maintenance</body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                elif name == HTTP_500_NAME:
                    self._answer(500, {"message": "upstream failure"})
                elif name in state.servers:
                    self._answer(200, {"data": {"server": state.servers[name]}})
                else:
                    self._answer(200, _not_found(name))
                return
            self._answer(400, {"errors": [{"message": "unsupported operation", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]})

    return Handler


def _not_found(name: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": f"Server {name} not found", "extensions": {"code": "NOT_FOUND"}}]}


def start(servers: dict[str, dict[str, Any]] | None = None) -> tuple[FakeDataPacket, ThreadingHTTPServer, threading.Thread]:
    """Start the stand-in on a random port of 127.0.0.1 with its own random key."""
    state = FakeDataPacket(
        url="", api_key=f"dp-test-{secrets.token_hex(16)}", servers=copy.deepcopy(servers or FIXTURE_SERVERS)
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    return state, server, thread
