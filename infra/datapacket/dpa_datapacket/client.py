"""A small client for DataPacket's GraphQL API: look a bare-metal server up by name, set its tags.

The operations and fields used are listed in `schema.graphql` beside this module, with which of them
are confirmed from DataPacket's public material and which are designed to match it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

import requests

# What a credential is printed as (dpaguard's reports write the same).
REDACTED = "[secret]"

DEFAULT_API_URL = "https://api.datapacket.com"
GRAPHQL_PATH = "/v0/graphql"
ENV_API_URL = "DATAPACKET_API_URL"
ENV_API_KEY = "DATAPACKET_API_KEY"

_SERVER_FIELDS = """
    name
    alias
    hostname
    location { name region }
    network { ipAddresses { ip isPrimary } }
    tags { key value }
"""

SERVER_QUERY = f"""query Server($input: ServerInput!) {{
  server(input: $input) {{{_SERVER_FIELDS}  }}
}}"""

SET_TAGS_MUTATION = f"""mutation SetServerTags($input: SetServerTagsInput!) {{
  setServerTags(input: $input) {{{_SERVER_FIELDS}  }}
}}"""

_NOT_FOUND_CODES = frozenset({"NOT_FOUND", "SERVER_NOT_FOUND"})
_UNAUTHENTICATED_CODES = frozenset({"UNAUTHENTICATED", "UNAUTHORIZED", "FORBIDDEN"})


class DataPacketError(Exception):
    """DataPacket's API refused or failed a request; the message never contains the API key."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def one_line(self) -> str:
        """The message on one line, with the hint when there is one, as Pulumi prints a provider's error."""
        text = " ".join(str(self).split())
        return f"{text} ({self.hint})" if self.hint else text


class DataPacketAuthError(DataPacketError):
    """The API key is missing, wrong or lacks the permission for the request."""


class ServerNotFound(DataPacketError):
    """No server with that name exists in the DataPacket account."""


@dataclass(frozen=True)
class Server:
    """One DataPacket bare-metal server as the API describes it."""

    name: str
    alias: str
    hostname: str
    location: str
    region: str
    ip_addresses: tuple[str, ...]
    tags: Mapping[str, str]

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> "Server":
        """Build a Server from the API's `Server` object."""
        location = data.get("location") or {}
        network = data.get("network") or {}
        addresses = sorted(
            network.get("ipAddresses") or [], key=lambda a: (not a.get("isPrimary"), str(a.get("ip")))
        )
        return cls(
            name=str(data.get("name") or ""),
            alias=str(data.get("alias") or ""),
            hostname=str(data.get("hostname") or ""),
            location=str(location.get("name") or ""),
            region=str(location.get("region") or ""),
            ip_addresses=tuple(str(a["ip"]) for a in addresses if a.get("ip")),
            tags=MappingProxyType({str(t["key"]): str(t.get("value") or "") for t in data.get("tags") or []}),
        )


def resolve_credentials(api_url: str | None, api_key: str | None) -> tuple[str, str]:
    """The API URL and key: the given values, else DATAPACKET_API_URL / DATAPACKET_API_KEY, else the default URL."""
    url = api_url or os.environ.get(ENV_API_URL) or DEFAULT_API_URL
    key = api_key or os.environ.get(ENV_API_KEY) or ""
    if not key:
        raise DataPacketAuthError(
            "no DataPacket API key",
            hint=f"set the secret config datapacket:apiKey or the environment variable {ENV_API_KEY}",
        )
    return url, key


class DataPacketClient:
    """POSTs GraphQL documents to `<api_url>/v0/graphql` with `Authorization: Bearer <key>`."""

    def __init__(self, api_url: str, api_key: str, *, timeout: float = 15.0) -> None:
        self.endpoint = api_url.rstrip("/") + GRAPHQL_PATH
        self._key = api_key
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"DataPacketClient({self.endpoint!r}, api_key={REDACTED!r})"

    def get_server(self, name: str) -> Server | None:
        """The server called `name`, or None when the account has no such server."""
        try:
            data = self._execute(SERVER_QUERY, {"input": {"name": name}})
        except ServerNotFound:
            return None
        server = data.get("server")
        return Server.from_api(server) if server else None

    def require_server(self, name: str) -> Server:
        """The server called `name`; ServerNotFound when it does not exist."""
        server = self.get_server(name)
        if server is None:
            raise ServerNotFound(f"DataPacket server {name!r} not found in the account")
        return server

    def set_tags(self, name: str, tags: Mapping[str, str]) -> Server:
        """Replace the server's key/value tags and return the server as the API now describes it."""
        variables = {
            "input": {
                "server": {"name": name},
                "tags": [{"key": k, "value": tags[k]} for k in sorted(tags)],
            }
        }
        data = self._execute(SET_TAGS_MUTATION, variables)
        server = data.get("setServerTags")
        if not server:
            raise ServerNotFound(f"DataPacket server {name!r} not found in the account")
        return Server.from_api(server)

    def _execute(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        try:
            response = requests.post(
                self.endpoint,
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {self._key}", "Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise DataPacketError(
                self._scrub(f"cannot reach DataPacket API at {self.endpoint}: {type(exc).__name__}")
            ) from None
        if response.status_code in (401, 403):
            raise DataPacketAuthError(
                f"DataPacket API refused the API key (HTTP {response.status_code})",
                hint="check datapacket:apiKey / DATAPACKET_API_KEY",
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            self._raise_graphql_errors(errors)
        if response.status_code >= 400:
            raise DataPacketError(f"DataPacket API answered HTTP {response.status_code} at {self.endpoint}")
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise DataPacketError(f"DataPacket API at {self.endpoint} answered something that is not GraphQL")
        data: dict[str, Any] = body["data"]
        return data

    def _raise_graphql_errors(self, errors: Any) -> None:
        items = errors if isinstance(errors, list) else [errors]
        codes = set()
        messages = []
        for item in items:
            if isinstance(item, dict):
                extensions = item.get("extensions") or {}
                code = extensions.get("code") if isinstance(extensions, dict) else None
                if code:
                    codes.add(str(code).upper())
                messages.append(str(item.get("message") or code or "unknown error"))
            else:
                messages.append(json.dumps(item)[:200])
        text = self._scrub("; ".join(messages))[:500]
        if codes & _NOT_FOUND_CODES:
            raise ServerNotFound(f"DataPacket API: {text}")
        if codes & _UNAUTHENTICATED_CODES:
            raise DataPacketAuthError(f"DataPacket API: {text}", hint="check datapacket:apiKey / DATAPACKET_API_KEY")
        raise DataPacketError(f"DataPacket API error: {text}")

    def _scrub(self, text: str) -> str:
        """The text with the API key replaced, in case a server or a library echoes it back."""
        return text.replace(self._key, REDACTED) if self._key else text
