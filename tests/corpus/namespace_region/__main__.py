"""Booking API: one provider set up in code (the project, no default region), the region named where it matters."""
import pulumi
import pulumiverse_scaleway as scaleway

cfg = pulumi.Config()
scw = scaleway.Provider("scw", project_id=cfg.require("project_id"))
opts = pulumi.ResourceOptions(provider=scw)
region = "fr-par"
tags = ["env:prod", "app:booking"]

vpc = scaleway.network.Vpc("booking-vpc", region=region, tags=tags, opts=opts)
pn = scaleway.network.PrivateNetwork("booking-pn", vpc_id=vpc.id, region=region, tags=tags, opts=opts)

ns = scaleway.containers.Namespace("booking", region=region, tags=tags, opts=opts)
api = scaleway.containers.Container(
    "booking-api",
    namespace_id=ns.id,
    registry_image=cfg.require("image"),
    port=8000,
    min_scale=1,
    privacy="public",
    https_connections_only=True,
    deploy=True,
    tags=tags,
    opts=opts,
)
scaleway.containers.Cron("nightly-cleanup", container_id=api.id, schedule="0 3 * * *", args='{"task": "cleanup"}', opts=opts)

db = scaleway.databases.Instance(
    "booking-db",
    region=region,
    node_type="DB-PRO2-XXS",
    engine="PostgreSQL-16",
    is_ha_cluster=True,
    user_name="booking",
    password=cfg.require_secret("db_password"),
    encryption_at_rest=True,
    backup_same_region=True,
    private_network=scaleway.databases.InstancePrivateNetworkArgs(pn_id=pn.id, enable_ipam=True),
    tags=tags,
    opts=opts,
)
scaleway.databases.Database("booking-database", instance_id=db.id, name="booking", opts=opts)
scaleway.databases.User("reporting", instance_id=db.id, name="reporting", password=cfg.require_secret("db_password"), opts=opts)

pulumi.export("api", api.domain_name)
