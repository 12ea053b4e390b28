"""The orders database on a private network, and the legacy reporting database it replaces."""
import pulumi
import pulumiverse_scaleway as scaleway

config = pulumi.Config()
password = config.require_secret("db_password")
tags = ["env:prod", "team:orders"]

vpc = scaleway.network.Vpc("orders", tags=tags)
pn = scaleway.network.PrivateNetwork("orders-db", vpc_id=vpc.id, tags=tags)

orders = scaleway.databases.Instance(
    "orders-db",
    engine="PostgreSQL-15",
    node_type="DB-PRO2-XXS",
    is_ha_cluster=True,
    disable_backup=False,
    backup_schedule_frequency=24,
    backup_schedule_retention=14,
    user_name="orders",
    password=password,
    private_network=scaleway.databases.InstancePrivateNetworkArgs(pn_id=pn.id, enable_ipam=True),
    tags=tags,
)
scaleway.databases.Acl(
    "orders-db-acl",
    instance_id=orders.id,
    acl_rules=[scaleway.databases.AclAclRuleArgs(ip="10.0.0.0/8", description="private ranges")],
)

# Still serves the monthly reports; to be removed once they read from orders-db.
legacy = scaleway.databases.Instance(
    "reports-db",
    engine="PostgreSQL-13",
    node_type="DB-DEV-S",
    is_ha_cluster=False,
    user_name="reports",
    password=password,
    tags=tags,
)

# `<region>/<uuid>`: the reports job is configured with the bare UUID.
pulumi.export("orders_db", orders.id.apply(lambda i: i.split("/")[1]))
pulumi.export("reports_endpoint", legacy.endpoint_ip)
