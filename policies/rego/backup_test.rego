package dpaguard.backup_test

import rego.v1

import data.dpaguard.backup

_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_stack(min_days) := {
	"name": "prod", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "pulumi_project": "dpa",
	"environment": "prod", "environment_source": "stack name", "scaleway_project": "11111111-1111-1111-1111-111111111111",
	"default_region": "fr-par", "default_zone": "fr-par-1",
	"settings": {"minBackupRetentionDays": min_days, "callRecordingRetentionDays": 90, "transcriptRetentionDays": 90},
	"config_file": "Pulumi.prod.yaml", "plaintext_config_keys": [], "subprocessors": ["SCALEWAY", "DATAPACKET"], "late_subprocessors": [],
}

_context := {"today": "2026-11-29", "unknown": _unknown, "internet": {}, "subprocessor_notice": {"SCALEWAY": 15, "DATAPACKET": 15}}

_index(groups) := object.union(
	{
		"package": {}, "type": {}, "locality": {}, "project": {}, "env_tag": {}, "subprocessor_country": {},
		"data_category": {}, "plaintext": [], "malformed": [], "unknown": [], "foreign": [], "shape": {"bucket": []}, "outside_scope": {},
	},
	groups,
)

_urn(type_token) := sprintf("urn:pulumi:prod::dpa::%v::r", [type_token])

_one_in(stack, type_token, package_name, props) := {
	"stacks": [stack],
	"resources": [{"urn": _urn(type_token), "stack": "prod", "environment": "prod", "props": props}],
	"index": _index({"package": {package_name: [0]}, "type": {type_token: [0]}}),
	"context": _context,
}

_database_type := "scaleway:databases/instance:Instance"

# A database that meets every backup control; tests change one property.
_compliant_database := {"disableBackup": false, "backupScheduleRetention": 7, "backupScheduleFrequency": 24, "isHaCluster": true, "backupSameRegion": true}

_database(props) := _one_in(_stack(7), _database_type, "scaleway", props)

test_database_with_every_backup_control_met_passes if {
	decisions := backup.decisions with input as _database(_compliant_database)
	count(decisions) == 0
}

test_database_with_backups_disabled_is_a_violation if {
	decisions := backup.decisions with input as _database(object.union(_compliant_database, {"disableBackup": true}))
	decisions == {{
		"control": "DPA-BAK-001", "urn": _urn(_database_type), "status": "violation",
		"message": "automatic backups are disabled (disableBackup)",
	}}
}

test_database_keeping_backups_three_days_is_a_violation if {
	decisions := backup.decisions with input as _database(object.union(_compliant_database, {"backupScheduleRetention": 3}))
	decisions == {{
		"control": "DPA-BAK-002", "urn": _urn(_database_type), "status": "violation",
		"message": "backups are kept 3 days, less than the minimum of 7",
	}}
}

test_database_retention_unset_takes_the_provider_default_against_the_stack_minimum if {
	props := object.remove(_compliant_database, ["backupScheduleRetention"])
	decisions := backup.decisions with input as _one_in(_stack(14), _database_type, "scaleway", props)
	{d.message | some d in decisions} == {"backups are kept 7 days, less than the minimum of 14"}
}

test_database_retention_unset_meets_the_default_minimum if {
	decisions := backup.decisions with input as _database(object.remove(_compliant_database, ["backupScheduleRetention"]))
	count(decisions) == 0
}

# A value unknown until apply is not judged by this area's rules: the normaliser lists it in `unknown`
# and input_types.rego makes every control that reads it undetermined.
test_database_retention_unknown_is_no_violation_here if {
	decisions := backup.decisions with input as _database(object.union(_compliant_database, {"backupScheduleRetention": _unknown}))
	count(decisions) == 0
}

test_database_backed_up_every_two_days_is_a_violation if {
	decisions := backup.decisions with input as _database(object.union(_compliant_database, {"backupScheduleFrequency": 48}))
	decisions == {{
		"control": "DPA-BAK-003", "urn": _urn(_database_type), "status": "violation",
		"message": "backups run every 48 hours, less often than daily",
	}}
}

test_database_backup_frequency_unset_takes_the_daily_provider_default if {
	decisions := backup.decisions with input as _database(object.remove(_compliant_database, ["backupScheduleFrequency"]))
	count(decisions) == 0
}

test_database_with_backups_disabled_is_not_judged_on_retention_or_frequency if {
	props := object.union(_compliant_database, {"disableBackup": true, "backupScheduleRetention": 1, "backupScheduleFrequency": 72})
	decisions := backup.decisions with input as _database(props)
	{d.control | some d in decisions} == {"DPA-BAK-001"}
}

