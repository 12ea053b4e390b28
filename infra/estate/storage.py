"""One Object Storage bucket per data category of DPA Appendix A, expiring objects at the agreed period."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumiverse_scaleway as scaleway

from estate.settings import Settings

# The 12-month legal retention of electronic-communications traffic data (CPCE art. L.34-1) and the
# DPA's "one (1) year" maximum meet at 365 days.
ONE_YEAR = 365

# Versioning keeps an expired or overwritten object as an old version for this many days more: an
# object lives its expiration days PLUS these (DPA-RET-003), so expiration is the retention minus them.
NONCURRENT_DAYS = 1


@dataclass(frozen=True)
class DataCategory:
    """A data category of Appendix A and the longest an object of it lives (None: for the contract's lifetime)."""

    key: str
    label: str
    retention_days: int | None

    @property
    def expiration_days(self) -> int | None:
        """Days until the current object expires: the retention less the days its old version survives."""
        return None if self.retention_days is None else self.retention_days - NONCURRENT_DAYS


def data_categories(settings: Settings) -> tuple[DataCategory, ...]:
    """The Appendix A categories stored in Object Storage, with this stack's retention periods."""
    recordings = settings.call_recording_retention_days
    transcripts = settings.transcript_retention_days
    return (
        DataCategory("call-recordings", "Call recordings (period set by the Client)", recordings),
        # Traffic data: available the 365 legal days, gone the day after (Appendix A's 366-day bound).
        DataCategory("call-logs", "Call and fax logs", ONE_YEAR + NONCURRENT_DAYS),
        DataCategory("sms-logs", "SMS logs", ONE_YEAR + NONCURRENT_DAYS),
        DataCategory("sms-content", "SMS content (at most one year)", ONE_YEAR),
        DataCategory("mms-logs", "MMS logs", ONE_YEAR + NONCURRENT_DAYS),
        DataCategory("mms-content", "MMS content (at most one year)", ONE_YEAR),
        DataCategory("webhook-logs", "Webhook call logs (one month)", 31),
        # Fax documents are kept for the lifetime of the Service Contract: no age-based expiry; the
        # termination process deletes them one year after the end of the contract.
        DataCategory("fax", "Fax (lifetime of the contract)", None),
        DataCategory("transcripts", "Transcripts of calls and voice mails (period set by the Client)", transcripts),
        DataCategory("crm-contacts", "CRM contacts (3 years from the last active exchange)", 3 * ONE_YEAR),
    )


def private_and_encrypted(
    name: str, bucket: scaleway.object.Bucket, settings: Settings, opts: pulumi.ResourceOptions
) -> None:
    """A bucket's private ACL (`<name>-acl`) and its encryption at rest (`<name>-sse`)."""
    scaleway.object.BucketAcl(
        f"{name}-acl",
        bucket=bucket.name,
        acl="private",
        region=settings.region,
        project_id=settings.project_id,
        opts=opts,
    )
    # AES256 is Scaleway's SSE-ONE: objects encrypted at rest with Scaleway-managed keys.
    scaleway.object.BucketServerSideEncryptionConfiguration(
        f"{name}-sse",
        bucket=bucket.name,
        region=settings.region,
        project_id=settings.project_id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
        opts=opts,
    )


class Storage(pulumi.ComponentResource):
    """Private, versioned, SSE-ONE encrypted buckets with lifecycle expiry per data category."""

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("dpa:estate:Storage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = settings
        self.buckets: dict[str, scaleway.object.Bucket] = {}
        for category in data_categories(s):
            expiration = (
                scaleway.object.BucketLifecycleRuleExpirationArgs(days=category.expiration_days)
                if category.expiration_days is not None
                else None
            )
            rule = scaleway.object.BucketLifecycleRuleArgs(
                id=f"retention-{category.key}",
                enabled=True,
                expiration=expiration,
                abort_incomplete_multipart_upload_days=1,
                # Versioning keeps overwritten and deleted objects as noncurrent versions: they must not
                # outlive the retention period either.
                noncurrent_version_expiration=scaleway.object.BucketLifecycleRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=NONCURRENT_DAYS
                ),
            )
            bucket = scaleway.object.Bucket(
                f"{name}-{category.key}",
                name=f"{s.bucket_prefix}-{s.environment}-{category.key}",
                region=s.region,
                project_id=s.project_id,
                versioning={"enabled": True},
                lifecycle_rules=[rule],
                force_destroy=False,
                tags={
                    "env": s.environment,
                    "data-category": category.key,
                    "retention-days": str(category.retention_days) if category.retention_days else "contract",
                    "project": "dpa-estate",
                },
                opts=child,
            )
            private_and_encrypted(f"{name}-{category.key}", bucket, s, child)
            self.buckets[category.key] = bucket
        self.register_outputs({"buckets": {k: b.name for k, b in self.buckets.items()}})
