# METADATA
# title: Property types and unknown values
# description: |
#   A property value of a type its controls cannot judge (policies/dpa/properties.yaml), found by the
#   normaliser and dropped from the facts, or a part of a property a rule reads that is unknown until
#   apply (preview): each control that reads the property reports the resource as undetermined (a
#   violation in prod and staging, advisory in dev). One rule for every property properties.yaml
#   lists, so no property a rule reads passes when its value is unknown.
package dpaguard.input_types

import rego.v1

import data.dpaguard.lib.result

# METADATA
# title: A property a control reads has a type the control cannot judge
decisions contains result.undetermined(control, r, msg) if {
	some i in input.index.malformed
	r := input.resources[i]
	some m in r.malformed
	some control in m.controls
	msg := sprintf("%v is %v where the provider takes %v: cannot be judged", [m.path, m.found, m.expected])
}

# METADATA
# title: A property a control reads is unknown until apply
decisions contains result.undetermined(control, r, msg) if {
	some i in input.index.unknown
	r := input.resources[i]
	some u in r.unknown
	some control in u.controls
	msg := sprintf("%v is unknown until apply: cannot be judged", [u.path])
}
