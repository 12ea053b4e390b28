"""Two Postgres databases from one component: the app's (private network) and analytics (public, open ACL)."""
import pulumi
import pulumiverse_scaleway as scaleway

from components.database import Postgres, PostgresArgs

cfg = pulumi.Config()
password = cfg.require_secret("db_admin_password")
stack = pulumi.get_stack()

vpc = scaleway.network.Vpc("vpc", tags=[f"env:{stack}"])
pn = scaleway.network.PrivateNetwork("db-pn", vpc_id=vpc.id, tags=[f"env:{stack}"])

app_db = Postgres("app", PostgresArgs(node_type="DB-PRO2-XXS", password=password, allowed_cidrs=["10.0.0.0/8"],
                                      ha=True, private_network_id=pn.id, tags=[f"env:{stack}"]))
analytics = Postgres("analytics", PostgresArgs(node_type="DB-DEV-S", password=password,
                                               allowed_cidrs=["0.0.0.0/0"], tags=[f"env:{stack}"]))

cache = scaleway.redis.Cluster(
    "sessions",
    node_type="RED1-MICRO",
    version="7.2.5",
    user_name="app",
    password=password,
    cluster_size=1,
    tls_enabled=False,
    zone="fr-par-1",
    tags=[f"env:{stack}"],
)

pulumi.export("app_db", app_db.instance.endpoint_ip)
