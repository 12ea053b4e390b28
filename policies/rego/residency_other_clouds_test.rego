package dpaguard.residency_test

import rego.v1

import data.dpaguard.residency

_other_cloud_urn(name) := sprintf("urn:pulumi:prod::dpa::hcloud:index/server:Server::%v", [name])

_other_cloud_input(package_name, places) := {
	"stacks": [{"name": "prod", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "environment": "prod"}],
	"resources": [r |
		some name, place in places
		r := object.union({"urn": _other_cloud_urn(name), "stack": "prod", "environment": "prod", "props": {}}, _other_cloud_place(place))
	],
	"index": {"package": {package_name: numbers.range(0, count(places) - 1)}},
	"context": {"today": "2026-11-29", "unknown": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"},
}

_other_cloud_place(place) := {"place": place} if is_string(place)

_other_cloud_place(place) := {} if not is_string(place)

_other_cloud_settings := {"hcloud": {"properties": ["location"], "config": []}, "aws": {"properties": ["region"], "config": ["aws:region"]}}

_other_cloud_locations := {
	"approved_countries": ["FR"],
	"other_clouds": {"hcloud": {"fsn1": "DE"}, "aws": {"eu-west-3": "FR", "eu": null}},
}

test_a_server_in_germany_is_a_violation if {
	decisions := residency.decisions with input as _other_cloud_input("hcloud", {"web": "fsn1"})
		with data.dpa.settings.other_cloud_regions as _other_cloud_settings
		with data.dpa.locations as _other_cloud_locations
	decisions == {{
		"control": "DPA-RES-008", "urn": _other_cloud_urn("web"), "status": "violation",
		"message": "hosted by hcloud in fsn1 (DE), not in France",
	}}
}

test_a_resource_in_paris_passes if {
	decisions := residency.decisions with input as _other_cloud_input("aws", {"backups": "eu-west-3"})
		with data.dpa.settings.other_cloud_regions as _other_cloud_settings
		with data.dpa.locations as _other_cloud_locations
	count(decisions) == 0
}

test_an_unrecorded_place_is_undetermined_never_passed if {
	decisions := residency.decisions with input as _other_cloud_input("hcloud", {"web": "xyz9"})
		with data.dpa.settings.other_cloud_regions as _other_cloud_settings
		with data.dpa.locations as _other_cloud_locations
	decisions == {{
		"control": "DPA-RES-008", "urn": _other_cloud_urn("web"), "status": "undetermined",
		"message": "hosted by hcloud in xyz9, a place not shown to be in one country, France (policies/dpa/locations.yaml other_clouds)",
	}}
}

test_a_place_spanning_several_countries_is_undetermined if {
	decisions := residency.decisions with input as _other_cloud_input("aws", {"bucket": "eu"})
		with data.dpa.settings.other_cloud_regions as _other_cloud_settings
		with data.dpa.locations as _other_cloud_locations
	{[d.control, d.status] | some d in decisions} == {["DPA-RES-008", "undetermined"]}
}

test_a_resource_without_a_place_is_not_judged if {
	decisions := residency.decisions with input as _other_cloud_input("hcloud", {"dns": null})
		with data.dpa.settings.other_cloud_regions as _other_cloud_settings
		with data.dpa.locations as _other_cloud_locations
	count(decisions) == 0
}

test_a_package_no_setting_places_is_not_judged_here if {
	decisions := residency.decisions with input as _other_cloud_input("kubernetes", {"pod": "fsn1"})
		with data.dpa.settings.other_cloud_regions as _other_cloud_settings
		with data.dpa.locations as _other_cloud_locations
	count(decisions) == 0
}
