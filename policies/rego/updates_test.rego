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
	_cluster: [{"version": "1.31", "end_of_life": "2025-10-28", "source": "kubernetes.io"}],
}

_versions := {"engines": _table, "floors": {}}

# Security floors of the tests' own, on a type with no end of life recorded: one in force, one from the
# run's date, one not yet.
_floors := {
	"engines": {_redis: []},
	"floors": {_redis: [
		{"below": "7.2.11", "since": "2025-10-15", "advisory": "CVE-2025-49844", "source": "provider notice"},
		{"below": "7.0.20", "since": "2026-11-29", "advisory": "CVE-2026-0001", "source": "maintainer notice"},
		{"below": "8.0.0", "since": "2026-11-30", "advisory": "CVE-2026-0002", "source": "later notice"},
	]},
}

_no_end_of_life(v) := {
	"control": "DPA-UPD-003", "urn": _urn(_redis), "status": "undetermined",
	"message": sprintf("no end of life is recorded for %v (policies/dpa/versions.yaml): whether it still receives security patches cannot be shown", [v]),
}

_window := {"enable": true, "maintenanceWindowDay": "sunday", "maintenanceWindowStartHour": 3}

test_cluster_with_auto_upgrade_in_a_window_passes if {
	decisions := updates.decisions with input as _one(_cluster, {"autoUpgrade": _window}) with data.dpa.versions as _versions
	count(decisions) == 0
}

test_cluster_without_auto_upgrade_is_a_violation if {
	decisions := updates.decisions with input as _one(_cluster, {"name": "kapsule"}) with data.dpa.versions as _versions
	decisions == {{
		"control": "DPA-UPD-001", "urn": _urn(_cluster), "status": "violation",
		"message": "patch versions are not applied automatically (autoUpgrade.enable is not true; the provider default is off)",
	}}
}

test_cluster_with_auto_upgrade_disabled_is_a_violation if {
	props := {"autoUpgrade": object.union(_window, {"enable": false})}
	decisions := updates.decisions with input as _one(_cluster, props) with data.dpa.versions as _versions
	{d.control | some d in decisions} == {"DPA-UPD-001"}
}

test_cluster_whose_auto_upgrade_is_unknown_is_left_to_input_types if {
	whole := updates.decisions with input as _one(_cluster, {"autoUpgrade": _unknown}) with data.dpa.versions as _versions
	count(whole) == 0
	props := {"autoUpgrade": object.union(_window, {"enable": _unknown})}
	part := updates.decisions with input as _one(_cluster, props) with data.dpa.versions as _versions
	count(part) == 0
}

test_supported_engine_passes if {
	decisions := updates.decisions with input as _one(_database, {"engine": "PostgreSQL-16"}) with data.dpa.versions as _versions
	count(decisions) == 0
}

test_engine_past_its_end_of_life_is_a_violation if {
	decisions := updates.decisions with input as _one(_database, {"engine": "PostgreSQL-14"}) with data.dpa.versions as _versions
	decisions == {{
		"control": "DPA-UPD-002", "urn": _urn(_database), "status": "violation",
		"message": "PostgreSQL-14 reached its end of life on 2026-11-12 (postgresql.org): it receives no security patches",
	}}
}

test_end_of_life_on_the_runs_date_is_already_past if {
	decisions := updates.decisions with input as _one(_redis, {"version": "7.2.5"}) with data.dpa.versions as _versions
	{d.control | some d in decisions} == {"DPA-UPD-002"}
}

test_a_version_matches_only_at_a_dot if {
	# "7.20.1" is not a 7.2 release: its end of life is not recorded
	decisions := updates.decisions with input as _one(_redis, {"version": "7.20.1"}) with data.dpa.versions as _versions
	{[d.control, d.status] | some d in decisions} == {["DPA-UPD-003", "undetermined"]}
}

test_unrecorded_version_is_undetermined_never_passed if {
	decisions := updates.decisions with input as _one(_database, {"engine": "MySQL-8"}) with data.dpa.versions as _versions
	decisions == {{
		"control": "DPA-UPD-003", "urn": _urn(_database), "status": "undetermined",
		"message": "no end of life is recorded for MySQL-8 (policies/dpa/versions.yaml): whether it still receives security patches cannot be shown",
	}}
}

test_unknown_or_unset_version_is_not_judged_here if {
	unknown := updates.decisions with input as _one(_database, {"engine": _unknown}) with data.dpa.versions as _versions
	count(unknown) == 0
	mongo := "scaleway:mongodb/instance:Instance"
	unset := updates.decisions with input as _one(mongo, {"name": "mongo"}) with data.dpa.versions as _versions
	count(unset) == 0
}

test_instance_image_past_its_end_of_life_is_a_violation if {
	decisions := updates.decisions with input as _one(_server, {"image": "ubuntu_focal"}) with data.dpa.versions as _versions
	{d.message | some d in decisions} == {"ubuntu_focal reached its end of life on 2025-05-31 (ubuntu.com): it receives no security patches"}
}

test_instance_image_given_by_uuid_is_undetermined if {
	image := "5c8c7a3e-0b7f-4f5c-9a57-6f0e1c2d3b4a"
	decisions := updates.decisions with input as _one(_server, {"image": image}) with data.dpa.versions as _versions
	{[d.control, d.status] | some d in decisions} == {["DPA-UPD-003", "undetermined"]}
}

