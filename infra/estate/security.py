"""Security groups of the web/API nodes: inbound dropped by default, only the needed flows allowed."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scaleway

from estate.settings import Settings

_WORLD = "0.0.0.0/0"


class Security(pulumi.ComponentResource):
    """The node security group (Appendix C 8.1: firewall rules that only allow the necessary flows)."""

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("dpa:estate:Security", name, None, opts)
        s = settings
        # Provider default for both policies is "accept": the drop here is what makes the rules an allow-list.
        self.nodes = scaleway.instance.SecurityGroup(
            f"{name}-nodes",
            name=s.name("nodes"),
            description="web/API nodes: TLS from the load balancer, SSH only through the bastion",
            zone=s.zone,
            project_id=s.project_id,
            stateful=True,
            enable_default_security=True,
            inbound_default_policy="drop",
            outbound_default_policy="drop",
            inbound_rules=[
                {"action": "accept", "protocol": "TCP", "port": s.lb_backend_port, "ip_range": s.app_subnet},
                # SSH tunnels arrive from the public gateway's bastion, which sits on the app network.
                {"action": "accept", "protocol": "TCP", "port": 22, "ip_range": s.app_subnet},
                {"action": "accept", "protocol": "ICMP", "ip_range": s.app_subnet},
                # Kubernetes between nodes of the app network: kubelet, Cilium VXLAN and health checks.
                {"action": "accept", "protocol": "TCP", "port": 10250, "ip_range": s.app_subnet},
                {"action": "accept", "protocol": "UDP", "port": 8472, "ip_range": s.app_subnet},
                {"action": "accept", "protocol": "TCP", "port": 4240, "ip_range": s.app_subnet},
            ],
            outbound_rules=[
                {"action": "accept", "protocol": "TCP", "port": 443, "ip_range": _WORLD},
                # The Kapsule control plane's API endpoint.
                {"action": "accept", "protocol": "TCP", "port": 6443, "ip_range": _WORLD},
                {"action": "accept", "protocol": "UDP", "port": 53, "ip_range": _WORLD},
                {"action": "accept", "protocol": "UDP", "port": 123, "ip_range": _WORLD},
                {"action": "accept", "protocol": "TCP", "port": 5432, "ip_range": s.data_subnet},
                {"action": "accept", "protocol": "TCP", "port_range": "6379-6381", "ip_range": s.data_subnet},
                {"action": "accept", "protocol": "ANY", "ip_range": s.app_subnet},
            ],
            tags=s.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"nodesSecurityGroupId": self.nodes.id})
