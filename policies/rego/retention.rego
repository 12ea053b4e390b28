# METADATA
# title: Retention
# description: Appendix A - each data category kept no shorter than the law and no longer than the DPA allows.
package dpaguard.retention

import rego.v1

import data.dpaguard.lib.facts
import data.dpaguard.lib.result

_buckets := input.index.type["scaleway:object/bucket:Bucket"]

_categories := data.dpa.retention.categories

# The category's bounds for a resource's stack: client-set categories read the stack setting.
# Worked out once per stack and category, not per bucket and rule: rego-cpp is slow to look a
# variable key up in a data document.
_bounds(r) := _bounds_by_stack[r.stack][r.data_category]

_bounds_by_stack := {s.name: {name: bounds | some name, c in _categories; bounds := _category_bounds(s, c)} | some s in input.stacks}

_category_bounds(s, c) := {"min": days, "max": days} if {
	key := c.client_set
	key != null
	setting := trim_prefix(key, "dpaguard:")
	days := s.settings[setting]
	days != null
}

_category_bounds(s, c) := {"min": c.min_days, "max": c.max_days} if {
	c.client_set == null
}

_client_set[name] := c.client_set if {
	some name, c in _categories
	c.client_set != null
}

# The expirations of the bucket's enabled lifecycle rules.
_expirations(r) := [days |
	some rule in object.get(r.props, "lifecycleRules", [])
	rule.enabled == true
	days := rule.expiration.days
]

# METADATA
# title: Buckets declare an Appendix A data category
# custom:
#   control: DPA-RET-001
decisions contains result.violation("DPA-RET-001", r, "bucket declares no data-category tag") if {
	some i in _buckets
	r := input.resources[i]
	not r.data_category
	not r.tags_unknown
}

# METADATA
# title: Bucket has no expiring lifecycle rule while its category has a maximum
# custom:
#   control: DPA-RET-002
decisions contains result.violation("DPA-RET-002", r, msg) if {
	some i in _buckets
	r := input.resources[i]
	bounds := _bounds(r)
	bounds.max != null
	count(_expirations(r)) == 0
	not facts.is_unknown(r.props.lifecycleRules)
	msg := sprintf("%v must be deleted after %v days but no enabled lifecycle rule expires objects", [r.data_category, bounds.max])
}

# METADATA
# title: Bucket lifecycle expiration exceeds the category's maximum
# custom:
#   control: DPA-RET-002
decisions contains result.violation("DPA-RET-002", r, msg) if {
	some i in _buckets
	r := input.resources[i]
	bounds := _bounds(r)
	bounds.max != null
	some days in _expirations(r)
	is_number(days)
	days > bounds.max
	msg := sprintf("%v expire after %v days, beyond the maximum of %v", [r.data_category, days, bounds.max])
}

# METADATA
# title: Bucket lifecycle expiration is shorter than the legal minimum
# custom:
#   control: DPA-RET-002
decisions contains result.violation("DPA-RET-002", r, msg) if {
	some i in _buckets
	r := input.resources[i]
	bounds := _bounds(r)
	bounds.min != null
	some days in _expirations(r)
	is_number(days)
	days < bounds.min
	msg := sprintf("%v expire after %v days, before the minimum of %v", [r.data_category, days, bounds.min])
}

# METADATA
# title: Client-set period missing from the stack config
# custom:
#   control: DPA-RET-002
decisions contains result.violation("DPA-RET-002", r, msg) if {
	some i in _buckets
	r := input.resources[i]
	key := _client_set[r.data_category]
	not _bounds(r)
	msg := sprintf("%v are kept for the period the client set, but the stack does not set %v", [r.data_category, key])
}

# METADATA
# title: Lifecycle expiration unknown in preview
# custom:
#   control: DPA-RET-002
decisions contains result.undetermined("DPA-RET-002", r, "lifecycle expiration is unknown until apply") if {
	some i in _buckets
	r := input.resources[i]
	_bounds(r)
	some days in _expirations(r)
	facts.is_unknown(days)
}

# METADATA
# title: Old object versions do not outlive the retention period
# custom:
#   control: DPA-RET-003
decisions contains result.violation("DPA-RET-003", r, msg) if {
	some i in _buckets
	r := input.resources[i]
	r.props.versioning.enabled == true
	maximum := _bounds(r).max
	maximum != null
	not _noncurrent_within(r, maximum)
	msg := sprintf("versioned bucket keeps old versions of %v beyond %v days (no noncurrent version expiration within it)", [r.data_category, maximum])
}

_noncurrent_within(r, maximum) if {
	some rule in object.get(r.props, "lifecycleRules", [])
	rule.enabled == true
	days := rule.noncurrentVersionExpiration.noncurrentDays
	is_number(days)
	days <= maximum
}

# METADATA
# title: Declared data categories are Appendix A categories
# custom:
#   control: DPA-RET-004
decisions contains result.violation("DPA-RET-004", r, msg) if {
	some category, positions in input.index.data_category
	not facts.is_unknown(category)
	not _categories[category]
	some i in positions
	r := input.resources[i]
	msg := sprintf("data category %v is not a category of Appendix A", [r.data_category])
}

# METADATA
# title: Client-set retention periods are configured
# custom:
#   control: DPA-RET-005
decisions contains result.violation("DPA-RET-005", s, msg) if {
	some s in input.stacks
	some c in _categories
	c.client_set != null
	s.settings[trim_prefix(c.client_set, "dpaguard:")] == null
	msg := sprintf("stack config does not set %v (%v: kept for the period the client set)", [c.client_set, c.id])
}
