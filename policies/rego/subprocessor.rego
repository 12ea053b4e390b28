# METADATA
# title: Sub-processors
# description: Article 4 and Appendix B - only approved sub-processors, where the register says, notified in time.
package dpaguard.subprocessor

import rego.v1

import data.dpaguard.lib.result

_register := data.dpa.subprocessors

_non_processing := {p | some p in _register.non_processing_packages}

# METADATA
# title: Resources come from an approved sub-processor
# description: One finding per provider package of a stack, on its provider's URN, with the count, services and regions.
# custom:
#   control: DPA-SUB-001
decisions contains result.violation("DPA-SUB-001", group, msg) if {
	some s in input.stacks
	some group in s.packages
	not _register.by_package[group.package]
	not group.package in _non_processing
	msg := sprintf("provider %v is not an approved sub-processor of Appendix B: %v %v (%v) in %v", [group.package, group.count, _resources_word(group.count), group.services, _regions(group)])
}

default _resources_word(_) := "resources"

_resources_word(n) := "resource" if n == 1

default _regions(_) := "a region the program does not state"

_regions(group) := group.regions if group.regions != ""

# METADATA
# title: Resources are hosted where Appendix B says
# custom:
#   control: DPA-SUB-002
decisions contains result.violation("DPA-SUB-002", r, msg) if {
	some name, countries in input.index.subprocessor_country
	registered := _register.by_name[name].location
	some country, positions in countries
	country != "unknown"
	country != registered
	some i in positions
	r := input.resources[i]
	msg := sprintf("hosted in %v, but Appendix B registers %v in %v", [country, name, registered])
}

# METADATA
# title: A sub-processor is used only for the service Appendix B registers it for
# custom:
#   control: DPA-SUB-005
decisions contains result.violation("DPA-SUB-005", r, msg) if {
	some name, types in input.index.outside_scope
	some token, positions in types
	service := _register.by_name[name].service
	some i in positions
	r := input.resources[i]
	msg := sprintf("%v is outside the service Appendix B registers %v for (%v)", [token, name, service])
}

# METADATA
# title: Sub-processors were notified ten working days ahead
# custom:
#   control: DPA-SUB-003
decisions contains result.violation("DPA-SUB-003", s, msg) if {
	some s in input.stacks
	some late in s.late_subprocessors
	msg := sprintf("%v was added %v working days after the client was notified (%v required)", [late.name, late.working_days, data.dpa.settings.subprocessor_notice_working_days])
}

# The stack an evaluation-wide finding is reported on: the strictest environment (prod, then staging,
# then dev), then the first by name, whatever the order given. Reporting it on a dev stack, where the
# control may be disabled, would hide it from a run over every stack.
_env_rank := {"prod": 0, "staging": 1, "dev": 2}

_stack_key(s) := sprintf("%v/%v", [object.get(_env_rank, s.environment, 0), s.name])

# Two stacks may share a name (two exports of one stack): the first of them in the input, so that
# the rule has one value (a complete rule with two would be a conflict, failing the evaluation).
_first_stack := input.stacks[_first_position]

_first_position := min(_first_positions)

_first_positions contains i if {
	some i, s in input.stacks
	_stack_key(s) == _first_key
}

_first_key := min({_stack_key(t) | some t in input.stacks})

# METADATA
# title: Approved sub-processor not used by the estate
# description: Reported once per evaluation, on the strictest environment's first stack.
# custom:
#   control: DPA-SUB-004
decisions contains result.violation("DPA-SUB-004", _first_stack, msg) if {
	some name in input.context.unused_subprocessors
	msg := sprintf("Appendix B lists %v but no evaluated stack uses it", [name])
}