test_database_without_is_ha_cluster_is_a_violation if {
	decisions := backup.decisions with input as _database(object.remove(_compliant_database, ["isHaCluster"]))
	decisions == {{
		"control": "DPA-BAK-004", "urn": _urn(_database_type), "status": "violation",
		"message": "database is a single node, not a database cluster (isHaCluster)",
	}}
}

test_database_that_is_not_ha_is_a_violation if {
	decisions := backup.decisions with input as _database(object.union(_compliant_database, {"isHaCluster": false}))
	{d.control | some d in decisions} == {"DPA-BAK-004"}
}

test_database_ha_unknown_is_not_a_violation if {
	decisions := backup.decisions with input as _database(object.union(_compliant_database, {"isHaCluster": _unknown}))
	count(decisions) == 0
}

_bucket_type := "scaleway:object/bucket:Bucket"

_bucket_urn(name) := sprintf("urn:pulumi:prod::dpa::%v::%v", [_bucket_type, name])

# Two buckets of the same category and set-up: one group of the index (normaliser SHAPES["bucket"]).
_buckets(category, props) := {
	"stacks": [_stack(7)],
	"resources": [
		{"urn": _bucket_urn("a"), "stack": "prod", "environment": "prod", "data_category": category, "props": props},
		{"urn": _bucket_urn("b"), "stack": "prod", "environment": "prod", "data_category": category, "props": props},
	],
	"index": _index({
		"package": {"scaleway": [0, 1]}, "type": {_bucket_type: [0, 1]}, "data_category": {category: [0, 1]},
		"shape": {"bucket": [{"stack": "prod", "data_category": category, "props": props, "positions": [0, 1]}]},
	}),
	"context": _context,
}

test_unversioned_buckets_of_personal_data_are_each_a_violation if {
	decisions := backup.decisions with input as _buckets("call-logs", {})
	decisions == {
		{
			"control": "DPA-BAK-005", "urn": _bucket_urn("a"), "status": "violation",
			"message": "bucket holds call-logs (personal data) and is not versioned: an overwrite or deletion cannot be undone",
		},
		{
			"control": "DPA-BAK-005", "urn": _bucket_urn("b"), "status": "violation",
			"message": "bucket holds call-logs (personal data) and is not versioned: an overwrite or deletion cannot be undone",
		},
	}
}

test_bucket_with_versioning_disabled_is_a_violation if {
	decisions := backup.decisions with input as _buckets("transcripts", {"versioning": {"enabled": false}})
	count(decisions) == 2
	{d.control | some d in decisions} == {"DPA-BAK-005"}
}

test_versioned_buckets_of_personal_data_pass if {
	decisions := backup.decisions with input as _buckets("call-logs", {"versioning": {"enabled": true}})
	count(decisions) == 0
}

test_unversioned_buckets_of_non_personal_data_pass if {
	decisions := backup.decisions with input as _buckets("general-information", {})
	count(decisions) == 0
}

_server_type := "pulumi-python:dynamic/datapacket:Server"

_server(props) := _one_in(_stack(7), _server_type, "datapacket", object.union({"role": "web", "location": "Paris", "countryCode": "FR"}, props))

test_server_backed_up_outside_france_is_a_violation if {
	decisions := backup.decisions with input as _server({"backupTarget": "scaleway:nl-ams", "backupSchedule": "0 3 * * *"})
	decisions == {{
		"control": "DPA-BAK-006", "urn": _urn(_server_type), "status": "violation",
		"message": "backup target scaleway:nl-ams is not an approved French location",
	}}
}

test_server_backed_up_to_a_malformed_target_is_a_violation if {
	decisions := backup.decisions with input as _server({"backupTarget": "paris", "backupSchedule": "0 3 * * *"})
	{d.message | some d in decisions} == {"backup target paris is not an approved French location"}
}

test_server_without_backup_target_is_a_violation if {
	decisions := backup.decisions with input as _server({"backupSchedule": "0 3 * * *"})
	decisions == {{
		"control": "DPA-BAK-006", "urn": _urn(_server_type), "status": "violation",
		"message": "server declares no backup target",
	}}
}

test_server_without_backup_schedule_is_a_violation if {
	decisions := backup.decisions with input as _server({"backupTarget": "datapacket:Paris"})
	decisions == {{
		"control": "DPA-BAK-006", "urn": _urn(_server_type), "status": "violation",
		"message": "server declares no backup schedule",
	}}
}

