# METADATA
# title: Incident management
# description: |
#   Article 6 - "promptly notify the Client", "not later than 72 hours after becoming aware": a breach
#   the processor is not alerted to cannot be notified. Its prerequisite on the estate: each production
#   stack enables Cockpit's alert manager with a contact point and alert rules.
package dpaguard.incident

import rego.v1

import data.dpaguard.lib.result

# METADATA
# title: Production stacks alert someone on incidents
# description: |
#   A stack none of whose Cockpit alert managers both names a contact point and enables alert rules
#   (preconfigured alert ids, or the legacy managed alerts). Enforced in prod only (controls.yaml).
# custom:
#   control: DPA-INC-001
decisions contains result.violation("DPA-INC-001", s, "no Cockpit alert manager sends alerts to a contact point: an incident may go unnoticed (Article 6)") if {
	some s in input.stacks
	s.alerting == false
}
