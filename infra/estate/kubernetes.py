"""The Kapsule cluster and node pool of the web/API tier, on the app private network."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scaleway

from estate.settings import Settings


class Kubernetes(pulumi.ComponentResource):
    """A Kapsule cluster whose API admits only the administrators' ranges and whose nodes have no public IP."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        app_network_id: pulumi.Input[str],
        security_group_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("dpa:estate:Kubernetes", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = settings

        self.cluster = scaleway.kubernetes.Cluster(
            f"{name}-cluster",
            name=s.name("kapsule"),
            type="kapsule",
            version=s.kubernetes_version,
            cni="cilium",
            region=s.region,
            project_id=s.project_id,
            private_network_id=app_network_id,
            delete_additional_resources=False,
            # Appendix C 7: security patches are applied to production too; auto-upgrade takes a minor version.
            auto_upgrade={"enable": True, "maintenance_window_day": "sunday", "maintenance_window_start_hour": 3},
            tags=s.tags,
            opts=child,
        )
        # The Kapsule API endpoint is public and admits every address until an ACL names the cluster:
        # only the administrators' ranges reach it (Appendix C 8.1: only the necessary flows).
        self.api_acl = scaleway.kubernetes.Acl(
            f"{name}-api-acl",
            cluster_id=self.cluster.id,
            region=s.region,
            acl_rules=[{"ip": cidr, "description": "administrators"} for cidr in s.admin_source_cidrs],
            opts=child,
        )
        self.pool = scaleway.kubernetes.Pool(
            f"{name}-web",
            cluster_id=self.cluster.id,
            name=s.name("web"),
            node_type=s.node_type,
            size=s.node_count,
            min_size=s.node_min_count,
            max_size=s.node_max_count,
            autoscaling=True,
            autohealing=True,
            zone=s.zone,
            region=s.region,
            public_ip_disabled=True,
            security_group_id=security_group_id,
            container_runtime="containerd",
            upgrade_policy={"max_surge": 1, "max_unavailable": 0},
            tags=s.tags,
            opts=child,
        )
        self.register_outputs({"clusterId": self.cluster.id})
