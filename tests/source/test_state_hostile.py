"""Hostile stack exports: both readers (whole-file below 16 MB, streaming above) refuse the same things.

Each case is written twice: as a small file, and padded past the streaming threshold with a long
string under a key dpaguard ignores. The threshold is lowered to 64 kB for these tests (the reader
chosen depends only on the size compared with it), except in the first test, which crosses the real
16 MB. Errors name a position and a kind, never the file's text.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from dpaguard.errors import InputError
from dpaguard.source import export_reader, state
from dpaguard.source.state import load_state

STREAM_ABOVE = 64 * 1024
SECRET = "CANARY-STATE-SECRET-91c2"
URN = "urn:pulumi:prod::p::scaleway:object/bucket:Bucket::b"


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    if "past_16_mb" not in request.node.name:
        monkeypatch.setattr(state, "_STREAM_ABOVE_BYTES", STREAM_ABOVE)


def resource(**extra: Any) -> str:
    body = {"urn": URN, "type": "scaleway:object/bucket:Bucket", "custom": True, "inputs": {"region": "fr-par"}}
    body.update(extra)
    return json.dumps(body)


def write(tmp_path: Path, body: str, *, big: bool) -> Path:
    """A file `{<padding>, <body>}`: the padding (a long string) makes it streamed when `big`."""
    path = tmp_path / ("big.json" if big else "small.json")
    padding = "x" * (state._STREAM_ABOVE_BYTES + 1024 if big else 10)
    path.write_text('{"version": 3, "padding": "' + padding + '", ' + body + "}")
    assert (path.stat().st_size > state._STREAM_ABOVE_BYTES) == big
    return path


def refused(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_state(path)
    line = caught.value.one_line()
    assert "\n" not in line and str(path) in line
    assert SECRET not in line and "xxxxxxxx" not in line, line
    return line


@pytest.mark.e2e  # files past 16 MB
def test_a_valid_padded_file_is_read_by_both_readers_and_past_16_mb_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert state._STREAM_ABOVE_BYTES == 16 * 1024 * 1024
    streamed: list[Path] = []
    real_stream = export_reader.stream
    def recorded(*args: Any) -> Any:
        streamed.append(args[0])
        return real_stream(*args)

    monkeypatch.setattr(export_reader, "stream", recorded)
    for big in (False, True):
        deployment = load_state(write(tmp_path, f'"deployment": {{"resources": [{resource()}]}}', big=big))
        assert [r["urn"] for r in deployment.resources] == [URN]
    assert streamed == [tmp_path / "big.json"]
    line = refused(write(tmp_path, f'"deployment": {{"resources": [{resource()}]}} "{SECRET}" x', big=True))
    assert " in bytes " in line


@pytest.mark.parametrize("big", [False, True], ids=["small", "streamed"])
@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("NaN", ""),
        ("Infinity", ""),
        ("-Infinity", ""),
        ("9" * 5000, "integer overflow"),
        ("-" + "9" * 20, "integer overflow"),
        ("18446744073709551617", "integer overflow"),
        ("1e400", "overflow"),
    ],
    ids=["nan", "inf", "-inf", "5000-digits", "-20-digits", "2^64+1", "1e400"],
)
def test_non_standard_and_overflowing_numbers_are_refused_by_both_readers(
    tmp_path: Path, big: bool, value: str, kind: str
) -> None:
    body = resource(inputs={"region": "fr-par", "days": 0}).replace('"days": 0', f'"days": {value}')
    line = refused(write(tmp_path, f'"deployment": {{"resources": [{body}]}}', big=big))
    assert "not valid JSON" in line and kind in line, line
    if any(c.isdigit() for c in value):
        assert value[:12] not in line  # the number itself is not quoted


@pytest.mark.parametrize("big", [False, True], ids=["small", "streamed"])
@pytest.mark.parametrize(
    "broken",
    [
        f'{{"password": "{SECRET}" x}}',  # garbage after a string
        f'{{"password": "{SECRET}\\q"}}',  # an invalid escape
        f'{{"password": "{SECRET}\x01"}}',  # a raw control character
        f'{{"password": "{SECRET}", }}',  # a trailing comma
    ],
    ids=["garbage", "bad-escape", "control-char", "trailing-comma"],
)
def test_parse_errors_give_a_position_and_a_kind_never_the_text(tmp_path: Path, big: bool, broken: str) -> None:
    body = f'"deployment": {{"resources": [{resource()[:-1]}, "outputs": {broken}}}]}}'
    line = refused(write(tmp_path, body, big=big))
    assert "not valid JSON" in line
    if big:
        assert " in bytes " in line, line  # the streamed reader's position
    else:
        assert f"{tmp_path / 'small.json'}:1: not valid JSON" in line  # the line


@pytest.mark.parametrize("big", [False, True], ids=["small", "streamed"])
@pytest.mark.parametrize(
    "body",
    [
        f'"resources": [{resource()}], "deployment": {{"resources": []}}',
        f'"deployment": {{"resources": [{resource()}]}}, "resources": [{resource()}]',
        f'"deployment": {{"resources": [{resource()}]}}, "checkpoint": {{"latest": {{"resources": []}}}}',
        f'"deployment": {{"resources": []}}, "deployment": {{"resources": [{resource()}]}}',
        f'"deployment": {{"resources": [{resource()}], "resources": []}}',
        f'"\\u0072esources": [{resource()}], "deployment": {{"resources": [{resource()}]}}',
    ],
    ids=["resources-first", "deployment-first", "checkpoint-too", "deployment-twice", "resources-twice",
         "escaped-key"],
)
def test_ambiguous_exports_are_refused_whatever_the_size(tmp_path: Path, big: bool, body: str) -> None:
    assert "ambiguous stack export" in refused(write(tmp_path, body, big=big))


DYNAMIC = json.dumps({"urn": "urn:pulumi:prod::p::pulumi-python:dynamic/datapacket:Server::s",
                      "type": "pulumi-python:dynamic/datapacket:Server", "custom": False})
WITH_PROVIDER = json.dumps({"urn": "urn:pulumi:prod::p::acme:net:Thing::t", "type": "acme:net:Thing", "custom": False,
                            "provider": "urn:pulumi:prod::p::pulumi:providers:acme::default::id"})


@pytest.mark.parametrize("big", [False, True], ids=["small", "streamed"])
@pytest.mark.parametrize(("body", "urn"), [
    (resource(custom=False), URN),
    (DYNAMIC, "urn:pulumi:prod::p::pulumi-python:dynamic/datapacket:Server::s"),
    (WITH_PROVIDER, "urn:pulumi:prod::p::acme:net:Thing::t"),
], ids=["scaleway-type", "dynamic", "names-a-provider"])
def test_a_provider_resource_marked_as_a_component_is_refused(tmp_path: Path, big: bool, body: str, urn: str) -> None:
    line = refused(write(tmp_path, f'"deployment": {{"resources": [{body}]}}', big=big))
    assert f"resource #0 ({urn}) is a provider's resource marked 'custom: false'" in line


def test_a_component_is_still_accepted(tmp_path: Path) -> None:
    component = json.dumps({"urn": "urn:pulumi:prod::p::dpa:estate:Storage::s", "type": "dpa:estate:Storage",
                            "custom": False})
    deployment = load_state(write(tmp_path, f'"deployment": {{"resources": [{component}, {resource()}]}}', big=False))
    assert len(deployment.resources) == 2


def test_the_limit_counts_bytes_read_from_a_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DPAGUARD_MAX_STATE_MB", "1")
    with pytest.raises(InputError) as caught:
        load_state("/dev/zero")
    assert "/dev/zero: state file is above the 1 MB limit" in caught.value.one_line()


def test_the_limit_counts_bytes_read_from_a_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "state.fifo"
    os.mkfifo(fifo)
    written: list[int] = []

    def feed() -> None:
        try:
            with open(fifo, "wb") as pipe:
                chunk = b" " * 65536
                for _ in range(200):  # 12.5 MB, far beyond the limit
                    pipe.write(chunk)
                    written.append(len(chunk))
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed)
    writer.start()
    with pytest.raises(InputError) as caught:
        load_state(fifo, max_bytes=1024 * 1024)
    writer.join(timeout=30)
    assert "above the 1.0 MB limit" in caught.value.one_line() or "above the 1 MB limit" in caught.value.one_line()
    assert sum(written) < 4 * 1024 * 1024  # the reader stopped; the writer met a closed pipe


def test_a_state_file_from_a_pipe_within_the_limit_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "state.fifo"
    os.mkfifo(fifo)
    text = json.dumps({"version": 3, "deployment": {"resources": [json.loads(resource())]}})

    def feed() -> None:
        with open(fifo, "w") as pipe:
            pipe.write(text)

    writer = threading.Thread(target=feed)
    writer.start()
    deployment = load_state(fifo)
    writer.join(timeout=30)
    assert [r["urn"] for r in deployment.resources] == [URN] and deployment.origin == str(fifo)
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob(f"dpaguard-state-*{os.getpid()}*"))


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "1e309", "lots"])
def test_a_size_limit_that_is_not_a_positive_finite_number_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("DPAGUARD_MAX_STATE_MB", value)
    path = write(tmp_path, f'"deployment": {{"resources": [{resource()}]}}', big=False)
    with pytest.raises(InputError, match="DPAGUARD_MAX_STATE_MB=.* is not a positive, finite number of megabytes"):
        load_state(path)


def test_an_unreadable_state_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, f'"deployment": {{"resources": [{resource()}]}}', big=False)

    def denied(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(InputError, match="cannot read state file: Permission denied"):
        load_state(path)
