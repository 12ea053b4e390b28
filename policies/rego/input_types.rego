# METADATA
# title: Property types
# description: |
#   A property value of a type its controls cannot judge (policies/dpa/properties.yaml), found by the
#   normaliser and dropped from the facts; each control that reads the property reports the resource
#   as undetermined (a violation in prod and staging, advisory in dev).
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
