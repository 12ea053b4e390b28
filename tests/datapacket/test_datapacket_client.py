"""The DataPacket GraphQL client against a local stand-in API."""

from __future__ import annotations

import socket

import pytest

from dpa_datapacket.client import (
    DEFAULT_API_URL,
    DataPacketAuthError,
    DataPacketClient,
    DataPacketError,
    ServerNotFound,
    resolve_credentials,
)

from support.fake_datapacket import ECHO_KEY_NAME, GRAPHQL_ERROR_NAME, HTML_NAME, HTTP_500_NAME, FakeDataPacket


def _client(dp: FakeDataPacket, key: str | None = None) -> DataPacketClient:
    return DataPacketClient(dp.url, key if key is not None else dp.api_key, timeout=5)


def test_get_server_parses_location_addresses_and_tags(datapacket: FakeDataPacket) -> None:
    server = _client(datapacket).get_server("dp-par-sip-01")
    assert server is not None
    assert (server.name, server.alias, server.location, server.region) == ("dp-par-sip-01", "sip-a", "Paris", "Europe")
    assert server.hostname == "dp-par-sip-01.dc.datapacket.example"
    assert server.ip_addresses == ("198.51.100.10", "2001:db8::10")  # primary first
    assert dict(server.tags) == {"env": "prod"}


def test_request_is_a_graphql_post_with_bearer_key(datapacket: FakeDataPacket) -> None:
    _client(datapacket).get_server("dp-par-db-01")
    (request,) = datapacket.requests
    assert request["path"] == "/v0/graphql"
    assert request["authorization"] == f"Bearer {datapacket.api_key}"
    assert request["payload"]["variables"] == {"input": {"name": "dp-par-db-01"}}
    assert "server(input: $input)" in request["payload"]["query"]


def test_unknown_server_is_none_and_require_raises(datapacket: FakeDataPacket) -> None:
    client = _client(datapacket)
    assert client.get_server("dp-par-nope-99") is None
    with pytest.raises(ServerNotFound, match="dp-par-nope-99"):
        client.require_server("dp-par-nope-99")


def test_http_401_is_an_auth_error_without_the_key(datapacket: FakeDataPacket) -> None:
    wrong_key = "dp-wrong-key-0123456789abcdef"
    with pytest.raises(DataPacketAuthError) as info:
        _client(datapacket, wrong_key).get_server("dp-par-sip-01")
    assert "401" in str(info.value)
    assert wrong_key not in info.value.one_line()
    assert "\n" not in info.value.one_line()


def test_http_500_is_an_api_error(datapacket: FakeDataPacket) -> None:
    with pytest.raises(DataPacketError, match="HTTP 500") as info:
        _client(datapacket).get_server(HTTP_500_NAME)
    assert datapacket.api_key not in info.value.one_line()


def test_an_answer_that_is_not_graphql_is_an_api_error(datapacket: FakeDataPacket) -> None:
    with pytest.raises(DataPacketError, match="not GraphQL"):
        _client(datapacket).get_server(HTML_NAME)


def test_graphql_error_answer_is_reported_with_its_message(datapacket: FakeDataPacket) -> None:
    with pytest.raises(DataPacketError, match="Internal error while loading server") as info:
        _client(datapacket).get_server(GRAPHQL_ERROR_NAME)
    assert not isinstance(info.value, ServerNotFound)


def test_a_key_echoed_by_the_api_is_scrubbed(datapacket: FakeDataPacket) -> None:
    with pytest.raises(DataPacketError) as info:
        _client(datapacket).get_server(ECHO_KEY_NAME)
    text = info.value.one_line()
    assert "bad request from Bearer [secret]" in text
    assert datapacket.api_key not in text
    assert datapacket.api_key not in repr(info.value)


def test_unreachable_api_is_an_error_without_the_key() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    key = "dp-unreachable-key-abcdef"
    client = DataPacketClient(f"http://127.0.0.1:{port}", key, timeout=2)
    with pytest.raises(DataPacketError, match="cannot reach DataPacket API") as info:
        client.get_server("dp-par-sip-01")
    assert key not in info.value.one_line()
    assert key not in repr(client)


def test_set_tags_sends_sorted_key_value_pairs(datapacket: FakeDataPacket) -> None:
    server = _client(datapacket).set_tags("dp-par-db-01", {"role": "database", "env": "prod"})
    assert dict(server.tags) == {"env": "prod", "role": "database"}
    sent = datapacket.requests[-1]["payload"]["variables"]["input"]
    assert sent == {"server": {"name": "dp-par-db-01"}, "tags": [{"key": "env", "value": "prod"}, {"key": "role", "value": "database"}]}
    assert datapacket.servers["dp-par-db-01"]["tags"] == sent["tags"]


def test_set_tags_on_unknown_server_raises_not_found(datapacket: FakeDataPacket) -> None:
    with pytest.raises(ServerNotFound):
        _client(datapacket).set_tags("dp-par-nope-99", {"env": "prod"})


def test_credentials_come_from_arguments_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATAPACKET_API_URL", raising=False)
    monkeypatch.delenv("DATAPACKET_API_KEY", raising=False)
    with pytest.raises(DataPacketAuthError, match="no DataPacket API key"):
        resolve_credentials(None, None)
    monkeypatch.setenv("DATAPACKET_API_KEY", "env-key")
    assert resolve_credentials(None, None) == (DEFAULT_API_URL, "env-key")
    monkeypatch.setenv("DATAPACKET_API_URL", "http://127.0.0.1:9")
    assert resolve_credentials(None, None) == ("http://127.0.0.1:9", "env-key")
    assert resolve_credentials("http://given", "given-key") == ("http://given", "given-key")
