"""The DataPacket bare-metal servers in Paris (Appendix B): telecom/SIP, database and web roles."""

from __future__ import annotations

import pulumi

from dpa_datapacket.provider import Server
from estate.settings import Settings


class BareMetal(pulumi.ComponentResource):
    """Adopts the servers listed in `dpa-estate:datapacketServers` through the DataPacket dynamic provider."""

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("dpa:estate:BareMetal", name, None, opts)
        s = settings
        config = pulumi.Config("datapacket")
        api_url = config.get("apiUrl")
        api_key = config.get_secret("apiKey")
        self.servers: dict[str, Server] = {}
        for spec in s.datapacket_servers:
            tags = {"env": s.environment, "role": spec.role, "managed-by": "pulumi"}
            if spec.data_category:
                tags["data-category"] = spec.data_category
            self.servers[spec.name] = Server(
                spec.name,
                server_name=spec.name,
                location=spec.location,
                country_code=spec.country_code,
                role=spec.role,
                environment=s.environment,
                sip_transport=spec.sip_transport if spec.role == "telecom" else None,
                media_encryption=spec.media_encryption if spec.role == "telecom" else None,
                backup_target=spec.backup_target,
                backup_schedule=spec.backup_schedule,
                backup_retention_days=spec.backup_retention_days,
                tags=tags,
                api_url=api_url,
                api_key=api_key,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"servers": {k: v.hostname for k, v in self.servers.items()}})
