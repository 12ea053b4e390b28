package dpaguard.updates_test

import rego.v1

import data.dpaguard.updates

_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_stack := {
	"name": "prod", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "pulumi_project": "dpa",
	"environment": "prod", "environment_source": "stack name", "scaleway_project": "11111111-1111-1111-1111-111111111111",
	"default_region": "fr-par", "default_zone": "fr-par-1", "settings": {},
	"config_file": "Pulumi.prod.yaml", "plaintext_config_keys": [], "subprocessors": ["SCALEWAY"], "late_subprocessors": [],
}

_context := {"today": "2026-11-29", "unknown": _unknown, "internet": {}, "subprocessor_notice": {"SCALEWAY": 15}}

_urn(type_token) := sprintf("urn:pulumi:prod::dpa::%v::r", [type_token])

_one(type_token, props) := {
	"stacks": [_stack],
	"resources": [{"urn": _urn(type_token), "stack": "prod", "environment": "prod", "props": props}],
	"index": {"type": {type_token: [0]}},
	"context": _context,
}

_cluster := "scaleway:kubernetes/cluster:Cluster"

_database := "scaleway:databases/instance:Instance"

_redis := "scaleway:redis/cluster:Cluster"

_server := "scaleway:instance/server:Server"

# A table of the tests' own, so that no test depends on which versions policies/dpa/versions.yaml records.
_table := {
	_database: [
		{"version": "PostgreSQL-14", "end_of_life": "2026-11-12", "source": "postgresql.org"},
		{"version": "PostgreSQL-16", "end_of_life": "2028-11-09", "source": "postgresql.org"},
	],
	_redis: [{"version": "7.2", "end_of_life": "2026-11-29", "source": "provider notice"}],
	_server: [{"version": "ubuntu_focal", "end_of_life": "2025-05-31", "source": "ubuntu.com"}],
}

_window := {"enable": true, "maintenanceWindowDay": "sunday", "maintenanceWindowStartHour": 3}

test_cluster_with_auto_upgrade_in_a_window_passes if {
	decisions := updates.decisions with input as _one(_cluster, {"autoUpgrade": _window}) with data.dpa.versions.engines as _table
	count(decisions) == 0
}

test_cluster_without_auto_upgrade_is_a_violation if {
	decisions := updates.decisions with input as _one(_cluster, {"name": "kapsule"}) with data.dpa.versions.engines as _table
	decisions == {{
		"control": "DPA-UPD-001", "urn": _urn(_cluster), "status": "violation",
		"message": "patch versions are not applied automatically (autoUpgrade.enable is not true; the provider default is off)",
	}}
}

test_cluster_with_auto_upgrade_disabled_is_a_violation if {
	props := {"autoUpgrade": object.union(_window, {"enable": false})}
	decisions := updates.decisions with input as _one(_cluster, props) with data.dpa.versions.engines as _table
	{d.control | some d in decisions} == {"DPA-UPD-001"}
}

test_cluster_whose_auto_upgrade_is_unknown_is_left_to_input_types if {
	whole := updates.decisions with input as _one(_cluster, {"autoUpgrade": _unknown}) with data.dpa.versions.engines as _table
	count(whole) == 0
	props := {"autoUpgrade": object.union(_window, {"enable": _unknown})}
	part := updates.decisions with input as _one(_cluster, props) with data.dpa.versions.engines as _table
	count(part) == 0
}

test_supported_engine_passes if {
	decisions := updates.decisions with input as _one(_database, {"engine": "PostgreSQL-16"}) with data.dpa.versions.engines as _table
	count(decisions) == 0
}

test_engine_past_its_end_of_life_is_a_violation if {
	decisions := updates.decisions with input as _one(_database, {"engine": "PostgreSQL-14"}) with data.dpa.versions.engines as _table
	decisions == {{
		"control": "DPA-UPD-002", "urn": _urn(_database), "status": "violation",
		"message": "PostgreSQL-14 reached its end of life on 2026-11-12 (postgresql.org): it receives no security patches",
	}}
}

test_end_of_life_on_the_runs_date_is_already_past if {
	decisions := updates.decisions with input as _one(_redis, {"version": "7.2.5"}) with data.dpa.versions.engines as _table
	{d.control | some d in decisions} == {"DPA-UPD-002"}
}

test_a_version_matches_only_at_a_dot if {
	# "7.20.1" is not a 7.2 release: its end of life is not recorded
	decisions := updates.decisions with input as _one(_redis, {"version": "7.20.1"}) with data.dpa.versions.engines as _table
	{[d.control, d.status] | some d in decisions} == {["DPA-UPD-003", "undetermined"]}
}

test_unrecorded_version_is_undetermined_never_passed if {
	decisions := updates.decisions with input as _one(_database, {"engine": "MySQL-8"}) with data.dpa.versions.engines as _table
	decisions == {{
		"control": "DPA-UPD-003", "urn": _urn(_database), "status": "undetermined",
		"message": "no end of life is recorded for MySQL-8 (policies/dpa/versions.yaml): whether it still receives security patches cannot be shown",
	}}
}

test_unknown_or_unset_version_is_not_judged_here if {
	unknown := updates.decisions with input as _one(_database, {"engine": _unknown}) with data.dpa.versions.engines as _table
	count(unknown) == 0
	mongo := "scaleway:mongodb/instance:Instance"
	unset := updates.decisions with input as _one(mongo, {"name": "mongo"}) with data.dpa.versions.engines as _table
	count(unset) == 0
}

test_instance_image_past_its_end_of_life_is_a_violation if {
	decisions := updates.decisions with input as _one(_server, {"image": "ubuntu_focal"}) with data.dpa.versions.engines as _table
	{d.message | some d in decisions} == {"ubuntu_focal reached its end of life on 2025-05-31 (ubuntu.com): it receives no security patches"}
}

test_instance_image_given_by_uuid_is_undetermined if {
	image := "5c8c7a3e-0b7f-4f5c-9a57-6f0e1c2d3b4a"
	decisions := updates.decisions with input as _one(_server, {"image": image}) with data.dpa.versions.engines as _table
	{[d.control, d.status] | some d in decisions} == {["DPA-UPD-003", "undetermined"]}
}

test_an_instance_is_judged_by_its_image_not_a_version if {
	decisions := updates.decisions with input as _one(_server, {"version": "ubuntu_focal"}) with data.dpa.versions.engines as _table
	count(decisions) == 0
}
