"""The cold copy of Appendix C 8.1: a write-once bucket in fr-par that the nightly PostgreSQL dumps go to."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scaleway

from estate.settings import Settings
from estate.storage import NONCURRENT_DAYS, private_and_encrypted

# A dump holds every data category the database holds, but a bucket names one. Conservatively, the one
# with the shortest fixed maximum of Appendix A: webhook logs, one month, the same month Article 8.3's
# bound gives every copy (settings.yaml `deletion`), so the retention controls hold each dump to it
# whatever it contains. Not the traffic data (call, SMS and MMS logs): their 365-day legal minimum is
# met by the database itself, and a copy kept that long would keep an erased record a year (Article 8.3).
# The client-set periods (recordings, transcripts: dev 7, staging 30, prod 90 days) are each at least the
# stack's backup retention.
DUMP_DATA_CATEGORY = "webhook-logs"


class ColdBackup(pulumi.ComponentResource):
    """Appendix C 8.1's "cold" backups: dumps locked on write, which nothing that reaches the database can delete."""

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("dpa:estate:ColdBackup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = settings
        # A dump is kept as long as the database's own (hot) backups (dpa-estate:dbBackupRetentionDays: prod
        # 30, staging 14, dev 7 days), so an erased row leaves both copies on the same day, within Article
        # 8.3's 31 days (DPA-RET-009 judges the lock's days, DPA-RET-003 the lifecycle's).
        retention_days = s.db_backup_retention_days
        expiry = scaleway.object.BucketLifecycleRuleArgs(
            id="retention-db-dumps",
            enabled=True,
            # An expired dump stays an old version for NONCURRENT_DAYS more: it lives exactly the retention,
            # the lock's whole period, and the lifecycle deletes it the day its lock ends.
            expiration=scaleway.object.BucketLifecycleRuleExpirationArgs(days=retention_days - NONCURRENT_DAYS),
            noncurrent_version_expiration=scaleway.object.BucketLifecycleRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=NONCURRENT_DAYS
            ),
            abort_incomplete_multipart_upload_days=1,
        )
        # Object Lock can only be enabled when the bucket is created, and needs versioning.
        self.bucket = scaleway.object.Bucket(
            f"{name}-db-dumps",
            name=f"{s.bucket_prefix}-{s.environment}-db-dumps",
            region=s.region,
            project_id=s.project_id,
            versioning={"enabled": True},
            object_lock_enabled=True,
            lifecycle_rules=[expiry],
            force_destroy=False,
            tags={
                "env": s.environment,
                "data-category": DUMP_DATA_CATEGORY,
                "retention-days": str(retention_days),
                "purpose": "backup",
                "backup-of": s.name("postgres"),
                "project": "dpa-estate",
            },
            opts=child,
        )
        # COMPLIANCE, not GOVERNANCE: no credential, the dump job's or an administrator's, can shorten the
        # lock or delete a locked dump, so a mistake or an intruder on the database host cannot reach it.
        # Its days are the retention: every dump stays locked for the whole of its life, and no longer.
        self.lock = scaleway.object.BucketLockConfiguration(
            f"{name}-db-dumps-lock",
            bucket=self.bucket.name,
            region=s.region,
            project_id=s.project_id,
            rule={"default_retention": {"mode": "COMPLIANCE", "days": retention_days}},
            opts=child,
        )
        private_and_encrypted(f"{name}-db-dumps", self.bucket, s, child)
        self.register_outputs({"bucket": self.bucket.name})
