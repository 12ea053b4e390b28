package dpaguard.retention_test

import rego.v1

import data.dpaguard.retention

_copies_stack := {"name": "prod", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "environment": "prod", "settings": {"callRecordingRetentionDays": 30}}

_copies_database := "scaleway:databases/instance:Instance"

_copies_mongo := "scaleway:mongodb/instance:Instance"

_copies_urn(type_token) := sprintf("urn:pulumi:prod::dpa::%v::store", [type_token])

_copies_one(type_token, category, props) := {
	"stacks": [_copies_stack],
	"resources": [{"urn": _copies_urn(type_token), "stack": "prod", "environment": "prod", "data_category": category, "props": props}],
	"index": {"type": {type_token: [0]}},
	"context": {"today": "2026-11-29", "unknown": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"},
}

# The decisions of DPA-RET-007 (DPA-RET-009 also judges these stores, against Article 8.3's bound).
_database_copies(decisions) := {d | some d in decisions; d.control == "DPA-RET-007"}

test_backups_within_the_maximum_pass if {
	decisions := _database_copies(retention.decisions) with input as _copies_one(_copies_database, "webhook-logs", {"backupScheduleRetention": 14})
	count(decisions) == 0
}

test_backups_longer_than_the_maximum_are_a_violation if {
	decisions := _database_copies(retention.decisions) with input as _copies_one(_copies_database, "webhook-logs", {"backupScheduleRetention": 60})
	decisions == {{
		"control": "DPA-RET-007", "urn": _copies_urn(_copies_database), "status": "violation",
		"message": "backups keep webhook-logs for 60 days, longer than its maximum of 31 days (Appendix A)",
	}}
}

test_unset_retention_is_the_provider_default if {
	# the default, 7 days, is longer than a 5-day maximum
	tight := {"webhook-logs": {"client_set": null, "max_days": 5}}
	decisions := _database_copies(retention.decisions) with input as _copies_one(_copies_database, "webhook-logs", {})
		with data.dpa.retention.categories as tight
	{d.control | some d in decisions} == {"DPA-RET-007"}
}

test_a_client_set_category_is_held_to_the_stacks_cap if {
	decisions := _database_copies(retention.decisions) with input as _copies_one(_copies_database, "call-recordings", {"backupScheduleRetention": 45})
	{d.message | some d in decisions} == {"backups keep call-recordings for 45 days, longer than its maximum of 30 days (Appendix A)"}
}

test_disabled_backups_and_unbounded_categories_are_not_judged if {
	off := _database_copies(retention.decisions) with input as _copies_one(_copies_database, "webhook-logs", {"disableBackup": true, "backupScheduleRetention": 60})
	count(off) == 0
	fax := _database_copies(retention.decisions) with input as _copies_one(_copies_database, "fax", {"backupScheduleRetention": 365})
	count(fax) == 0
}

test_mongodb_snapshots_longer_than_the_maximum_are_a_violation if {
	props := {"isSnapshotScheduleEnabled": true, "snapshotScheduleRetentionDays": 40}
	decisions := _database_copies(retention.decisions) with input as _copies_one(_copies_mongo, "webhook-logs", props)
	{d.message | some d in decisions} == {"snapshots keep webhook-logs for 40 days, longer than its maximum of 31 days (Appendix A)"}
	disabled := _database_copies(retention.decisions) with input as _copies_one(_copies_mongo, "webhook-logs", object.union(props, {"isSnapshotScheduleEnabled": false}))
	count(disabled) == 0
}

_copies_server := "pulumi-python:dynamic/datapacket:Server"

test_datapacket_backups_within_the_maximum_pass if {
	decisions := retention.decisions with input as _copies_one(_copies_server, "call-logs", {"backupRetentionDays": 30})
	count({d | some d in decisions; d.control == "DPA-RET-008"}) == 0
}

test_datapacket_backups_longer_than_the_maximum_are_a_violation if {
	decisions := retention.decisions with input as _copies_one(_copies_server, "call-recordings", {"backupRetentionDays": 60})
	{[d.status, d.message] | some d in decisions; d.control == "DPA-RET-008"} == {[
		"violation",
		"backups keep call-recordings for 60 days (declared), longer than its maximum of 30 days (Appendix A)",
	]}
}

test_a_datapacket_server_declaring_no_retention_is_undetermined_never_passed if {
	decisions := retention.decisions with input as _copies_one(_copies_server, "webhook-logs", {})
	{[d.status, d.message] | some d in decisions; d.control == "DPA-RET-008"} == {[
		"undetermined",
		"server holds webhook-logs and declares no backup retention (backupRetentionDays): its backups are not shown to keep it no longer than 31 days (Appendix A)",
	]}
}

test_a_datapacket_server_of_an_unbounded_category_is_not_judged if {
	decisions := retention.decisions with input as _copies_one(_copies_server, "fax", {})
	count({d | some d in decisions; d.control == "DPA-RET-008"}) == 0
}
