# Each test_<case> runs with input_<case> as its input (set by tests/policies/test_rego_units.py):
# regopy 1.5.2 crashes on `with input as` when the policy under test calls a function.
package dpaguard.residency_test

import rego.v1

import data.dpaguard.residency

_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_vpc(region, status) := {
	"urn": "urn:pulumi:prod::p::scaleway:network/vpc:Vpc::vpc",
	"stack": "prod",
	"environment": "prod",
	"locality": {"scope": "region", "region": region, "zone": null, "status": status, "source": "resource"},
}

_input(r, value, status) := {
	"stacks": [],
	"resources": [r],
	"index": {"all": [0], "package": {"scaleway": [0]}, "type": {}, "locality": {"region": {status: {value: [0]}}}},
	"context": {"unknown": _unknown},
}

input_region_outside_france_is_a_violation := _input(_vpc("nl-ams", "known"), "nl-ams", "known")

test_region_outside_france_is_a_violation if {
	decisions := residency.decisions
	some d in decisions
	d.control == "DPA-RES-001"
	d.status == "violation"
}

input_french_region_passes := _input(_vpc("fr-par", "known"), "fr-par", "known")

test_french_region_passes if {
	decisions := residency.decisions
	count(decisions) == 0
}

input_unknown_region_is_undetermined := _input(_vpc(_unknown, "unknown"), "", "unknown")

test_unknown_region_is_undetermined if {
	decisions := residency.decisions
	some d in decisions
	d.control == "DPA-RES-001"
	d.status == "undetermined"
}

input_missing_region_is_a_violation := _input(_vpc(null, "missing"), "", "missing")

test_missing_region_is_a_violation if {
	decisions := residency.decisions
	some d in decisions
	d.control == "DPA-RES-001"
	d.status == "violation"
}

_server(location) := {
	"stacks": [],
	"resources": [{
		"urn": "urn:pulumi:prod::p::pulumi-python:dynamic/datapacket:Server::s",
		"stack": "prod",
		"environment": "prod",
		"props": {"location": location, "countryCode": "FR"},
	}],
	"index": {"all": [0], "package": {}, "type": {"pulumi-python:dynamic/datapacket:Server": [0]}, "locality": {}},
	"context": {"unknown": _unknown},
}

input_datapacket_outside_france_is_a_violation := _server("Amsterdam")

test_datapacket_outside_france_is_a_violation if {
	decisions := residency.decisions
	some d in decisions
	d.control == "DPA-RES-005"
}

input_datapacket_paris_passes := _server("Paris")

test_datapacket_paris_passes if {
	decisions := residency.decisions
	count(decisions) == 0
}
