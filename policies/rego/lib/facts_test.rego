# Each test_<case> runs with input_<case> as its input (set by tests/policies/test_rego_units.py).
package dpaguard.lib.facts_test

import rego.v1

import data.dpaguard.lib.facts

input_prop_or_gives_the_property_when_it_is_set := {}

test_prop_or_gives_the_property_when_it_is_set if {
	facts.prop_or({"props": {"days": 3}}, "days", 7) == 3
	facts.prop_or({"props": {"enabled": false}}, "enabled", true) == false
}

input_prop_or_gives_the_default_when_the_property_is_missing_or_null := {}

test_prop_or_gives_the_default_when_the_property_is_missing_or_null if {
	facts.prop_or({"props": {"days": null}}, "days", 7) == 7
	facts.prop_or({"props": {}}, "days", 7) == 7
	facts.prop_or({}, "days", 7) == 7
}
