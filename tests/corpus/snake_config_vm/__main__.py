"""A WordPress blog: one instance with a public IP and no security group, a MySQL database, an uploads bucket."""
import pulumi
import pulumiverse_scaleway as scaleway

config = pulumi.Config()
db_password = config.require_secret("db_password")

ip = scaleway.InstanceIp("blog-ip")
server = scaleway.InstanceServer(
    "blog",
    type="DEV1-S",
    image="ubuntu_jammy",
    ip_id=ip.id,
    root_volume={"size_in_gb": 20},
    tags=["env:dev", "blog"],
)

db = scaleway.DatabaseInstance(
    "blog-db",
    engine="MySQL-8",
    node_type="DB-DEV-S",
    is_ha_cluster=False,
    user_name="wordpress",
    password=db_password,
    tags=["env:dev"],
)
scaleway.databases.Database("wordpress", instance_id=db.id, name="wordpress")

uploads = scaleway.ObjectBucket("uploads", name="blog-uploads-dev", tags={"env": "dev"})

pulumi.export("blog_ip", ip.address)
