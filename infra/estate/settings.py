"""The stack's settings, read once from its config: `dpaguard:` (shared with the policies) and `dpa-estate:`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

REGION = "fr-par"
# fr-par-1 is Scaleway DC3 at Vitry-sur-Seine, one of the sites listed in DPA Appendix C 1.2.
ZONE = "fr-par-1"
ENVIRONMENTS = ("prod", "staging", "dev")


@dataclass(frozen=True)
class DataPacketServerSpec:
    """One bare-metal server of `dpa-estate:datapacketServers`."""

    name: str
    role: str
    location: str
    country_code: str
    backup_target: str
    backup_schedule: str
    sip_transport: str | None = None
    media_encryption: str | None = None
    data_category: str | None = None

    @classmethod
    def from_config(cls, item: dict[str, Any]) -> "DataPacketServerSpec":
        """Build the spec from one entry of the config list."""
        return cls(
            name=str(item["name"]),
            role=str(item["role"]),
            location=str(item.get("location", "Paris")),
            country_code=str(item.get("countryCode", "FR")),
            backup_target=str(item["backupTarget"]),
            backup_schedule=str(item["backupSchedule"]),
            sip_transport=item.get("sipTransport"),
            media_encryption=item.get("mediaEncryption"),
            data_category=item.get("dataCategory"),
        )


@dataclass(frozen=True)
class Settings:
    """Everything the components need to know about the stack, typed."""

    environment: str
    project_id: str | None
    region: str
    zone: str
    call_recording_retention_days: int
    transcript_retention_days: int
    min_backup_retention_days: int
    app_subnet: str
    data_subnet: str
    admin_source_cidrs: tuple[str, ...]
    bastion_port: int
    domain: str
    lb_type: str
    lb_backend_port: int
    lb_backend_ips: tuple[str, ...]
    kubernetes_version: str
    node_type: str
    node_count: int
    node_min_count: int
    node_max_count: int
    db_engine: str
    db_node_type: str
    db_volume_size_gb: int
    db_high_availability: bool
    db_read_replica: bool
    db_backup_retention_days: int
    db_backup_frequency_hours: int
    db_user: str
    db_password: pulumi.Output[str]
    redis_node_type: str
    redis_version: str
    redis_cluster_size: int
    redis_user: str
    redis_password: pulumi.Output[str]
    bucket_prefix: str
    datapacket_servers: tuple[DataPacketServerSpec, ...]

    @property
    def tags(self) -> list[str]:
        """Scaleway list tags every resource carries."""
        return [f"env:{self.environment}", "project:dpa-estate", "managed-by:pulumi"]

    def name(self, part: str) -> str:
        """A resource name that says which environment it belongs to."""
        return f"dpa-{self.environment}-{part}"


def load() -> Settings:
    """Read the stack's config; a missing required key fails the program with Pulumi's own message."""
    shared = pulumi.Config("dpaguard")
    estate = pulumi.Config()
    scaleway = pulumi.Config("scaleway")
    environment = shared.require("environment")
    if environment not in ENVIRONMENTS:
        raise ValueError(f"dpaguard:environment must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}")
    servers = estate.get_object("datapacketServers") or []
    return Settings(
        environment=environment,
        project_id=scaleway.get("projectId"),
        region=scaleway.get("region") or REGION,
        zone=scaleway.get("zone") or ZONE,
        call_recording_retention_days=shared.require_int("callRecordingRetentionDays"),
        transcript_retention_days=shared.require_int("transcriptRetentionDays"),
        min_backup_retention_days=shared.get_int("minBackupRetentionDays") or 7,
        app_subnet=estate.get("appSubnet") or "172.16.8.0/22",
        data_subnet=estate.get("dataSubnet") or "172.16.16.0/22",
        admin_source_cidrs=tuple(estate.get_object("adminSourceCidrs") or ()),
        bastion_port=estate.get_int("bastionPort") or 61000,
        domain=estate.require("domain"),
        lb_type=estate.get("lbType") or "LB-S",
        lb_backend_port=estate.get_int("lbBackendPort") or 443,
        lb_backend_ips=tuple(estate.get_object("lbBackendIps") or ()),
        kubernetes_version=estate.get("kubernetesVersion") or "1.35.3",
        node_type=estate.get("nodeType") or "PRO2-S",
        node_count=estate.get_int("nodeCount") or 3,
        node_min_count=estate.get_int("nodeMinCount") or 2,
        node_max_count=estate.get_int("nodeMaxCount") or 6,
        db_engine=estate.get("dbEngine") or "PostgreSQL-16",
        db_node_type=estate.get("dbNodeType") or "DB-PRO2-XXS",
        db_volume_size_gb=estate.get_int("dbVolumeSizeGb") or 50,
        db_high_availability=bool(estate.get_bool("dbHighAvailability")),
        db_read_replica=bool(estate.get_bool("dbReadReplica")),
        db_backup_retention_days=estate.get_int("dbBackupRetentionDays") or 14,
        db_backup_frequency_hours=estate.get_int("dbBackupFrequencyHours") or 24,
        db_user=estate.get("dbUser") or "dpa_admin",
        db_password=estate.require_secret("dbPassword"),
        redis_node_type=estate.get("redisNodeType") or "RED1-MICRO",
        redis_version=estate.get("redisVersion") or "7.0.5",
        redis_cluster_size=estate.get_int("redisClusterSize") or 1,
        redis_user=estate.get("redisUser") or "dpa_app",
        redis_password=estate.require_secret("redisPassword"),
        bucket_prefix=estate.get("bucketPrefix") or "ringover-dpa",
        datapacket_servers=tuple(DataPacketServerSpec.from_config(s) for s in servers),
    )
