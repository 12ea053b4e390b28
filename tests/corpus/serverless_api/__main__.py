"""Serverless API: a public container, a webhook function, a private worker, secrets by reference."""
import pulumi
import pulumiverse_scaleway as scaleway

cfg = pulumi.Config()
tag = cfg.require("image_tag")
env = cfg.get("environment") or "dev"
labels = [f"environment={env}", "app=orders"]

ns = scaleway.containers.Namespace(
    "orders-ns",
    name=f"orders-{env}",
    description="orders API",
    tags=labels,
)

api_key = scaleway.secrets.Secret("orders-api-key", name="orders-api-key", tags=labels)

# Public API: reachable on its *.functions.fnc.fr-par.scw.cloud endpoint over http and https
api = scaleway.containers.Container(
    "orders-api",
    namespace_id=ns.id,
    registry_image=f"rg.fr-par.scw.cloud/orders/api:{tag}",
    port=8080,
    cpu_limit=560,
    memory_limit=1024,
    min_scale=1,
    max_scale=5,
    privacy="public",
    protocol="http1",
    deploy=True,
    environment_variables={"LOG_LEVEL": "info", "API_KEY_SECRET_ID": api_key.id},
    tags=labels,
)

# Internal worker: private, and redirects plain HTTP to HTTPS
worker = scaleway.containers.Container(
    "orders-worker",
    namespace_id=ns.id,
    registry_image=f"rg.fr-par.scw.cloud/orders/worker:{tag}",
    privacy="private",
    https_connections_only=True,
    deploy=True,
    tags=labels,
)

fn_ns = scaleway.FunctionNamespace("hooks-ns", name=f"hooks-{env}")  # deprecated top-level class

webhook = scaleway.functions.Function(
    "stripe-webhook",
    namespace_id=fn_ns.id,
    runtime="python311",
    handler="handler.handle",
    privacy="public",
    zip_file="webhook.zip",
    deploy=True,
    http_option="enabled",
    secret_environment_variables={"STRIPE_SIGNING_SECRET": cfg.get_secret("stripe_signing_secret") or ""},
)

status = scaleway.functions.Function(
    "status-page",
    namespace_id=fn_ns.id,
    runtime="node20",
    handler="index.handler",
    privacy="public",
    zip_file="status.zip",
    http_option="redirected",
)

pulumi.export("api_url", api.domain_name)
pulumi.export("webhook_url", webhook.domain_name)
