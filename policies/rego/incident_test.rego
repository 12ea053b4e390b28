package dpaguard.incident_test

import rego.v1

import data.dpaguard.incident

_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_stack_urn := "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod"

_manager_type := "scaleway:observability/alertManager:AlertManager"

_input(managers) := {
	"stacks": [{"name": "prod", "urn": _stack_urn, "environment": "prod"}],
	"resources": [{"urn": sprintf("urn:pulumi:prod::dpa::%v::alerts-%v", [_manager_type, n]), "stack": "prod", "props": props} |
		some n, props in managers
	],
	"index": {"type": {_manager_type: numbers.range(0, count(managers) - 1)}},
	"context": {"today": "2026-11-29", "unknown": _unknown},
}

_alerting := {"contactPoints": [{"email": "oncall@example.org"}], "preconfiguredAlertIds": ["alert-1"]}

_violation := {{
	"control": "DPA-INC-001", "urn": _stack_urn, "status": "violation",
	"message": "no Cockpit alert manager sends alerts to a contact point: an incident may go unnoticed (Article 6)",
}}

test_stack_whose_alert_manager_alerts_a_contact_passes if {
	decisions := incident.decisions with input as _input([_alerting])
	count(decisions) == 0
}

test_legacy_managed_alerts_count_as_rules if {
	props := {"contactPoints": [{"email": "oncall@example.org"}], "enableManagedAlerts": true}
	decisions := incident.decisions with input as _input([props])
	count(decisions) == 0
}

test_stack_without_alert_manager_is_a_violation if {
	decisions := incident.decisions with input as _input([])
	decisions == _violation
}

test_alert_manager_without_contact_point_is_a_violation if {
	decisions := incident.decisions with input as _input([{"preconfiguredAlertIds": ["alert-1"], "contactPoints": []}])
	decisions == _violation
}

test_alert_manager_without_alert_rules_is_a_violation if {
	no_ids := incident.decisions with input as _input([{"contactPoints": [{"email": "oncall@example.org"}]}])
	no_ids == _violation
	empty := incident.decisions with input as _input([object.union(_alerting, {"preconfiguredAlertIds": []})])
	empty == _violation
}

test_contact_and_rules_must_be_on_the_same_alert_manager if {
	decisions := incident.decisions with input as _input([{"contactPoints": [{"email": "oncall@example.org"}]}, {"preconfiguredAlertIds": ["a"]}])
	decisions == _violation
}

test_unknown_values_are_left_to_input_types if {
	contacts := incident.decisions with input as _input([object.union(_alerting, {"contactPoints": _unknown})])
	count(contacts) == 0
	email := incident.decisions with input as _input([object.union(_alerting, {"contactPoints": [{"email": _unknown}]})])
	count(email) == 0
	rules := incident.decisions with input as _input([object.union(_alerting, {"preconfiguredAlertIds": _unknown})])
	count(rules) == 0
	legacy := {"contactPoints": [{"email": "oncall@example.org"}], "enableManagedAlerts": _unknown}
	managed := incident.decisions with input as _input([legacy])
	count(managed) == 0
}

test_a_contact_point_without_an_address_is_no_contact if {
	decisions := incident.decisions with input as _input([object.union(_alerting, {"contactPoints": [{"email": ""}]})])
	decisions == _violation
}
