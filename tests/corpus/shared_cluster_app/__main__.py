"""The invoicing app: deployed onto the platform team's cluster, a worker VM in their security group.

The cluster and the security group belong to the platform stack; this program only looks them up.
"""
import pulumi
import pulumi_kubernetes as k8s
import pulumiverse_scaleway as scaleway

cfg = pulumi.Config()
image = cfg.require("image")

# Owned by the platform stack: read here, never managed.
cluster = scaleway.kubernetes.Cluster.get("platform", cfg.require("cluster_id"))
worker_sg = scaleway.instance.SecurityGroup.get("workers", cfg.require("worker_security_group_id"))

kube = k8s.Provider(
    "platform-k8s",
    kubeconfig=cluster.kubeconfigs.apply(lambda k: k[0].config_file if k else ""),
)

labels = {"app": "invoicing"}
k8s.apps.v1.Deployment(
    "invoicing",
    metadata={"namespace": "invoicing", "labels": labels},
    spec={
        "replicas": 3,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "api", "image": image, "ports": [{"containerPort": 8000}]}]},
        },
    },
    opts=pulumi.ResourceOptions(provider=kube),
)

worker = scaleway.instance.Server(
    "pdf-worker",
    type="PRO2-XS",
    image="debian_bookworm",
    security_group_id=worker_sg.id,
    tags=["env:prod", "app:invoicing"],
)

pulumi.export("worker_id", worker.id)
