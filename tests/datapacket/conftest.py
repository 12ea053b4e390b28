"""Fixtures of the DataPacket tests: a stand-in GraphQL API per test."""

from __future__ import annotations

from typing import Iterator

import pytest
from support.fake_datapacket import FakeDataPacket, start


@pytest.fixture
def datapacket() -> Iterator[FakeDataPacket]:
    """A stand-in DataPacket API on a random port of 127.0.0.1, with its own random key."""
    state, server, thread = start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
