"""The lab's network: VPC, private network, public gateway with its IP and DHCP."""
import pulumi
import pulumiverse_scaleway as scaleway


class LabNetwork(pulumi.ComponentResource):
    def __init__(self, name, tags, opts=None):
        super().__init__("lab:index:Network", name, {}, opts)
        o = pulumi.ResourceOptions(parent=self)
        self.vpc = scaleway.network.Vpc(f"{name}-vpc", tags=tags, opts=o)
        self.pn = scaleway.network.PrivateNetwork(
            f"{name}-pn", vpc_id=self.vpc.id, region="fr-par",
            ipv4_subnet={"subnet": "10.20.0.0/22"}, tags=tags, opts=o)
        self.gw_ip = scaleway.network.PublicGatewayIp(f"{name}-gw-ip", tags=tags, opts=o)
        self.gateway = scaleway.network.PublicGateway(
            f"{name}-gw", type="VPC-GW-S", ip_id=self.gw_ip.id, bastion_enabled=False, tags=tags, opts=o)
        scaleway.network.GatewayNetwork(
            f"{name}-gw-net", gateway_id=self.gateway.id, private_network_id=self.pn.id,
            enable_masquerade=True, ipam_configs=[{"push_default_route": True}], opts=o)
        self.register_outputs({"pn_id": self.pn.id})
