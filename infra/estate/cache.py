"""The managed Redis cluster: TLS on, reachable only on the data private network."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scaleway

from estate.settings import Settings


class Cache(pulumi.ComponentResource):
    """Sessions and queues of the web/API tier."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        data_network_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("dpa:estate:Cache", name, None, opts)
        s = settings
        # A private network and no public_network/acls: the cluster gets no public endpoint.
        self.cluster = scaleway.redis.Cluster(
            f"{name}-redis",
            name=s.name("redis"),
            node_type=s.redis_node_type,
            version=s.redis_version,
            cluster_size=s.redis_cluster_size,
            user_name=s.redis_user,
            password=s.redis_password,
            tls_enabled=True,
            private_networks=[{"id": data_network_id}],
            zone=s.zone,
            project_id=s.project_id,
            tags=s.tags,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["password"]),
        )
        self.register_outputs({"clusterId": self.cluster.id})
