# Each test_<case> runs with input_<case> as its input (set by tests/policies/test_rego_units.py):
# regopy 1.5.2 crashes on `with input as` when the policy under test calls a function.
package dpaguard.access_test

import rego.v1

import data.dpaguard.access

_sg(rules, policy) := {
	"stacks": [],
	"resources": [{
		"urn": "urn:pulumi:prod::p::scaleway:instance/securityGroup:SecurityGroup::sg",
		"stack": "prod",
		"environment": "prod",
		"props": {"inboundDefaultPolicy": policy},
		"inbound_rules": rules,
	}],
	"index": {"all": [0], "type": {"scaleway:instance/securityGroup:SecurityGroup": [0]}},
	"context": {"unknown": "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "internet": {}},
}

_rule(port, internet) := {"action": "accept", "protocol": "TCP", "port_from": port, "port_to": port, "source": "x", "internet": internet, "unknown": false}

input_ssh_open_to_the_internet_is_a_violation := _sg([_rule(22, true)], "drop")

test_ssh_open_to_the_internet_is_a_violation if {
	decisions := access.decisions
	some d in decisions
	d.control == "DPA-ACC-002"
}

input_ssh_from_an_admin_range_passes := _sg([_rule(22, false)], "drop")

test_ssh_from_an_admin_range_passes if {
	decisions := access.decisions
	count(decisions) == 0
}

input_accept_by_default_is_a_violation := _sg([], "accept")

test_accept_by_default_is_a_violation if {
	decisions := access.decisions
	some d in decisions
	d.control == "DPA-ACC-001"
}
