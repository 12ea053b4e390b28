"""The managed PostgreSQL instance on the data private network, and its read replica in prod."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scaleway

from estate.settings import Settings


class Database(pulumi.ComponentResource):
    """Appendix C 8.1: automatic backups of the database clusters, kept in France (same region)."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        data_network_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("dpa:estate:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = settings

        # No load_balancer block: the instance has no public endpoint, only the private one.
        self.instance = scaleway.databases.Instance(
            f"{name}-postgres",
            name=s.name("postgres"),
            engine=s.db_engine,
            node_type=s.db_node_type,
            is_ha_cluster=s.db_high_availability,
            volume_type="sbs_5k",
            volume_size_in_gb=s.db_volume_size_gb,
            encryption_at_rest=True,
            user_name=s.db_user,
            password=s.db_password,
            disable_backup=False,
            # The provider's default copies backups to another region; the DPA keeps data in France.
            backup_same_region=True,
            backup_schedule_frequency=s.db_backup_frequency_hours,
            backup_schedule_retention=s.db_backup_retention_days,
            private_network={"pn_id": data_network_id, "enable_ipam": True},
            logs_policy={"max_age_retention": 30},
            region=s.region,
            project_id=s.project_id,
            tags=s.tags,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["password"]),
        )
        self.replica: scaleway.databases.ReadReplica | None = None
        if s.db_read_replica:
            self.replica = scaleway.databases.ReadReplica(
                f"{name}-replica",
                instance_id=self.instance.id,
                region=s.region,
                # Same zone as the primary: fr-par-1 (Scaleway DC2 and DC3; Appendix C 1.2 names DC3 only).
                same_zone=True,
                private_network={"private_network_id": data_network_id, "enable_ipam": True},
                opts=child,
            )
        self.register_outputs({"instanceId": self.instance.id})
