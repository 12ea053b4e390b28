# Each test_<case> runs with input_<case> as its input (set by tests/policies/test_rego_units.py):
# regopy 1.5.2 crashes on `with input as` when the policy under test calls a function.
package dpaguard.transit_encryption_test

import rego.v1

import data.dpaguard.transit_encryption

_frontend(props) := {
	"stacks": [],
	"resources": [{"urn": "urn:pulumi:prod::p::scaleway:loadbalancers/frontend:Frontend::f", "stack": "prod", "environment": "prod", "props": props}],
	"index": {"all": [0], "type": {"scaleway:loadbalancers/frontend:Frontend": [0]}},
	"context": {"unknown": "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "internet": {"0.0.0.0/0": true}},
}

_redirect := [{"action": {"type": "redirect", "redirects": [{"type": "scheme", "target": "https"}]}, "match": {"ipSubnets": ["0.0.0.0/0"]}}]

input_frontend_without_certificate_is_a_violation := _frontend({"inboundPort": 80})

test_frontend_without_certificate_is_a_violation if {
	decisions := transit_encryption.decisions
	some d in decisions
	d.control == "DPA-TLS-001"
}

input_redirecting_frontend_passes := _frontend({"inboundPort": 80, "acls": _redirect})

test_redirecting_frontend_passes if {
	decisions := transit_encryption.decisions
	count(decisions) == 0
}

input_frontend_with_certificate_passes := _frontend({"inboundPort": 443, "certificateIds": ["c"]})

test_frontend_with_certificate_passes if {
	decisions := transit_encryption.decisions
	count(decisions) == 0
}