test_an_instance_is_judged_by_its_image_not_a_version if {
	decisions := updates.decisions with input as _one(_server, {"version": "ubuntu_focal"}) with data.dpa.versions as _versions
	count(decisions) == 0
}

test_kapsule_cluster_past_its_end_of_life_is_a_violation if {
	props := {"autoUpgrade": _window, "version": "1.31"}
	decisions := updates.decisions with input as _one(_cluster, props) with data.dpa.versions as _versions
	{d.message | some d in decisions} == {"1.31 reached its end of life on 2025-10-28 (kubernetes.io): it receives no security patches"}
}

test_kapsule_cluster_patch_version_matches_its_minor_version if {
	props := {"autoUpgrade": _window, "version": "1.31.4"}
	decisions := updates.decisions with input as _one(_cluster, props) with data.dpa.versions as _versions
	{d.control | some d in decisions} == {"DPA-UPD-002"}
}

test_kapsule_cluster_version_not_recorded_is_undetermined if {
	props := {"autoUpgrade": _window, "version": "1.35"}
	decisions := updates.decisions with input as _one(_cluster, props) with data.dpa.versions as _versions
	{[d.control, d.status] | some d in decisions} == {["DPA-UPD-003", "undetermined"]}
}

test_version_below_a_floor_in_force_is_a_violation if {
	decisions := updates.decisions with input as _one(_redis, {"version": "7.2.5"}) with data.dpa.versions as _floors
	decisions == {
		{
			"control": "DPA-UPD-002", "urn": _urn(_redis), "status": "violation",
			"message": "7.2.5 is below 7.2.11, the security floor since 2025-10-15: it carries CVE-2025-49844, fixed in 7.2.11 (provider notice)",
		},
		_no_end_of_life("7.2.5"),
	}
}

test_a_floor_applies_from_its_date_on if {
	# 7.0.5 is below the floor of 2025-10-15 and the floor of the run's date, not yet below the later one's
	decisions := updates.decisions with input as _one(_redis, {"version": "7.0.5"}) with data.dpa.versions as _floors
	{d.message | some d in decisions; d.control == "DPA-UPD-002"} == {
		"7.0.5 is below 7.2.11, the security floor since 2025-10-15: it carries CVE-2025-49844, fixed in 7.2.11 (provider notice)",
		"7.0.5 is below 7.0.20, the security floor since 2026-11-29: it carries CVE-2026-0001, fixed in 7.0.20 (maintainer notice)",
	}
}

test_a_floor_not_yet_in_force_is_not_applied if {
	decisions := updates.decisions with input as _one(_redis, {"version": "7.4.0"}) with data.dpa.versions as _floors
	decisions == {_no_end_of_life("7.4.0")}
}

test_version_at_a_floor_is_not_below_it_and_its_end_of_life_stays_undetermined if {
	# a floor says nothing of an end of life: DPA-UPD-003 stays undetermined, never passed
	decisions := updates.decisions with input as _one(_redis, {"version": "7.2.11"}) with data.dpa.versions as _floors
	decisions == {_no_end_of_life("7.2.11")}
}

test_version_that_cannot_be_compared_with_a_floor_is_undetermined_never_passed if {
	decisions := updates.decisions with input as _one(_redis, {"version": "7.2"}) with data.dpa.versions as _floors
	undetermined := {d.message | some d in decisions; d.control == "DPA-UPD-002"; d.status == "undetermined"}
	undetermined == {
		"7.2 cannot be compared with the security floor 7.2.11 (CVE-2025-49844, since 2025-10-15; provider notice): whether it carries CVE-2025-49844 cannot be shown",
		"7.2 cannot be compared with the security floor 7.0.20 (CVE-2026-0001, since 2026-11-29; maintainer notice): whether it carries CVE-2026-0001 cannot be shown",
	}
	{d.status | some d in decisions; d.control == "DPA-UPD-002"} == {"undetermined"}
}

test_only_a_plain_major_minor_patch_is_compared_with_a_floor if {
	# OPA's semver.is_valid admits a leading "v", regopy's does not: neither is compared
	every v in ["v7.2.11", "7.2.11-rc1", "07.2.11"] {
		decisions := updates.decisions with input as _one(_redis, {"version": v}) with data.dpa.versions as _floors
		{d.status | some d in decisions; d.control == "DPA-UPD-002"} == {"undetermined"}
	}
}

test_floors_without_a_runs_date_are_not_applied if {
	context := object.union(_context, {"today": null})
	decisions := updates.decisions with input as object.union(_one(_redis, {"version": "7.0.5"}), {"context": context})
		with data.dpa.versions as _floors
	decisions == {_no_end_of_life("7.0.5")}
}

test_a_type_without_floors_is_judged_by_its_end_of_life_only if {
	decisions := updates.decisions with input as _one(_database, {"engine": "PostgreSQL-16"}) with data.dpa.versions as _floors
	decisions == {{
		"control": "DPA-UPD-003", "urn": _urn(_database), "status": "undetermined",
		"message": "no end of life is recorded for PostgreSQL-16 (policies/dpa/versions.yaml): whether it still receives security patches cannot be shown",
	}}
}
