# METADATA
# title: Segregation
# description: Appendix C §6 - production and development strictly separated, databases dedicated.
package dpaguard.segregation

import rego.v1

import data.dpaguard.lib.result

# input.index.project: stack -> status (known|unknown|missing) -> project ("" unless known) -> positions.

# METADATA
# title: Resources live in their stack's Scaleway project
# custom:
#   control: DPA-SEG-001
decisions contains result.violation("DPA-SEG-001", r, msg) if {
	some stack in input.stacks
	stack.scaleway_project != null
	some value, positions in input.index.project[stack.name].known
	value != stack.scaleway_project
	some i in positions
	r := input.resources[i]
	msg := sprintf("project %v (from the %v) is not the stack's project %v", [r.project.value, r.project.source, stack.scaleway_project])
}

# METADATA
# title: Project cannot be determined
# custom:
#   control: DPA-SEG-001
decisions contains result.violation("DPA-SEG-001", r, "Scaleway project cannot be determined (no projectId on the resource or its provider)") if {
	some stack in input.stacks
	stack.scaleway_project != null
	some i in input.index.project[stack.name].missing[""]
	r := input.resources[i]
}

# METADATA
# title: The stack names its Scaleway project
# description: |
#   Without one, resources that set no project go to the credentials' default project, and which
#   project that is cannot be shown: one decision for the stack, not one per resource. A stack whose
#   resources each name their project (one the program creates, say) sends nothing to that default.
# custom:
#   control: DPA-SEG-001
decisions contains result.config_violation("DPA-SEG-001", s, "scaleway:projectId", "the stack config sets no Scaleway project (scaleway:projectId or scaleway:project_id): its separation from other environments cannot be shown") if {
	some s in input.stacks
	s.scaleway_project == null
	count(object.get(object.get(input.index.project, s.name, {}), "missing", {})) > 0
}

# METADATA
# title: Project unknown in preview
# custom:
#   control: DPA-SEG-001
decisions contains result.undetermined("DPA-SEG-001", r, "projectId is unknown until apply") if {
	some stack in input.stacks
	some i in input.index.project[stack.name].unknown[""]
	r := input.resources[i]
}

# input.index.env_tag: stack -> env tag ("" when missing) -> positions of taggable resources.

# METADATA
# title: Resources carry their stack's environment tag
# custom:
#   control: DPA-SEG-002
decisions contains result.violation("DPA-SEG-002", r, msg) if {
	some stack in input.stacks
	some value, positions in input.index.env_tag[stack.name]
	value != ""
	value != stack.environment
	some i in positions
	r := input.resources[i]
	msg := sprintf("tag %v is %v, expected %v", [r.env_tag.key, r.env_tag.value, r.environment])
}

# METADATA
# title: Resources carry an environment tag at all
# custom:
#   control: DPA-SEG-002
decisions contains result.violation("DPA-SEG-002", r, msg) if {
	some stack in input.stacks
	some i in input.index.env_tag[stack.name][""]
	r := input.resources[i]
	msg := sprintf("no env tag, expected env:%v", [r.environment])
}

# METADATA
# title: Environments do not share a Scaleway project
# custom:
#   control: DPA-SEG-003
decisions contains result.violation("DPA-SEG-003", s, msg) if {
	some s in input.stacks
	some other in input.stacks
	s.scaleway_project != null
	s.scaleway_project == other.scaleway_project
	s.environment != other.environment
	msg := sprintf("Scaleway project %v is also used by stack %v (%v)", [s.scaleway_project, other.name, other.environment])
}

# METADATA
# title: Environments do not share a VPC or private network
# custom:
#   control: DPA-SEG-004
decisions contains result.violation("DPA-SEG-004", r, msg) if {
	some i in input.index.foreign
	r := input.resources[i]
	some owner in r.foreign
	owner.kind == "network"
	msg := sprintf("shares a network (%v) with stack %v (%v)", [owner.urn, owner.stack, owner.environment])
}

# METADATA
# title: Environments do not share a DataPacket server
# custom:
#   control: DPA-SEG-005
decisions contains result.violation("DPA-SEG-005", r, msg) if {
	some i in input.index.foreign
	r := input.resources[i]
	some owner in r.foreign
	owner.kind == "server"
	msg := sprintf("shares a server (%v) with stack %v (%v)", [owner.urn, owner.stack, owner.environment])
}

# METADATA
# title: Environments do not share a database
# custom:
#   control: DPA-SEG-006
decisions contains result.violation("DPA-SEG-006", r, msg) if {
	some i in input.index.foreign
	r := input.resources[i]
	some owner in r.foreign
	owner.kind == "database"
	msg := sprintf("shares a database (%v) with stack %v (%v)", [owner.urn, owner.stack, owner.environment])
}

# METADATA
# title: Non-production stacks do not reference production
# custom:
#   control: DPA-SEG-007
decisions contains result.violation("DPA-SEG-007", r, msg) if {
	some i in input.index.type["pulumi:pulumi:StackReference"]
	r := input.resources[i]
	r.environment != "prod"
	r.stack_reference.environment == "prod"
	msg := sprintf("%v stack reads production stack %v", [r.environment, r.stack_reference.target])
}

# METADATA
# title: Stack reference target unknown in preview
# custom:
#   control: DPA-SEG-007
decisions contains result.undetermined("DPA-SEG-007", r, "the referenced stack is unknown until apply") if {
	some i in input.index.type["pulumi:pulumi:StackReference"]
	r := input.resources[i]
	r.environment != "prod"
	r.stack_reference.target == null
}
