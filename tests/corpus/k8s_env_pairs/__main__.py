"""Paperless-ngx: a Kapsule cluster reachable from the office only, the app deployed with plain manifests."""
import pulumi
import pulumi_kubernetes as k8s
import pulumiverse_scaleway as scaleway

cfg = pulumi.Config()
tags = ["env:prod", "app:paperless"]

pn = scaleway.network.PrivateNetwork("paperless-pn", tags=tags)
cluster = scaleway.kubernetes.Cluster(
    "paperless",
    version="1.31",
    cni="cilium",
    private_network_id=pn.id,
    delete_additional_resources=True,
    tags=tags,
)
scaleway.kubernetes.Pool("paperless-pool", cluster_id=cluster.id, node_type="PLAY2-MICRO", size=1, public_ip_disabled=True, tags=tags)
scaleway.kubernetes.Acl(
    "paperless-api",
    cluster_id=cluster.id,
    acl_rules=[scaleway.kubernetes.AclAclRuleArgs(ip=cfg.require("office_cidr"), description="office")],
)

kube = k8s.Provider("paperless-k8s", kubeconfig=cluster.kubeconfigs.apply(lambda k: k[0].config_file if k else ""))


def env(**values):
    return [{"name": name, "value": value} for name, value in values.items()]


k8s.apps.v1.Deployment(
    "paperless-web",
    metadata={"namespace": "default"},
    spec={
        "replicas": 1,
        "selector": {"matchLabels": {"app": "paperless"}},
        "template": {
            "metadata": {"labels": {"app": "paperless"}},
            "spec": {
                "containers": [{
                    "name": "web",
                    "image": "ghcr.io/paperless-ngx/paperless-ngx:2.13",
                    "env": env(
                        PAPERLESS_URL="https://docs.example.org",
                        PAPERLESS_DBHOST="paperless-db",
                        PAPERLESS_TIME_ZONE="Europe/Paris",
                        PAPERLESS_API_TOKEN="4d1f0c9e8b7a6d5c4b3a2f1e0d9c8b7a",
                        PAPERLESS_DBPASS=cfg.require_secret("db_password"),
                    ) + [{"name": "PAPERLESS_SECRET_KEY", "valueFrom": {"secretKeyRef": {"name": "paperless", "key": "secret-key"}}}],
                }],
            },
        },
    },
    opts=pulumi.ResourceOptions(provider=kube),
)

pulumi.export("cluster", cluster.name)