test_server_backed_up_in_a_french_region_passes if {
	decisions := backup.decisions with input as _server({"backupTarget": "scaleway:fr-par", "backupSchedule": "0 3 * * *"})
	count(decisions) == 0
}

test_server_backed_up_in_a_french_datapacket_location_passes if {
	decisions := backup.decisions with input as _server({"backupTarget": "datapacket:Marseille", "backupSchedule": "0 3 * * *"})
	count(decisions) == 0
}

test_server_backup_target_unknown_is_not_a_violation if {
	decisions := backup.decisions with input as _server({"backupTarget": _unknown, "backupSchedule": "0 3 * * *"})
	count(decisions) == 0
}

_mongo_type := "scaleway:mongodb/instance:Instance"

_mongo(props) := _one_in(_stack(7), _mongo_type, "scaleway", props)

test_mongodb_without_snapshot_schedule_setting_is_a_violation if {
	decisions := backup.decisions with input as _mongo({})
	decisions == {{
		"control": "DPA-BAK-007", "urn": _urn(_mongo_type), "status": "violation",
		"message": "snapshot schedule is not enabled (isSnapshotScheduleEnabled)",
	}}
}

test_mongodb_with_snapshot_schedule_disabled_is_a_violation if {
	decisions := backup.decisions with input as _mongo({"isSnapshotScheduleEnabled": false, "snapshotScheduleFrequencyHours": 24})
	{d.message | some d in decisions} == {"snapshot schedule is not enabled (isSnapshotScheduleEnabled)"}
}

test_mongodb_snapshots_every_two_days_are_a_violation if {
	decisions := backup.decisions with input as _mongo({"isSnapshotScheduleEnabled": true, "snapshotScheduleFrequencyHours": 48})
	decisions == {{
		"control": "DPA-BAK-007", "urn": _urn(_mongo_type), "status": "violation",
		"message": "snapshots run every 48 hours, less often than daily",
	}}
}

test_mongodb_daily_snapshots_pass if {
	decisions := backup.decisions with input as _mongo({"isSnapshotScheduleEnabled": true, "snapshotScheduleFrequencyHours": 24})
	count(decisions) == 0
}

test_mongodb_snapshot_schedule_unknown_is_not_a_violation if {
	decisions := backup.decisions with input as _mongo({"isSnapshotScheduleEnabled": _unknown})
	count(decisions) == 0
}

_backup_bucket(fact, props) := {
	"stacks": [_stack(7)],
	"resources": [object.union({"urn": _urn(_bucket_type), "stack": "prod", "environment": "prod", "props": props}, fact)],
	"index": _index({"package": {"scaleway": [0]}, "type": {_bucket_type: [0]}}),
	"context": _context,
}

test_a_locked_backup_bucket_with_a_lock_configuration_passes if {
	decisions := backup.decisions with input as _backup_bucket({"backup_copy": true, "linked": {"lock": true}}, {"objectLockEnabled": true})
	count({d | some d in decisions; d.control == "DPA-BAK-008"}) == 0
}

test_a_backup_bucket_without_object_lock_is_a_violation if {
	decisions := backup.decisions with input as _backup_bucket({"backup_copy": true, "linked": {"lock": false}}, {})
	{[d.control, d.status, d.message] | some d in decisions} == {[
		"DPA-BAK-008", "violation",
		"bucket holds backups and Object Lock is not enabled (objectLockEnabled): the backups can be deleted or overwritten, so they are not a cold copy",
	]}
}

test_a_locked_backup_bucket_no_configuration_names_is_a_violation if {
	decisions := backup.decisions with input as _backup_bucket({"backup_copy": true, "linked": {"lock": false}}, {"objectLockEnabled": true})
	{[d.control, d.message] | some d in decisions} == {[
		"DPA-BAK-008",
		"bucket holds backups and no lock configuration names it: its objects are written unlocked, so they can still be deleted",
	]}
}

test_an_unknown_object_lock_is_left_to_input_types if {
	decisions := backup.decisions with input as _backup_bucket({"backup_copy": true, "linked": {"lock": false}}, {"objectLockEnabled": _unknown})
	count(decisions) == 0
}

test_a_bucket_not_tagged_as_holding_backups_is_not_judged_here if {
	decisions := backup.decisions with input as _backup_bucket({"linked": {"lock": false}}, {})
	count({d | some d in decisions; d.control == "DPA-BAK-008"}) == 0
}
