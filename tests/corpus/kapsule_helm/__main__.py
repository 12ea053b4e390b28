"""Kapsule cluster + ingress-nginx (Helm) + a web app reading its database password from a Secret."""
import pulumi
import pulumi_kubernetes as k8s
import pulumiverse_scaleway as scaleway

config = pulumi.Config()
node_type = config.get("node_type") or "DEV1-M"
node_count = int(config.get("node_count") or 1)

vpc = scaleway.network.Vpc("main-vpc", tags=["env:prod", "team:platform"])
pn = scaleway.VpcPrivateNetwork(  # older spelling, still in many programs
    "k8s-pn",
    vpc_id=vpc.id,
    region="fr-par",
    tags=["env:prod"],
)

cluster = scaleway.kubernetes.Cluster(
    "kapsule",
    version="1.31",
    cni="cilium",
    private_network_id=pn.id,
    delete_additional_resources=False,
    tags=["env:prod"],
    autoscaler_config=scaleway.kubernetes.ClusterAutoscalerConfigArgs(
        disable_scale_down=False,
        scale_down_delay_after_add="5m",
    ),
)

pool = scaleway.kubernetes.Pool(
    "default-pool",
    cluster_id=cluster.id,
    node_type=node_type,
    size=node_count,
    autoscaling=True,
    autohealing=True,
    min_size=1,
    max_size=5,
    tags=["env:prod"],
)

kubeconfig = cluster.kubeconfigs.apply(lambda cfgs: cfgs[0].config_file if cfgs else "")
k8s_provider = k8s.Provider(
    "kapsule-provider",
    kubeconfig=kubeconfig,
    opts=pulumi.ResourceOptions(depends_on=[pool]),
)

ingress = k8s.helm.v3.Release(
    "ingress-nginx",
    chart="ingress-nginx",
    version="4.11.3",
    namespace="ingress-nginx",
    create_namespace=True,
    repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo="https://kubernetes.github.io/ingress-nginx"),
    values={"controller": {"service": {"type": "LoadBalancer"}}},
    opts=pulumi.ResourceOptions(provider=k8s_provider),
)

app_ns = k8s.core.v1.Namespace("shop", metadata={"name": "shop"}, opts=pulumi.ResourceOptions(provider=k8s_provider))

db_secret = k8s.core.v1.Secret(
    "shop-db",
    metadata={"namespace": app_ns.metadata["name"], "name": "shop-db"},
    string_data={"password": config.require_secret("db_password")},
    opts=pulumi.ResourceOptions(provider=k8s_provider),
)

app = k8s.apps.v1.Deployment(
    "shop-web",
    metadata={"namespace": app_ns.metadata["name"]},
    spec={
        "replicas": 2,
        "selector": {"matchLabels": {"app": "shop-web"}},
        "template": {
            "metadata": {"labels": {"app": "shop-web"}},
            "spec": {
                "containers": [{
                    "name": "web",
                    "image": "rg.fr-par.scw.cloud/shop/web:1.4.2",
                    "env": [{
                        "name": "DB_PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": "shop-db", "key": "password"}},
                    }],
                    "volumeMounts": [{"name": "tls", "mountPath": "/tls"}],
                }],
                "volumes": [{"name": "tls", "secret": {"secretName": "shop-tls"}}],
            },
        },
    },
    opts=pulumi.ResourceOptions(provider=k8s_provider),
)

pulumi.export("cluster_id", cluster.id)
pulumi.export("kubeconfig", pulumi.Output.secret(kubeconfig))
