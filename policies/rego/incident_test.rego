package dpaguard.incident_test

import rego.v1

import data.dpaguard.incident

_stack_urn := "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod"

# Whether an alert manager alerts someone is the stack's `alerting` fact, computed by the normaliser
# (tests/normalise/test_alerting.py): "none of the stack's resources does" cannot be judged on the
# parts the engines evaluate.
_input(alerting) := {
	"stacks": [{"name": "prod", "urn": _stack_urn, "environment": "prod", "alerting": alerting}],
	"resources": [],
	"index": {"type": {}},
	"context": {"today": "2026-11-29", "unknown": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"},
}

_violation := {{
	"control": "DPA-INC-001", "urn": _stack_urn, "status": "violation",
	"message": "no Cockpit alert manager sends alerts to a contact point: an incident may go unnoticed (Article 6)",
}}

test_stack_whose_alert_manager_alerts_a_contact_passes if {
	decisions := incident.decisions with input as _input(true)
	count(decisions) == 0
}

test_stack_that_alerts_nobody_is_a_violation if {
	decisions := incident.decisions with input as _input(false)
	decisions == _violation
}
