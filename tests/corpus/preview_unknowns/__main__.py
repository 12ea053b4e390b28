"""Two Kapsule clusters: `web` admits only the office to its API, `batch` has no ACL.

Written as programs are: the ACL names its cluster by id, and ids are parsed in `apply` (a Scaleway
id is `<region>/<uuid>`), which only works once the cluster exists; `pulumi preview` skips them.
"""
import pulumi
import pulumiverse_scaleway as scaleway

config = pulumi.Config()
office = config.require("office_cidr")
env = pulumi.get_stack()

vpc = scaleway.network.Vpc("platform", tags=[f"env:{env}"])
pn = scaleway.network.PrivateNetwork("kapsule", vpc_id=vpc.id, tags=[f"env:{env}"])


def cluster(name: str) -> scaleway.kubernetes.Cluster:
    kapsule = scaleway.kubernetes.Cluster(
        name,
        version="1.31",
        cni="cilium",
        private_network_id=pn.id,
        delete_additional_resources=False,
        tags=[f"env:{env}"],
    )
    scaleway.kubernetes.Pool(
        f"{name}-pool",
        cluster_id=kapsule.id,
        node_type="PRO2-S",
        size=2,
        public_ip_disabled=True,
        tags=[f"env:{env}"],
    )
    return kapsule


web = cluster("web")
batch = cluster("batch")

scaleway.kubernetes.Acl(
    "web-api",
    cluster_id=web.id,
    acl_rules=[scaleway.kubernetes.AclAclRuleArgs(ip=office, description="office")],
)

# The dashboards want the bare UUID and a numeric shard of it.
web_uuid = web.id.apply(lambda i: i.split("/")[1])
shard = web.id.apply(lambda i: int(i.split("/")[1].split("-")[0], 16) % 16)
pulumi.export("web_cluster", web_uuid)
pulumi.export("web_shard", shard)
pulumi.export("web_api_port", web.apiserver_url.apply(lambda url: int(url.rsplit(":", 1)[1])))
