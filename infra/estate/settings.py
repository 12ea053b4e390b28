"""The stack's settings, read once from its config: `dpaguard:` (shared with the policies) and `dpa-estate:`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

REGION = "fr-par"
# fr-par-1 spans Scaleway's DC2 and DC3, both at Vitry-sur-Seine; DPA Appendix C 1.2 names DC3 only, and no
# configuration chooses the datacenter within a zone (policies/dpa/locations.yaml; DPA-RES-007 reports it).
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
    backup_retention_days: int
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
            backup_retention_days=int(item["backupRetentionDays"]),
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
    """Read the stack's config; a missing required key fails the program with Pulumi's own message.

    `dpa-estate:` keys are declared with their defaults in Pulumi.yaml, the one place they live: the
    Pulumi CLI (and dpaguard's offline render) applies those defaults before the program runs.
    """
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
        app_subnet=estate.require("appSubnet"),
        data_subnet=estate.require("dataSubnet"),
        admin_source_cidrs=tuple(estate.require_object("adminSourceCidrs")),
        bastion_port=estate.require_int("bastionPort"),
        domain=estate.require("domain"),
        lb_type=estate.require("lbType"),
        lb_backend_port=estate.require_int("lbBackendPort"),
        lb_backend_ips=tuple(estate.require_object("lbBackendIps")),
        kubernetes_version=estate.require("kubernetesVersion"),
        node_type=estate.require("nodeType"),
        node_count=estate.require_int("nodeCount"),
        node_min_count=estate.require_int("nodeMinCount"),
        node_max_count=estate.require_int("nodeMaxCount"),
        db_engine=estate.require("dbEngine"),
        db_node_type=estate.require("dbNodeType"),
        db_volume_size_gb=estate.require_int("dbVolumeSizeGb"),
        db_high_availability=estate.require_bool("dbHighAvailability"),
        db_read_replica=estate.require_bool("dbReadReplica"),
        db_backup_retention_days=estate.require_int("dbBackupRetentionDays"),
        db_backup_frequency_hours=estate.require_int("dbBackupFrequencyHours"),
        db_user=estate.require("dbUser"),
        db_password=estate.require_secret("dbPassword"),
        redis_node_type=estate.require("redisNodeType"),
        redis_version=estate.require("redisVersion"),
        redis_cluster_size=estate.require_int("redisClusterSize"),
        redis_user=estate.require("redisUser"),
        redis_password=estate.require_secret("redisPassword"),
        bucket_prefix=estate.require("bucketPrefix"),
        datapacket_servers=tuple(DataPacketServerSpec.from_config(s) for s in servers),
    )
