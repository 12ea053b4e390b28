package dpaguard.retention_test

import rego.v1

import data.dpaguard.retention

_deletion_stack := {"name": "prod", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "environment": "prod", "settings": {}}

_deletion_urn(type_token) := sprintf("urn:pulumi:prod::dpa::%v::copy", [type_token])

# One resource without a data category: Article 8.3 judges every copy, whatever it holds.
_deletion_one(type_token, props) := {
	"stacks": [_deletion_stack],
	"resources": [{"urn": _deletion_urn(type_token), "stack": "prod", "environment": "prod", "props": props}],
	"index": {"type": {type_token: [0]}, "shape": {"bucket": []}},
	"context": {"today": "2026-11-29", "unknown": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"},
}

_deletion_decisions(type_token, props) := {[d.status, d.message] |
	some d in retention.decisions with input as _deletion_one(type_token, props)
	d.control == "DPA-RET-009"
}

test_database_backups_within_a_month_pass if {
	count(_deletion_decisions("scaleway:databases/instance:Instance", {"backupScheduleRetention": 31})) == 0
	count(_deletion_decisions("scaleway:databases/instance:Instance", {})) == 0 # the provider default, 7 days
}

test_database_backups_kept_longer_than_a_month_are_a_violation if {
	_deletion_decisions("scaleway:databases/instance:Instance", {"backupScheduleRetention": 90}) == {[
		"violation",
		"a deleted row stays retrievable from the backups for 90 days, more than 31 (Article 8.3)",
	]}
	count(_deletion_decisions("scaleway:databases/instance:Instance", {"disableBackup": true, "backupScheduleRetention": 90})) == 0
}

test_mongodb_snapshots_kept_longer_than_a_month_are_a_violation if {
	props := {"isSnapshotScheduleEnabled": true, "snapshotScheduleRetentionDays": 60}
	_deletion_decisions("scaleway:mongodb/instance:Instance", props) == {[
		"violation",
		"a deleted document stays retrievable from the snapshots for 60 days, more than 31 (Article 8.3)",
	]}
	count(_deletion_decisions("scaleway:mongodb/instance:Instance", object.union(props, {"snapshotScheduleRetentionDays": 7}))) == 0
}

test_mongodb_snapshots_without_a_retention_are_undetermined_never_passed if {
	_deletion_decisions("scaleway:mongodb/instance:Instance", {"isSnapshotScheduleEnabled": true}) == {[
		"undetermined",
		"snapshots are scheduled with no retention (snapshotScheduleRetentionDays): a deleted document is not shown to leave them within 31 days (Article 8.3)",
	]}
}

test_datapacket_backups_kept_longer_than_a_month_are_a_violation if {
	_deletion_decisions("pulumi-python:dynamic/datapacket:Server", {"backupRetentionDays": 45}) == {[
		"violation",
		"a deleted record stays retrievable from the server's backups for 45 days (declared), more than 31 (Article 8.3)",
	]}
	count(_deletion_decisions("pulumi-python:dynamic/datapacket:Server", {"backupRetentionDays": 14})) == 0
}

test_a_datapacket_server_declaring_no_backup_retention_is_a_violation if {
	_deletion_decisions("pulumi-python:dynamic/datapacket:Server", {}) == {[
		"violation",
		"server declares no backup retention (backupRetentionDays): a deleted record is not shown to leave its backups within 31 days (Article 8.3)",
	]}
}

test_objects_locked_longer_than_a_month_are_a_violation if {
	lock := "scaleway:object/bucketLockConfiguration:BucketLockConfiguration"
	_deletion_decisions(lock, {"rule": {"defaultRetention": {"mode": "COMPLIANCE", "years": 1}}}) == {[
		"violation",
		"objects are locked for 365 days after they are written: none can be deleted sooner, more than 31 (Article 8.3)",
	]}
	count(_deletion_decisions(lock, {"rule": {"defaultRetention": {"mode": "COMPLIANCE", "days": 14}}})) == 0
}

test_cockpit_log_sources_kept_longer_than_a_month_are_a_violation if {
	source := "scaleway:observability/source:Source"
	_deletion_decisions(source, {"type": "logs", "retentionDays": 90}) == {[
		"violation",
		"the Cockpit data source keeps what is logged for 90 days, so a deleted record's lines outlive it by as long, more than 31 (Article 8.3)",
	]}
	count(_deletion_decisions(source, {"retentionDays": 90})) == 1 # no type: not shown to hold metrics only
	count(_deletion_decisions(source, {"type": "metrics", "retentionDays": 365})) == 0
	count(_deletion_decisions(source, {"type": "logs", "retentionDays": 7})) == 0
}
