"""DataPacket bare metal: a GraphQL API client and the Pulumi dynamic provider built on it."""

from dpa_datapacket.client import (
    DataPacketAuthError,
    DataPacketClient,
    DataPacketError,
    ServerNotFound,
    resolve_credentials,
)

__all__ = [
    "DataPacketAuthError",
    "DataPacketClient",
    "DataPacketError",
    "ServerNotFound",
    "resolve_credentials",
]
