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

_resources_word(1) := "resource"

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

# METADATA
# title: A sub-processor's notice can be shown
# description: |
#   Appendix B gives no dates: for an entry whose register dates are unknown (null), Article 4.3's ten
#   working days cannot be computed. Undetermined, never passed; advisory (DPA-SUB-006 in controls.yaml).
# custom:
#   control: DPA-SUB-006
decisions contains result.undetermined("DPA-SUB-006", s, msg) if {
	some s in input.stacks
	some name in object.get(s, "undated_subprocessors", [])
	msg := sprintf("%v: the register records no notification or addition date, so Article 4.3's ten working days' notice cannot be shown", [name])
}
