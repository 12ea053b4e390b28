# METADATA
# title: Incident management
# description: |
#   Article 6 - "promptly notify the Client", "not later than 72 hours after becoming aware": a breach
#   the processor is not alerted to cannot be notified. Its prerequisite on the estate: each production
#   stack enables Cockpit's alert manager with a contact point and alert rules.
package dpaguard.incident

import rego.v1

import data.dpaguard.lib.facts
import data.dpaguard.lib.result

_alert_manager := "scaleway:observability/alertManager:AlertManager"

# METADATA
# title: Production stacks alert someone on incidents
# description: |
#   A stack none of whose Cockpit alert managers both names a contact point and enables alert rules
#   (preconfigured alert ids, or the legacy managed alerts). Enforced in prod only (controls.yaml).
# custom:
#   control: DPA-INC-001
decisions contains result.violation("DPA-INC-001", s, "no Cockpit alert manager sends alerts to a contact point: an incident may go unnoticed (Article 6)") if {
	some s in input.stacks
	not _alerting(s.name)
}

_managers(stack) := [r |
	some i in object.get(input.index.type, _alert_manager, [])
	r := input.resources[i]
	r.stack == stack
]

# Unknown until apply: reported undetermined by input_types.rego, and not a stack without alerting.
_alerting(stack) if {
	some r in _managers(stack)
	_has_contact(r)
	_has_rules(r)
}

_has_contact(r) if facts.is_unknown(r.props.contactPoints)

_has_contact(r) if {
	some point in r.props.contactPoints
	is_string(point.email)
	point.email != ""
}

_has_contact(r) if {
	some point in r.props.contactPoints
	facts.is_unknown(point.email)
}

_has_rules(r) if r.props.enableManagedAlerts == true

_has_rules(r) if facts.is_unknown(r.props.enableManagedAlerts)

_has_rules(r) if facts.is_unknown(r.props.preconfiguredAlertIds)

_has_rules(r) if {
	is_array(r.props.preconfiguredAlertIds)
	count(r.props.preconfiguredAlertIds) > 0
}
