"""Nightly dumps: a private bucket the dump job writes into, two weeks of dumps kept, and the job's logs in Cockpit."""
import pulumi
import pulumiverse_scaleway as scaleway

tags = {"env": "prod", "data-category": "webhook-logs", "purpose": "backup"}

# The dump job runs on the database host with a key that can write here, and delete too: a dump
# could be wiped by the same mistake (or intruder) that breaks the database. Versioned, not locked.
dumps = scaleway.ObjectBucket(
    "webhook-dumps",
    name="acme-webhook-dumps",
    versioning=scaleway.ObjectBucketVersioningArgs(enabled=True),
    lifecycle_rules=[
        scaleway.ObjectBucketLifecycleRuleArgs(
            id="two-weeks",
            enabled=True,
            expiration=scaleway.ObjectBucketLifecycleRuleExpirationArgs(days=14),
            noncurrent_version_expiration=scaleway.ObjectBucketLifecycleRuleNoncurrentVersionExpirationArgs(noncurrent_days=1),
        )
    ],
    tags=tags,
)

scaleway.object.BucketServerSideEncryptionConfiguration(
    "webhook-dumps-sse",
    bucket=dumps.name,
    rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
)

# The job logs every webhook row it could not dump, payload included; kept a quarter "for debugging".
job_logs = scaleway.CockpitSource("dump-job-logs", name="dump-job", type="logs", retention_days=90)

pulumi.export("dumps", dumps.name)
