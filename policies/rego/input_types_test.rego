package dpaguard.input_types_test

import rego.v1

import data.dpaguard.input_types

_prod := {
	"name": "prod", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "pulumi_project": "dpa",
	"environment": "prod", "environment_source": "stack name", "scaleway_project": "11111111-1111-1111-1111-111111111111",
	"default_region": "fr-par", "default_zone": "fr-par-1",
	"settings": {"minBackupRetentionDays": 7, "callRecordingRetentionDays": 90, "transcriptRetentionDays": 90},
	"config_file": "Pulumi.prod.yaml", "plaintext_config_keys": [], "subprocessors": ["SCALEWAY"], "late_subprocessors": [],
}

_context := {"today": "2026-11-29", "unknown": "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "internet": {}, "subprocessor_notice": {"SCALEWAY": 15}}

_index(groups) := object.union(
	{
		"package": {}, "type": {}, "locality": {}, "project": {}, "env_tag": {}, "subprocessor_country": {},
		"data_category": {}, "plaintext": [], "malformed": [], "unknown": [], "foreign": [], "shape": {"bucket": []}, "outside_scope": {},
	},
	groups,
)

_database_urn := "urn:pulumi:prod::dpa::scaleway:databases/instance:Instance::main"

# A database whose props the normaliser checked against policies/dpa/properties.yaml: the values of
# the wrong type are dropped from props and listed in `malformed`, with the controls that read them.
_database(props, malformed) := {
	"stacks": [_prod],
	"resources": [object.union(
		{"urn": _database_urn, "stack": "prod", "environment": "prod", "props": props},
		{"malformed": malformed | count(malformed) > 0},
	)],
	"index": _index({"type": {"scaleway:databases/instance:Instance": [0]}, "malformed": [0 | count(malformed) > 0]}),
	"context": _context,
}

test_property_of_the_wrong_type_is_undetermined_for_its_control if {
	malformed := [{"path": "isHaCluster", "expected": "a boolean", "found": "text", "controls": ["DPA-BAK-004"]}]
	decisions := input_types.decisions with input as _database({}, malformed)
	decisions == {{
		"control": "DPA-BAK-004", "urn": _database_urn, "status": "undetermined",
		"message": "isHaCluster is text where the provider takes a boolean: cannot be judged",
	}}
}

test_property_read_by_several_controls_is_undetermined_for_each if {
	malformed := [{"path": "disableBackup", "expected": "a boolean", "found": "a whole number", "controls": ["DPA-BAK-001", "DPA-BAK-002", "DPA-BAK-003"]}]
	decisions := input_types.decisions with input as _database({}, malformed)
	{d.control | some d in decisions} == {"DPA-BAK-001", "DPA-BAK-002", "DPA-BAK-003"}
	{d.status | some d in decisions} == {"undetermined"}
	{d.message | some d in decisions} == {"disableBackup is a whole number where the provider takes a boolean: cannot be judged"}
}

test_each_malformed_property_is_reported if {
	malformed := [
		{"path": "backupScheduleRetention", "expected": "a whole number", "found": "text", "controls": ["DPA-BAK-002"]},
		{"path": "backupSameRegion", "expected": "a boolean", "found": "a secret", "controls": ["DPA-RES-003"]},
	]
	decisions := input_types.decisions with input as _database({}, malformed)
	{d.message | some d in decisions} == {
		"backupScheduleRetention is text where the provider takes a whole number: cannot be judged",
		"backupSameRegion is a secret where the provider takes a boolean: cannot be judged",
	}
}

test_properties_of_the_right_type_pass if {
	decisions := input_types.decisions with input as _database({"isHaCluster": true, "disableBackup": false}, [])
	count(decisions) == 0
}

# A database whose props hold values unknown until apply, listed by the normaliser in `unknown`
# (path and the controls that read the property), its value left as the unknown marker.
_unknown_database(props, unknown) := {
	"stacks": [_prod],
	"resources": [{"urn": _database_urn, "stack": "prod", "environment": "prod", "props": props, "unknown": unknown}],
	"index": _index({"type": {"scaleway:databases/instance:Instance": [0]}, "unknown": [0]}),
	"context": _context,
}

test_property_unknown_until_apply_is_undetermined_for_each_control_that_reads_it if {
	unknown := [{"path": "disableBackup", "controls": ["DPA-BAK-001", "DPA-BAK-002", "DPA-BAK-003"]}]
	decisions := input_types.decisions with input as _unknown_database({"disableBackup": _context.unknown}, unknown)
	decisions == {{
		"control": control, "urn": _database_urn, "status": "undetermined",
		"message": "disableBackup is unknown until apply: cannot be judged",
	} |
		some control in ["DPA-BAK-001", "DPA-BAK-002", "DPA-BAK-003"]
	}
}

test_a_nested_unknown_is_named_by_its_path if {
	unknown := [{"path": "acls[1].ip", "controls": ["DPA-ACC-003"]}]
	decisions := input_types.decisions with input as _unknown_database({}, unknown)
	{d.message | some d in decisions} == {"acls[1].ip is unknown until apply: cannot be judged"}
}

test_a_resource_the_index_does_not_list_as_unknown_is_not_judged_here if {
	resource := {"urn": _database_urn, "stack": "prod", "environment": "prod", "props": {}}
	decisions := input_types.decisions with input as {
		"stacks": [_prod], "resources": [resource],
		"index": _index({"type": {"scaleway:databases/instance:Instance": [0]}, "unknown": []}), "context": _context,
	}
	count(decisions) == 0
}
