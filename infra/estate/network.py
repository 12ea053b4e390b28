"""The VPC, its app and data private networks, and the public gateway whose SSH bastion admins use."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scaleway

from estate.settings import Settings


class Network(pulumi.ComponentResource):
    """A regional VPC in fr-par with an app and a data private network behind one public gateway."""

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("dpa:estate:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = settings

        self.vpc = scaleway.network.Vpc(
            f"{name}-vpc",
            name=s.name("vpc"),
            region=s.region,
            project_id=s.project_id,
            enable_routing=True,
            tags=s.tags,
            opts=child,
        )
        self.app = scaleway.network.PrivateNetwork(
            f"{name}-app",
            name=s.name("app"),
            vpc_id=self.vpc.id,
            region=s.region,
            project_id=s.project_id,
            ipv4_subnet={"subnet": s.app_subnet},
            tags=[*s.tags, "tier:app"],
            opts=child,
        )
        self.data = scaleway.network.PrivateNetwork(
            f"{name}-data",
            name=s.name("data"),
            vpc_id=self.vpc.id,
            region=s.region,
            project_id=s.project_id,
            ipv4_subnet={"subnet": s.data_subnet},
            tags=[*s.tags, "tier:data"],
            opts=child,
        )
        self.gateway_ip = scaleway.network.PublicGatewayIp(
            f"{name}-gateway-ip",
            zone=s.zone,
            project_id=s.project_id,
            tags=s.tags,
            opts=child,
        )
        # Appendix C 8.1: no VPN, administrators reach servers through SSH tunnels. The bastion is that
        # tunnel's only entry point, and only from the office ranges.
        self.gateway = scaleway.network.PublicGateway(
            f"{name}-gateway",
            name=s.name("gateway"),
            type="VPC-GW-S",
            zone=s.zone,
            project_id=s.project_id,
            ip_id=self.gateway_ip.id,
            bastion_enabled=True,
            bastion_port=s.bastion_port,
            allowed_ip_ranges=list(s.admin_source_cidrs),
            enable_smtp=False,
            tags=s.tags,
            opts=child,
        )
        self.app_attachment = scaleway.network.GatewayNetwork(
            f"{name}-gateway-app",
            gateway_id=self.gateway.id,
            private_network_id=self.app.id,
            enable_masquerade=True,
            ipam_configs=[{"push_default_route": True}],
            zone=s.zone,
            opts=child,
        )
        self.data_attachment = scaleway.network.GatewayNetwork(
            f"{name}-gateway-data",
            gateway_id=self.gateway.id,
            private_network_id=self.data.id,
            enable_masquerade=False,
            ipam_configs=[{"push_default_route": False}],
            zone=s.zone,
            opts=child,
        )
        self.register_outputs({"vpcId": self.vpc.id, "appNetworkId": self.app.id, "dataNetworkId": self.data.id})
