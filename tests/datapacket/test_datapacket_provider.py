"""The DataPacket dynamic provider's check/diff/create/read/update/delete against a local stand-in API."""

from __future__ import annotations

import base64
import json
from typing import Any

import dill
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.dynamic.dynamic import serialize_provider

from dpa_datapacket.client import DataPacketAuthError, DataPacketError
from dpa_datapacket.provider import ServerProvider, check_inputs
from support.fake_datapacket import AMSTERDAM, FakeDataPacket


def _inputs(dp: FakeDataPacket, **overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "serverName": "dp-par-sip-01",
        "location": "Paris",
        "countryCode": "FR",
        "role": "telecom",
        "sipTransport": "tls",
        "mediaEncryption": "srtp",
        "backupTarget": "datapacket:Paris",
        "backupSchedule": "0 2 * * *",
        "tags": {"env": "prod", "role": "telecom", "data-category": "call-recordings"},
        "environment": "prod",
        "apiUrl": dp.url,
        "apiKey": dp.api_key,
        "__provider": "serialized-provider",
    }
    props.update(overrides)
    return props


def _no_key(dp: FakeDataPacket, *values: Any) -> None:
    for value in values:
        assert dp.api_key not in json.dumps(value, default=str)


def test_create_adopts_the_existing_server_and_applies_tags(datapacket: FakeDataPacket) -> None:
    result = ServerProvider().create(_inputs(datapacket))
    assert result.id == "dp-par-sip-01"
    outs = result.outs or {}
    assert outs["hostname"] == "dp-par-sip-01.dc.datapacket.example"
    assert outs["ipAddresses"] == ["198.51.100.10", "2001:db8::10"]
    assert (outs["actualLocation"], outs["actualRegion"]) == ("Paris", "Europe")
    assert outs["role"] == "telecom" and outs["mediaEncryption"] == "srtp"
    live = {t["key"]: t["value"] for t in datapacket.servers["dp-par-sip-01"]["tags"]}
    assert live == {"env": "prod", "role": "telecom", "data-category": "call-recordings"}
    assert "apiKey" not in outs and "__provider" not in outs
    _no_key(datapacket, outs)


def test_create_fails_clearly_when_the_server_does_not_exist(datapacket: FakeDataPacket) -> None:
    with pytest.raises(DataPacketError) as info:
        ServerProvider().create(_inputs(datapacket, serverName="dp-par-sip-99"))
    text = info.value.one_line()
    assert "cannot adopt DataPacket server 'dp-par-sip-99'" in text and "ordered outside Pulumi" in text
    _no_key(datapacket, text)


def test_create_refuses_a_server_in_another_location(datapacket: FakeDataPacket) -> None:
    with pytest.raises(DataPacketError) as info:
        ServerProvider().create(_inputs(datapacket, serverName="dp-ams-web-01", role="web"))
    text = info.value.one_line()
    assert "is in Amsterdam" in text and "declared location 'Paris'" in text
    assert datapacket.servers["dp-ams-web-01"]["tags"] == []  # nothing written to the wrong machine
    _no_key(datapacket, text)


def test_create_with_a_wrong_key_fails_without_revealing_it(datapacket: FakeDataPacket) -> None:
    wrong = "dp-wrong-0123456789abcdef0123"
    with pytest.raises(DataPacketAuthError) as info:
        ServerProvider().create(_inputs(datapacket, apiKey=wrong))
    assert wrong not in info.value.one_line() and wrong not in repr(info.value)


def test_read_shows_location_and_tag_drift(datapacket: FakeDataPacket) -> None:
    provider = ServerProvider()
    outs = provider.create(_inputs(datapacket)).outs or {}
    datapacket.servers["dp-par-sip-01"]["location"] = AMSTERDAM
    datapacket.servers["dp-par-sip-01"]["tags"] = [{"key": "env", "value": "staging"}]
    # Outputs carry no key: a refresh takes it from the stack config given to configure().
    provider.configure(ConfigureRequest(Config({"datapacket:apiKey": datapacket.api_key}, "dpa-estate")))
    refreshed = provider.read("dp-par-sip-01", outs)
    assert refreshed.id == "dp-par-sip-01"
    refreshed_outs = refreshed.outs or {}
    assert refreshed_outs["location"] == "Amsterdam" and refreshed_outs["actualLocation"] == "Amsterdam"
    assert refreshed_outs["tags"] == {"env": "staging"}
    _no_key(datapacket, refreshed_outs)
    # The next update sees the drift: a location change replaces (and re-adoption then fails clearly).
    diff = provider.diff("dp-par-sip-01", refreshed_outs, _inputs(datapacket))
    assert diff.changes is True and diff.replaces == ["location"]


