# METADATA
# title: Segregation
# description: Appendix C §6 - production and development strictly separated, databases dedicated.
package dpaguard.segregation

import rego.v1

import data.dpaguard.lib.facts
import data.dpaguard.lib.result

_of_type(t) := object.get(input.index.type, t, [])

_scaleway := object.get(input.index.package, "scaleway", [])

# METADATA
# title: Resources live in their stack's Scaleway project
# custom:
#   control: DPA-SEG-001
decisions contains result.violation("DPA-SEG-001", r, msg) if {
	some i in _scaleway
	r := input.resources[i]
	r.project.expected
	r.project.status == "known"
	stack := facts.stack_of(r)
	r.project.value != stack.scaleway_project
	msg := sprintf("project %v (from the %v) is not the stack's project %v", [r.project.value, r.project.source, stack.scaleway_project])
}

# METADATA
# title: Project cannot be determined
# custom:
#   control: DPA-SEG-001
decisions contains result.violation("DPA-SEG-001", r, "Scaleway project cannot be determined (no projectId on the resource, its provider or the stack config)") if {
	some i in _scaleway
	r := input.resources[i]
	r.project.expected
	r.project.status == "missing"
}

# METADATA
# title: Project unknown in preview
# custom:
#   control: DPA-SEG-001
decisions contains result.undetermined("DPA-SEG-001", r, "projectId is unknown until apply") if {
	some i in _scaleway
	r := input.resources[i]
	r.project.expected
	r.project.status == "unknown"
}

_taggable := array.concat(_scaleway, _of_type("pulumi-python:dynamic/datapacket:Server"))

# METADATA
# title: Resources carry their stack's environment tag
# custom:
#   control: DPA-SEG-002
decisions contains result.violation("DPA-SEG-002", r, msg) if {
	some i in _taggable
	r := input.resources[i]
	r.taggable
	not r.props.tags == input.context.unknown
	r.tags.env != r.environment
	msg := sprintf("tag env is %v, expected %v", [r.tags.env, r.environment])
}

# METADATA
# title: Resources carry an environment tag at all
# custom:
#   control: DPA-SEG-002
decisions contains result.violation("DPA-SEG-002", r, msg) if {
	some i in _taggable
	r := input.resources[i]
	r.taggable
	not r.props.tags == input.context.unknown
	not r.tags.env
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

_shared_message(r, owner, what) := sprintf("shares %v %v with stack %v (%v)", [what, owner.urn, owner.stack, owner.environment])

# METADATA
# title: Environments do not share a VPC or private network
# custom:
#   control: DPA-SEG-004
decisions contains result.violation("DPA-SEG-004", r, _shared_message(r, owner, "network")) if {
	some i in _scaleway
	r := input.resources[i]
	some owner in r.foreign
	owner.kind == "network"
}

# METADATA
# title: Environments do not share a DataPacket server
# custom:
#   control: DPA-SEG-005
decisions contains result.violation("DPA-SEG-005", r, _shared_message(r, owner, "server")) if {
	some i in _of_type("pulumi-python:dynamic/datapacket:Server")
	r := input.resources[i]
	some owner in r.foreign
	owner.kind == "server"
}

# METADATA
# title: Environments do not share a database
# custom:
#   control: DPA-SEG-006
decisions contains result.violation("DPA-SEG-006", r, _shared_message(r, owner, "database")) if {
	some i in input.index.all
	r := input.resources[i]
	some owner in r.foreign
	owner.kind == "database"
}

# METADATA
# title: Non-production stacks do not reference production
# custom:
#   control: DPA-SEG-007
decisions contains result.violation("DPA-SEG-007", r, msg) if {
	some i in _of_type("pulumi:pulumi:StackReference")
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
	some i in _of_type("pulumi:pulumi:StackReference")
	r := input.resources[i]
	r.environment != "prod"
	r.stack_reference.target == null
}
