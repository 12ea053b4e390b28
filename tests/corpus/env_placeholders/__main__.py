"""Metrics database: a private PostgreSQL instance, its admin password from the CI's environment."""
import pulumi
import pulumiverse_scaleway as scaleway

cfg = pulumi.Config()
tags = ["env:prod", "service:metrics"]

vpc = scaleway.network.Vpc("metrics-vpc", tags=tags)
pn = scaleway.network.PrivateNetwork("metrics-pn", vpc_id=vpc.id, tags=tags)

db = scaleway.databases.Instance(
    "metrics",
    node_type="DB-PRO2-XXS",
    engine="PostgreSQL-16",
    is_ha_cluster=True,
    user_name="metrics_admin",
    password=cfg.require_secret("admin_password"),
    encryption_at_rest=True,
    backup_same_region=True,
    backup_schedule_frequency=24,
    backup_schedule_retention=7,
    private_network=scaleway.databases.InstancePrivateNetworkArgs(pn_id=pn.id, enable_ipam=True),
    tags=tags,
)

scaleway.databases.Acl(
    "metrics-acl",
    instance_id=db.id,
    acl_rules=[scaleway.databases.AclAclRuleArgs(ip=cfg.require("office_cidr"), description="office")],
)

pulumi.export("db_endpoint", db.private_network.apply(lambda p: p.ip if p else None))