def test_read_of_a_vanished_server_reports_it_gone(datapacket: FakeDataPacket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAPACKET_API_KEY", datapacket.api_key)
    outs = {k: v for k, v in _inputs(datapacket).items() if k != "apiKey"}
    result = ServerProvider().read("dp-par-gone-01", outs)
    assert result.id == ""


def test_update_sets_the_declared_tags(datapacket: FakeDataPacket) -> None:
    provider = ServerProvider()
    olds = provider.create(_inputs(datapacket)).outs or {}
    news = _inputs(datapacket, tags={"env": "prod", "role": "telecom", "owner": "voice-team"})
    diff = provider.diff("dp-par-sip-01", olds, news)
    assert diff.changes is True and diff.replaces == []
    outs = provider.update("dp-par-sip-01", olds, news).outs or {}
    assert outs["tags"] == {"env": "prod", "role": "telecom", "owner": "voice-team"}
    live = {t["key"]: t["value"] for t in datapacket.servers["dp-par-sip-01"]["tags"]}
    assert live == outs["tags"]
    _no_key(datapacket, outs)


def test_diff_replaces_on_name_or_location_and_ignores_credentials(datapacket: FakeDataPacket) -> None:
    provider = ServerProvider()
    olds = provider.create(_inputs(datapacket)).outs or {}
    assert provider.diff("x", olds, _inputs(datapacket)).changes is False
    assert provider.diff("x", olds, _inputs(datapacket, apiKey="rotated-key")).changes is False
    renamed = provider.diff("x", olds, _inputs(datapacket, serverName="dp-par-sip-02"))
    assert renamed.replaces == ["serverName"] and renamed.delete_before_replace is True
    moved = provider.diff("x", olds, _inputs(datapacket, location="Amsterdam"))
    assert moved.replaces == ["location"]
    weaker = provider.diff("x", olds, _inputs(datapacket, mediaEncryption="none"))
    assert weaker.changes is True and weaker.replaces == []


def test_delete_only_releases_the_server(datapacket: FakeDataPacket) -> None:
    provider = ServerProvider()
    outs = provider.create(_inputs(datapacket)).outs or {}
    before = len(datapacket.requests)
    provider.delete("dp-par-sip-01", outs)
    assert len(datapacket.requests) == before
    assert "dp-par-sip-01" in datapacket.servers


def test_credentials_from_configure_then_environment(datapacket: FakeDataPacket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATAPACKET_API_KEY", raising=False)
    monkeypatch.delenv("DATAPACKET_API_URL", raising=False)
    props = {k: v for k, v in _inputs(datapacket).items() if k not in ("apiKey", "apiUrl")}
    with pytest.raises(DataPacketAuthError, match="no DataPacket API key"):
        ServerProvider().create(props)
    configured = ServerProvider()
    configured.configure(
        ConfigureRequest(Config({"datapacket:apiUrl": datapacket.url, "datapacket:apiKey": datapacket.api_key}, "dpa-estate"))
    )
    assert configured.create(props).id == "dp-par-sip-01"
    monkeypatch.setenv("DATAPACKET_API_URL", datapacket.url)
    monkeypatch.setenv("DATAPACKET_API_KEY", datapacket.api_key)
    assert ServerProvider().create(props).id == "dp-par-sip-01"


def test_check_accepts_a_complete_telecom_server(datapacket: FakeDataPacket) -> None:
    result = ServerProvider().check({}, _inputs(datapacket))
    assert result.failures == []


@pytest.mark.parametrize(
    ("overrides", "bad_property"),
    [
        ({"role": "mail"}, "role"),
        ({"sipTransport": None}, "sipTransport"),
        ({"mediaEncryption": "zrtp"}, "mediaEncryption"),
        ({"backupSchedule": "daily"}, "backupSchedule"),
        ({"backupTarget": "s3://bucket"}, "backupTarget"),
        ({"countryCode": "France"}, "countryCode"),
        ({"serverName": ""}, "serverName"),
        ({"role": "web"}, "sipTransport"),  # SIP settings on a non-telecom server
        ({"backupRetentionDays": 0}, "backupRetentionDays"),
        ({"backupRetentionDays": 14.5}, "backupRetentionDays"),
        ({"backupRetentionDays": True}, "backupRetentionDays"),
        ({"backupRetentionDays": "14"}, "backupRetentionDays"),
    ],
)
def test_check_rejects_inputs_that_cannot_describe_a_server(
    datapacket: FakeDataPacket, overrides: dict[str, Any], bad_property: str
) -> None:
    failures = check_inputs(_inputs(datapacket, **overrides))
    assert bad_property in {f.property for f in failures}


def test_check_takes_a_whole_number_of_days_as_the_engine_sends_it(datapacket: FakeDataPacket) -> None:
    # The real engine hands a dynamic provider every number as a float: 14 arrives as 14.0.
    for days in (14, 14.0):
        assert check_inputs(_inputs(datapacket, backupRetentionDays=days)) == []


def test_pickled_provider_is_a_reference_without_credentials(datapacket: FakeDataPacket) -> None:
    provider = ServerProvider()
    serialized = serialize_provider(provider)
    raw = base64.b64decode(serialized)
    assert b"dpa_datapacket.provider" in raw and b"ServerProvider" in raw
    assert b"def create" not in raw and len(raw) < 400
    assert type(dill.loads(raw)) is ServerProvider
    _no_key(datapacket, serialized)
