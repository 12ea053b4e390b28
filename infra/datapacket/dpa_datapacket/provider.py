"""A Pulumi dynamic provider for DataPacket bare-metal servers, and its resource class `Server`.

Bare metal is ordered outside code, so the provider manages servers that already exist:
`create` adopts a server by name (and refuses one that is missing or sits in another location),
`read` refreshes its live location, tags and addresses (drift shows in `pulumi refresh`), `update`
sets its tags, and `delete` only releases it from Pulumi's management: the machine is never touched.

The provider is a package installed into the project's virtualenv (`infra/datapacket`, distribution
`dpa-datapacket`), not a module of the Pulumi program: Pulumi pickles a dynamic provider with dill, by
reference when its class is importable, so the provider process (started in the project's
virtualenv) imports this module instead of unpickling a copy of its code. The estate depends on it,
never on dpaguard, the checker.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from dpa_datapacket.client import DataPacketClient, DataPacketError, Server as LiveServer, resolve_credentials

TYPE_TOKEN = "pulumi-python:dynamic/datapacket:Server"
ROLES = ("telecom", "database", "web")
SIP_TRANSPORTS = ("tls", "udp", "tcp")
MEDIA_ENCRYPTIONS = ("srtp", "none")
BACKUP_TARGET = re.compile(r"^(scaleway|datapacket):[A-Za-z][A-Za-z0-9-]*$")
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
_CRON_FIELD = re.compile(r"^[0-9*/,\-]+$")
REPLACE_ON = ("serverName", "location")
OUTPUT_ONLY = ("hostname", "alias", "ipAddresses", "actualLocation", "actualRegion")
# Credentials say how to reach the API, not what the server is: they never cause a diff, and the key is
# kept out of the outputs (it reaches the state only as the secret input).
CREDENTIALS = ("apiUrl", "apiKey")
_PROVIDER_KEY = "__provider"
# rpc.UNKNOWN: how an input that is not known yet (preview) reaches check and diff.
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class ServerProvider(ResourceProvider):
    """CRUD of DataPacket servers through the GraphQL API; holds no credential when pickled."""

    # The pickled provider is a reference to this class and captures no secret.
    serialize_as_secret_always = False

    def __init__(self) -> None:
        super().__init__()
        self._config_url: str | None = None
        self._config_key: str | None = None

    def configure(self, req: ConfigureRequest) -> None:
        """Take `datapacket:apiUrl` and `datapacket:apiKey` from the stack's configuration."""
        url = req.config.get("datapacket:apiUrl")
        key = req.config.get("datapacket:apiKey")
        self._config_url = url if isinstance(url, str) and url else None
        self._config_key = key if isinstance(key, str) and key else None

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Reject inputs that cannot describe a DataPacket server (not policy: shape only)."""
        return CheckResult(news, check_inputs(news))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Name or location changes replace (another machine); everything else updates in place."""
        keys = (set(olds) | set(news)) - set(OUTPUT_ONLY) - set(CREDENTIALS) - {_PROVIDER_KEY}
        changed = sorted(k for k in keys if olds.get(k) != news.get(k))
        replaces = [k for k in REPLACE_ON if k in changed]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Adopt the existing server called `serverName`, after checking its real location."""
        name = str(props["serverName"])
        client = self._client(props)
        server = client.get_server(name)
        if server is None:
            raise DataPacketError(
                f"cannot adopt DataPacket server {name!r}: no server with that name in the account",
                hint="bare metal is ordered outside Pulumi: order it in the DataPacket panel, then run again",
            )
        _require_location(server, props)
        server = self._apply_tags(client, server, props)
        return CreateResult(server.name, _outputs(props, server))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The server's live state: location, tags and addresses as DataPacket reports them now.

        Outputs hold no key, so a refresh takes it from the stack's `datapacket:apiKey` (configure) or
        DATAPACKET_API_KEY.
        """
        client = self._client(props)
        server = client.get_server(id_)
        if server is None:
            return ReadResult("", {})
        outs = _outputs(props, server)
        if server.location.casefold() != str(props.get("location") or "").casefold():
            outs["location"] = server.location
        outs["tags"] = dict(server.tags)
        return ReadResult(server.name, outs)

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Set the declared tags on the server (name and location never change in place)."""
        client = self._client(news)
        server = client.get_server(id_)
        if server is None:
            raise DataPacketError(f"DataPacket server {id_!r} no longer exists in the account")
        _require_location(server, news)
        server = self._apply_tags(client, server, news)
        return UpdateResult(_outputs(news, server))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Release the server from management; the machine keeps running and keeps its tags."""

    def _client(self, props: Mapping[str, Any]) -> DataPacketClient:
        url = props.get("apiUrl") or self._config_url
        key = props.get("apiKey") or self._config_key
        api_url, api_key = resolve_credentials(
            url if isinstance(url, str) else None, key if isinstance(key, str) else None
        )
        return DataPacketClient(api_url, api_key)

    @staticmethod
    def _apply_tags(client: DataPacketClient, server: LiveServer, props: Mapping[str, Any]) -> LiveServer:
        wanted = {str(k): str(v) for k, v in (props.get("tags") or {}).items()}
        if dict(server.tags) == wanted:
            return server
        return client.set_tags(server.name, wanted)


