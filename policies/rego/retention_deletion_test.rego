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

_deletion_of(decisions) := {[d.status, d.message] |
	some d in decisions
	d.control == "DPA-RET-009"
}

test_database_backups_within_a_month_pass if {
	found1 := retention.decisions with input as _deletion_one("scaleway:databases/instance:Instance", {"backupScheduleRetention": 31})
	count(_deletion_of(found1)) == 0
	found2 := retention.decisions with input as _deletion_one("scaleway:databases/instance:Instance", {})
	count(_deletion_of(found2)) == 0 # the provider default, 7 days
}

test_database_backups_kept_longer_than_a_month_are_a_violation if {
	found3 := retention.decisions with input as _deletion_one("scaleway:databases/instance:Instance", {"backupScheduleRetention": 90})
	_deletion_of(found3) == {[
		"violation",
		"a deleted row stays retrievable from the backups for 90 days, more than 31 (Article 8.3)",
	]}
	found4 := retention.decisions with input as _deletion_one("scaleway:databases/instance:Instance", {"disableBackup": true, "backupScheduleRetention": 90})
	count(_deletion_of(found4)) == 0
}

test_mongodb_snapshots_kept_longer_than_a_month_are_a_violation if {
	props := {"isSnapshotScheduleEnabled": true, "snapshotScheduleRetentionDays": 60}
	found5 := retention.decisions with input as _deletion_one("scaleway:mongodb/instance:Instance", props)
	_deletion_of(found5) == {[
		"violation",
		"a deleted document stays retrievable from the snapshots for 60 days, more than 31 (Article 8.3)",
	]}
	found6 := retention.decisions with input as _deletion_one("scaleway:mongodb/instance:Instance", object.union(props, {"snapshotScheduleRetentionDays": 7}))
	count(_deletion_of(found6)) == 0
}

test_mongodb_snapshots_without_a_retention_are_undetermined_never_passed if {
	found7 := retention.decisions with input as _deletion_one("scaleway:mongodb/instance:Instance", {"isSnapshotScheduleEnabled": true})
	_deletion_of(found7) == {[
		"undetermined",
		"snapshots are scheduled with no retention (snapshotScheduleRetentionDays): a deleted document is not shown to leave them within 31 days (Article 8.3)",
	]}
}

test_datapacket_backups_kept_longer_than_a_month_are_a_violation if {
	found8 := retention.decisions with input as _deletion_one("pulumi-python:dynamic/datapacket:Server", {"backupRetentionDays": 45})
	_deletion_of(found8) == {[
		"violation",
		"a deleted record stays retrievable from the server's backups for 45 days (declared), more than 31 (Article 8.3)",
	]}
	found9 := retention.decisions with input as _deletion_one("pulumi-python:dynamic/datapacket:Server", {"backupRetentionDays": 14})
	count(_deletion_of(found9)) == 0
}

test_a_datapacket_server_declaring_no_backup_retention_is_a_violation if {
	found10 := retention.decisions with input as _deletion_one("pulumi-python:dynamic/datapacket:Server", {})
	_deletion_of(found10) == {[
		"violation",
		"server declares no backup retention (backupRetentionDays): a deleted record is not shown to leave its backups within 31 days (Article 8.3)",
	]}
}

test_objects_locked_longer_than_a_month_are_a_violation if {
	lock := "scaleway:object/bucketLockConfiguration:BucketLockConfiguration"
	found11 := retention.decisions with input as _deletion_one(lock, {"rule": {"defaultRetention": {"mode": "COMPLIANCE", "years": 1}}})
	_deletion_of(found11) == {[
		"violation",
		"objects are locked for 365 days after they are written: none can be deleted sooner, more than 31 (Article 8.3)",
	]}
	found12 := retention.decisions with input as _deletion_one(lock, {"rule": {"defaultRetention": {"mode": "COMPLIANCE", "days": 14}}})
	count(_deletion_of(found12)) == 0
}

test_cockpit_log_sources_kept_longer_than_a_month_are_a_violation if {
	source := "scaleway:observability/source:Source"
	found13 := retention.decisions with input as _deletion_one(source, {"type": "logs", "retentionDays": 90})
	_deletion_of(found13) == {[
		"violation",
		"the Cockpit data source keeps what is logged for 90 days, so a deleted record's lines outlive it by as long, more than 31 (Article 8.3)",
	]}
	found14 := retention.decisions with input as _deletion_one(source, {"retentionDays": 90})
	count(_deletion_of(found14)) == 1 # no type: not shown to hold metrics only
	found15 := retention.decisions with input as _deletion_one(source, {"type": "metrics", "retentionDays": 365})
	count(_deletion_of(found15)) == 0
	found16 := retention.decisions with input as _deletion_one(source, {"type": "logs", "retentionDays": 7})
	count(_deletion_of(found16)) == 0
}
