"""Webhook call logs in Postgres: private, encrypted, backed up daily, and the backups kept three months."""
import pulumi
import pulumiverse_scaleway as scaleway

cfg = pulumi.Config()
tags = ["env:prod", "data-category:webhook-logs"]

vpc = scaleway.network.Vpc("webhooks", tags=["env:prod"])
pn = scaleway.network.PrivateNetwork("webhooks", vpc_id=vpc.id, tags=["env:prod"])

# The application purges rows after a month (Appendix A: webhook logs are kept one month), but the
# backups were set to ninety days "in case a client asks": every purged row lives on in them.
history = scaleway.databases.Instance(
    "webhook-history",
    engine="PostgreSQL-16",
    node_type="DB-PRO2-XXS",
    is_ha_cluster=True,
    encryption_at_rest=True,
    disable_backup=False,
    backup_same_region=True,
    backup_schedule_frequency=24,
    backup_schedule_retention=90,
    user_name="webhooks",
    password=cfg.require_secret("db_password"),
    private_network=scaleway.databases.InstancePrivateNetworkArgs(pn_id=pn.id, enable_ipam=True),
    tags=tags,
)

pulumi.export("history", history.id)
