# METADATA
# title: Decisions
# description: |
#   The one place a decision is built, so every package returns the same shape. Each function builds
#   its object itself rather than calling `decision`: in OPA a nested call per decision cost a sixth of
#   an evaluation with thousands of decisions.
package dpaguard.lib.result

import rego.v1

# METADATA
# title: A violation of a control by a resource or a stack
# description: "{control, urn, message, status: violation}; `subject` is a resource or stack fact (it has `urn`)."
violation(control, subject, message) := {
	"control": control,
	"urn": subject.urn,
	"message": message,
	"status": "violation",
}

# METADATA
# title: A control that cannot be judged because a value is unknown in preview
# description: Counts as a violation in prod and staging, as advisory in dev (joined in Python).
undetermined(control, subject, message) := {
	"control": control,
	"urn": subject.urn,
	"message": message,
	"status": "undetermined",
}

# METADATA
# title: A violation by a stack of one key of its stack config
# description: "As violation, with `config_key`: the finding points at the line of the stack config file that sets it."
config_violation(control, subject, key, message) := {
	"control": control,
	"urn": subject.urn,
	"message": message,
	"status": "violation",
	"config_key": key,
}

# METADATA
# title: A decision of either status
decision(control, subject, message, status) := {
	"control": control,
	"urn": subject.urn,
	"message": message,
	"status": status,
}
