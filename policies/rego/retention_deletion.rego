# Deletion: a third module of package dpaguard.retention (retention.rego holds its METADATA).
# Article 8.3 - "return or irretrievably delete all Personal Data": a record deleted from its store stays
# retrievable from each copy kept after it (backups, snapshots, locked objects, log sources) for that
# copy's retention. The DPA names no period; settings.yaml `deletion` holds the bound used and why.
package dpaguard.retention

import rego.v1

import data.dpaguard.lib.facts
import data.dpaguard.lib.result

_retrievable_max := data.dpa.settings.deletion.retrievable_max_days

_kept_too_long(days) if {
	is_number(days)
	days > _retrievable_max
}

# A lock's default retention in days: `days`, or `years` counted as 365 days (the provider takes one).
_lock_days(retention) := retention.days if is_number(retention.days)

_lock_days(retention) := retention.years * 365 if {
	is_object(retention)
	not is_number(object.get(retention, "days", null))
	is_number(retention.years)
}

# METADATA
# title: A deleted row leaves the database's backups within the bound
# description: Unset retention means the provider default (settings.yaml provider_defaults).
# custom:
#   control: DPA-RET-009
decisions contains result.violation("DPA-RET-009", r, msg) if {
	some i in object.get(input.index.type, "scaleway:databases/instance:Instance", [])
	r := input.resources[i]
	not r.props.disableBackup == true
	days := facts.prop_or(r, "backupScheduleRetention", data.dpa.settings.provider_defaults.rdb_backup_retention_days)
	_kept_too_long(days)
	msg := sprintf("a deleted row stays retrievable from the backups for %v days, more than %v (Article 8.3)", [days, _retrievable_max])
}

# METADATA
# title: A deleted document leaves MongoDB's snapshots within the bound
# custom:
#   control: DPA-RET-009
decisions contains result.violation("DPA-RET-009", r, msg) if {
	some i in object.get(input.index.type, "scaleway:mongodb/instance:Instance", [])
	r := input.resources[i]
	r.props.isSnapshotScheduleEnabled == true
	days := r.props.snapshotScheduleRetentionDays
	_kept_too_long(days)
	msg := sprintf("a deleted document stays retrievable from the snapshots for %v days, more than %v (Article 8.3)", [days, _retrievable_max])
}

# METADATA
# title: MongoDB snapshots without a retention keep deleted documents for a time not shown
# description: The provider's default retention is not recorded in settings.yaml, so it is not judged.
# custom:
#   control: DPA-RET-009
decisions contains result.undetermined("DPA-RET-009", r, msg) if {
	msg := sprintf("snapshots are scheduled with no retention (snapshotScheduleRetentionDays): a deleted document is not shown to leave them within %v days (Article 8.3)", [_retrievable_max])
	some i in object.get(input.index.type, "scaleway:mongodb/instance:Instance", [])
	r := input.resources[i]
	r.props.isSnapshotScheduleEnabled == true
	object.get(r.props, "snapshotScheduleRetentionDays", null) == null
}

# METADATA
# title: A DataPacket server's backups keep a deleted record within the bound
# custom:
#   control: DPA-RET-009
decisions contains result.violation("DPA-RET-009", r, msg) if {
	some i in _datapacket_servers
	r := input.resources[i]
	days := r.props.backupRetentionDays
	_kept_too_long(days)
	msg := sprintf("a deleted record stays retrievable from the server's backups for %v days (declared), more than %v (Article 8.3)", [days, _retrievable_max])
}

# METADATA
# title: A DataPacket server declares how long its backups are kept
# custom:
#   control: DPA-RET-009
decisions contains result.violation("DPA-RET-009", r, msg) if {
	msg := sprintf("server declares no backup retention (backupRetentionDays): a deleted record is not shown to leave its backups within %v days (Article 8.3)", [_retrievable_max])
	some i in _datapacket_servers
	r := input.resources[i]
	object.get(r.props, "backupRetentionDays", null) == null
}

# METADATA
# title: Locked objects can be deleted within the bound
# description: No one deletes a locked object before its retention ends (COMPLIANCE), or only by bypassing the lock (GOVERNANCE).
# custom:
#   control: DPA-RET-009
decisions contains result.violation("DPA-RET-009", r, msg) if {
	some i in object.get(input.index.type, "scaleway:object/bucketLockConfiguration:BucketLockConfiguration", [])
	r := input.resources[i]
	days := _lock_days(r.props.rule.defaultRetention)
	_kept_too_long(days)
	msg := sprintf("objects are locked for %v days after they are written: none can be deleted sooner, more than %v (Article 8.3)", [days, _retrievable_max])
}

# METADATA
# title: Cockpit log and trace sources keep a deleted record within the bound
# description: A source not shown to hold metrics only (type unset, logs or traces) may hold records.
# custom:
#   control: DPA-RET-009
decisions contains result.violation("DPA-RET-009", r, msg) if {
	some i in object.get(input.index.type, "scaleway:observability/source:Source", [])
	r := input.resources[i]
	not r.props.type == "metrics"
	days := r.props.retentionDays
	_kept_too_long(days)
	msg := sprintf("the Cockpit data source keeps what is logged for %v days, so a deleted record's lines outlive it by as long, more than %v (Article 8.3)", [days, _retrievable_max])
}
