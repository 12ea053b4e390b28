"""Buckets: recordings (expired after a year), exports (versioned), public web assets."""
import pulumi
import pulumiverse_scaleway as scaleway

config = pulumi.Config()
prefix = config.get("bucket_prefix") or "demo"
common_tags = {"env": "prod", "owner": "media-team"}

recordings = scaleway.object.Bucket(
    "recordings",
    name=f"{prefix}-call-recordings",
    tags={**common_tags, "data-category": "call-recordings"},
    versioning=scaleway.object.BucketVersioningArgs(enabled=True),
    lifecycle_rules=[
        scaleway.object.BucketLifecycleRuleArgs(
            id="expire-recordings",
            enabled=True,
            expiration=scaleway.object.BucketLifecycleRuleExpirationArgs(days=365),
        ),
        scaleway.object.BucketLifecycleRuleArgs(
            id="glacier-after-30",
            enabled=True,
            transitions=[scaleway.object.BucketLifecycleRuleTransitionArgs(days=30, storage_class="GLACIER")],
        ),
    ],
)

exports = scaleway.ObjectBucket(  # deprecated top-level class, still in the docs' older examples
    "exports",
    name=f"{prefix}-exports",
    tags=common_tags,
    versioning={"enabled": True},
    lifecycle_rules=[{
        "id": "tmp-cleanup",
        "prefix": "tmp/",
        "enabled": True,
        "expiration": {"days": 7},
    }],
)

assets = scaleway.object.Bucket("assets", name=f"{prefix}-web-assets", tags=common_tags)
assets_acl = scaleway.object.BucketAcl("assets-acl", bucket=assets.name, acl="public-read")

website = scaleway.object.BucketWebsiteConfiguration(
    "assets-site",
    bucket=assets.name,
    index_document={"suffix": "index.html"},
)

logo = scaleway.object.Item(
    "logo",
    bucket=assets.name,
    key="img/logo.svg",
    file="logo.svg",
    visibility="public-read",
)

pulumi.export("assets_endpoint", assets.endpoint)
