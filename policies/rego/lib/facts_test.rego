package dpaguard.lib.facts_test

import rego.v1

import data.dpaguard.lib.facts

_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_prod := {"name": "prod", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "environment": "prod", "settings": {"minBackupRetentionDays": 7}}

_dev := {"name": "dev", "urn": "urn:pulumi:dev::dpa::pulumi:pulumi:Stack::dpa-dev", "environment": "dev", "settings": {"minBackupRetentionDays": 3}}

_input := {
	"stacks": [_prod, _dev],
	"resources": [],
	"index": {},
	"context": {"unknown": _unknown, "internet": {"0.0.0.0/0": true, "10.0.0.0/8": false}},
}

test_is_unknown_holds_for_the_preview_marker if {
	facts.is_unknown(_unknown) with input as _input
}

test_is_unknown_does_not_hold_for_a_known_value if {
	not facts.is_unknown("fr-par") with input as _input
	not facts.is_unknown(null) with input as _input
}

test_is_internet_holds_for_a_cidr_the_normaliser_marked_internet if {
	facts.is_internet("0.0.0.0/0") with input as _input
}

test_is_internet_does_not_hold_for_a_private_or_unmarked_cidr if {
	not facts.is_internet("10.0.0.0/8") with input as _input
	not facts.is_internet("192.0.2.0/24") with input as _input
}

test_stack_of_gives_the_resource_stack_fact if {
	facts.stack_of({"stack": "dev"}) == _dev with input as _input
	facts.stack_of({"stack": "prod"}).settings.minBackupRetentionDays == 7 with input as _input
}

test_stack_of_is_undefined_for_a_stack_not_evaluated if {
	not facts.stack_of({"stack": "staging"}) with input as _input
}

test_prop_or_gives_the_property_when_it_is_set if {
	facts.prop_or({"props": {"days": 3}}, "days", 7) == 3
	facts.prop_or({"props": {"enabled": false}}, "enabled", true) == false
}

test_prop_or_gives_the_default_when_the_property_is_missing_or_null if {
	facts.prop_or({"props": {"days": null}}, "days", 7) == 7
	facts.prop_or({"props": {}}, "days", 7) == 7
	facts.prop_or({}, "days", 7) == 7
}

test_prop_or_keeps_the_unknown_marker_for_the_caller_to_judge if {
	facts.prop_or({"props": {"days": _unknown}}, "days", 7) == _unknown
}