def check_inputs(news: Mapping[str, Any]) -> list[CheckFailure]:
    """The reasons these inputs cannot describe a DataPacket server; empty when they can."""
    failures: list[CheckFailure] = []

    def known(key: str) -> bool:
        value = news.get(key)
        return value is not None and value != _UNKNOWN

    for key in ("serverName", "location", "role", "countryCode", "backupTarget", "backupSchedule"):
        if news.get(key) in (None, ""):
            failures.append(CheckFailure(key, f"{key} is required"))
    role = news.get("role")
    if known("role") and role not in ROLES:
        failures.append(CheckFailure("role", f"role must be one of {', '.join(ROLES)}, not {role!r}"))
    if known("countryCode") and not COUNTRY_CODE.match(str(news["countryCode"])):
        failures.append(CheckFailure("countryCode", "countryCode must be an ISO 3166-1 alpha-2 code such as FR"))
    if known("backupTarget") and not BACKUP_TARGET.match(str(news["backupTarget"])):
        failures.append(
            CheckFailure("backupTarget", "backupTarget must look like 'scaleway:fr-par' or 'datapacket:Paris'")
        )
    if known("backupSchedule") and not _is_cron(str(news["backupSchedule"])):
        failures.append(CheckFailure("backupSchedule", "backupSchedule must be a five-field cron expression"))
    # The engine hands a dynamic provider every number as a float (protobuf's Struct): 14 arrives as 14.0.
    days = news.get("backupRetentionDays")
    whole = isinstance(days, (int, float)) and not isinstance(days, bool) and float(days).is_integer() and days >= 1
    if known("backupRetentionDays") and not whole:
        failures.append(CheckFailure("backupRetentionDays", "backupRetentionDays must be a whole number of days, 1 or more"))
    if role == "telecom":
        if news.get("sipTransport") not in (*SIP_TRANSPORTS, _UNKNOWN):
            failures.append(CheckFailure("sipTransport", f"a telecom server needs sipTransport in {SIP_TRANSPORTS}"))
        if news.get("mediaEncryption") not in (*MEDIA_ENCRYPTIONS, _UNKNOWN):
            failures.append(
                CheckFailure("mediaEncryption", f"a telecom server needs mediaEncryption in {MEDIA_ENCRYPTIONS}")
            )
    elif known("role"):
        for key in ("sipTransport", "mediaEncryption"):
            if news.get(key) is not None:
                failures.append(CheckFailure(key, f"{key} only applies to telecom servers"))
    tags = news.get("tags")
    if tags is not None and tags != _UNKNOWN and not isinstance(tags, Mapping):
        failures.append(CheckFailure("tags", "tags must be a map of string to string"))
    return failures


def _is_cron(text: str) -> bool:
    fields = text.split()
    return len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields)


def _require_location(server: LiveServer, props: Mapping[str, Any]) -> None:
    declared = str(props.get("location") or "")
    if server.location.casefold() != declared.casefold():
        raise DataPacketError(
            f"DataPacket server {server.name!r} is in {server.location or 'an unknown location'}"
            f" ({server.region or 'unknown region'}), not in the declared location {declared!r}",
            hint="bare metal cannot move: fix the declared location or point serverName at the right machine",
        )


def _outputs(props: Mapping[str, Any], server: LiveServer) -> dict[str, Any]:
    outs = {k: v for k, v in props.items() if k not in (_PROVIDER_KEY, "apiKey")}
    outs.update(
        hostname=server.hostname,
        alias=server.alias,
        ipAddresses=list(server.ip_addresses),
        actualLocation=server.location,
        actualRegion=server.region,
    )
    return outs


class Server(pulumi.dynamic.Resource, module="datapacket", name="Server"):
    """A DataPacket bare-metal server under Pulumi management (type `pulumi-python:dynamic/datapacket:Server`)."""

    hostname: pulumi.Output[str]
    alias: pulumi.Output[str]
    ip_addresses: pulumi.Output[list[str]]
    actual_location: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        server_name: pulumi.Input[str],
        location: pulumi.Input[str],
        country_code: pulumi.Input[str],
        role: pulumi.Input[str],
        environment: pulumi.Input[str],
        backup_target: pulumi.Input[str],
        backup_schedule: pulumi.Input[str],
        backup_retention_days: pulumi.Input[int] | None = None,
        tags: pulumi.Input[Mapping[str, str]] | None = None,
        sip_transport: pulumi.Input[str] | None = None,
        media_encryption: pulumi.Input[str] | None = None,
        api_url: pulumi.Input[str] | None = None,
        api_key: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        config = pulumi.Config("datapacket")
        url = api_url if api_url is not None else config.get("apiUrl")
        key = api_key if api_key is not None else config.get_secret("apiKey")
        props: dict[str, Any] = {
            "serverName": server_name,
            "location": location,
            "countryCode": country_code,
            "role": role,
            "environment": environment,
            "backupTarget": backup_target,
            "backupSchedule": backup_schedule,
            # How many days the backup system keeps each backup: Appendix A and Article 8.3 bound it
            # (DPA-RET-008, DPA-RET-009); a declaration, as backupTarget is.
            "backupRetentionDays": backup_retention_days,
            "tags": tags or {},
            "sipTransport": sip_transport,
            "mediaEncryption": media_encryption,
            "apiUrl": url,
            # The key reaches the state only as a secret; without one the provider process reads
            # DATAPACKET_API_KEY from its own environment and nothing is stored.
            "apiKey": pulumi.Output.secret(key) if key is not None else None,
            "hostname": None,
            "alias": None,
            "ipAddresses": None,
            "actualLocation": None,
            "actualRegion": None,
        }
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["apiKey"])
        super().__init__(ServerProvider(), resource_name, props, pulumi.ResourceOptions.merge(opts, secret_opts))
        self.ip_addresses = self.ipAddresses  # type: ignore[attr-defined]
        self.actual_location = self.actualLocation  # type: ignore[attr-defined]
