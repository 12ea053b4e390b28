"""CRM backend database: on the app's private network, and on the public endpoint for the BI tool."""
import pulumi
import pulumiverse_scaleway as scaleway

cfg = pulumi.Config()
tags = ["env:prod", "app:crm"]

vpc = scaleway.network.Vpc("crm-vpc", tags=tags)
pn = scaleway.network.PrivateNetwork("crm-pn", vpc_id=vpc.id, tags=tags)

db = scaleway.databases.Instance(
    "crm-db",
    node_type="DB-PRO2-XS",
    engine="PostgreSQL-16",
    is_ha_cluster=True,
    user_name="crm",
    password=cfg.require_secret("db_password"),
    encryption_at_rest=True,
    backup_same_region=True,
    private_network=scaleway.databases.InstancePrivateNetworkArgs(pn_id=pn.id, enable_ipam=True),
    # Keep the public endpoint as well: the BI tool connects from outside.
    load_balancer=scaleway.databases.InstanceLoadBalancerArgs(),
    tags=tags,
)

scaleway.databases.Database("crm", instance_id=db.id, name="crm")

pulumi.export("public_endpoint", db.load_balancer.apply(lambda lb: f"{lb.ip}:{lb.port}" if lb else None))
