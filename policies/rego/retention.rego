# METADATA
# title: Retention
# description: Appendix A - each data category kept no shorter than the law and no longer than the DPA allows.
package dpaguard.retention

import rego.v1

import data.dpaguard.lib.facts
import data.dpaguard.lib.result

# Buckets grouped by every fact these rules read (normaliser SHAPES["bucket"]): each group is judged
# once, into _judged, and its decisions go to every bucket of it (see the last rule of this area).
# A group `g` has the bucket's stack, data_category and tags_unknown (when set), props.lifecycleRules
# and props.versioning, and `positions` of its buckets in input.resources; rules read nothing else.
_buckets := input.index.shape.bucket

_categories := data.dpa.retention.categories

# The category's bounds for a resource's stack: client-set categories read the stack setting.
# Worked out once per stack and category, not per bucket and rule: rego-cpp is slow to look a
# variable key up in a data document. An object rule (Regal's prefer-set-or-object-rule) has not
# been measured under rego-cpp, so the comprehension stays.
_bounds(stack, category) := _bounds_by_stack[stack][category]

# regal ignore:prefer-set-or-object-rule
_bounds_by_stack := {s.name: {name: bounds | some name, c in _categories; bounds := _category_bounds(s, c)} | some s in input.stacks}

# A client-set period bounds the deletion only: the client deletes earlier from the Dashboard whenever it
# wants, so no lifecycle rule can owe it a minimum (policies/dpa/retention.yaml).
_category_bounds(s, c) := {"min": null, "max": days} if {
	key := c.client_set
	key != null
	setting := trim_prefix(key, "dpaguard:")
	days := s.settings[setting]
	days != null
}

_category_bounds(_, c) := {"min": c.min_days, "max": c.max_days} if {
	c.client_set == null
}

_client_set[name] := c.client_set if {
	some name, c in _categories
	c.client_set != null
}

# The expirations of enabled lifecycle rules. Helpers take a group's values, not the group: rego-cpp
# copies a function's arguments, and a group holds the positions of all its buckets; and rules read
# props by name, so the normaliser knows which ones to keep (policy.props_read).
_expirations(rules) := [rule.expiration.days |
	some rule in rules
	rule.enabled == true
]

# A rule filtered by a prefix (`tmp/`), object tags or object sizes expires only part of the bucket:
# only a rule without filter bounds how long every object of the bucket lives.
_covers_bucket(rule) if {
	_no_filter(object.get(rule, "prefix", null))
	_no_filter(object.get(rule, "tags", null))
	_no_filter(object.get(rule, "objectSizeGreaterThan", null))
	_no_filter(object.get(rule, "objectSizeLessThan", null))
}

_no_filter(null)

_no_filter("")

_no_filter(value) if value == {}

# Days after which enabled whole-bucket rules expire current objects (`expiration`) or old versions (`noncurrent`).
_whole_bucket_days(rules, "expiration") := [rule.expiration.days |
	some rule in rules
	rule.enabled == true
	_covers_bucket(rule)
	is_number(rule.expiration.days)
]

_whole_bucket_days(rules, "noncurrent") := [rule.noncurrentVersionExpiration.noncurrentDays |
	some rule in rules
	rule.enabled == true
	_covers_bucket(rule)
	is_number(rule.noncurrentVersionExpiration.noncurrentDays)
]

# METADATA
# title: Buckets declare an Appendix A data category
# custom:
#   control: DPA-RET-001
_judged contains [k, "DPA-RET-001", "violation", "bucket declares no data-category tag"] if {
	some k, g in _buckets
	not g.data_category
	not g.tags_unknown
}

# METADATA
# title: Bucket has no expiring lifecycle rule while its category has a maximum
# custom:
#   control: DPA-RET-002
_judged contains [k, "DPA-RET-002", "violation", msg] if {
	some k, g in _buckets
	bounds := _bounds(g.stack, g.data_category)
	bounds.max != null
	rules := object.get(g.props, "lifecycleRules", [])
	count(_whole_bucket_days(rules, "expiration")) == 0
	not facts.is_unknown(rules)
	not _expiration_unknown(rules)
	msg := sprintf("%v must be deleted after %v days but no enabled lifecycle rule expires every object of the bucket (a rule limited to a prefix, tags or object sizes covers only part)", [g.data_category, bounds.max])
}

_expiration_unknown(rules) if {
	some days in _expirations(rules)
	facts.is_unknown(days)
}

# METADATA
# title: Bucket lifecycle expiration exceeds the category's maximum
# custom:
#   control: DPA-RET-002
_judged contains [k, "DPA-RET-002", "violation", msg] if {
	some k, g in _buckets
	bounds := _bounds(g.stack, g.data_category)
	bounds.max != null
	some days in _expirations(object.get(g.props, "lifecycleRules", []))
	is_number(days)
	days > bounds.max
	msg := sprintf("%v expire after %v days, beyond the maximum of %v", [g.data_category, days, bounds.max])
}

# METADATA
# title: Bucket lifecycle expiration is shorter than the legal minimum
# custom:
#   control: DPA-RET-002
_judged contains [k, "DPA-RET-002", "violation", msg] if {
	some k, g in _buckets
	bounds := _bounds(g.stack, g.data_category)
	bounds.min != null
	some days in _expirations(object.get(g.props, "lifecycleRules", []))
	is_number(days)
	days < bounds.min
	msg := sprintf("%v expire after %v days, before the minimum of %v", [g.data_category, days, bounds.min])
}

# METADATA
# title: Client-set period missing from the stack config
# custom:
#   control: DPA-RET-002
_judged contains [k, "DPA-RET-002", "violation", msg] if {
	some k, g in _buckets
	not _bounds(g.stack, g.data_category)
	key := _client_set[g.data_category]
	msg := sprintf("%v are kept for the period the client set, but the stack does not set %v", [g.data_category, key])
}

# METADATA
# title: Old object versions do not outlive the retention period
# description: |
#   On a versioned bucket, expiring an object makes it an old (noncurrent) version, which lives its
#   noncurrent days more: an object lives its expiration days plus its noncurrent days.
# custom:
#   control: DPA-RET-003
_judged contains [k, "DPA-RET-003", "violation", msg] if {
	some k, g in _buckets
	g.props.versioning.enabled == true
	maximum := _bounds(g.stack, g.data_category).max
	maximum != null
	count(_whole_bucket_days(object.get(g.props, "lifecycleRules", []), "noncurrent")) == 0
	msg := sprintf("versioned bucket keeps old versions of %v with no noncurrent version expiration covering the whole bucket (maximum %v days)", [g.data_category, maximum])
}

# METADATA
# title: An object's expiration plus its noncurrent days exceed the maximum
# custom:
#   control: DPA-RET-003
_judged contains [k, "DPA-RET-003", "violation", msg] if {
	some k, g in _buckets
	g.props.versioning.enabled == true
	maximum := _bounds(g.stack, g.data_category).max
	maximum != null
	rules := object.get(g.props, "lifecycleRules", [])
	noncurrent_days := _whole_bucket_days(rules, "noncurrent")

	# min of an empty set is undefined to OPA and an error to rego-cpp: counted first
	count(noncurrent_days) > 0
	expiration_days := _whole_bucket_days(rules, "expiration")
	count(expiration_days) > 0
	noncurrent := min(noncurrent_days)
	current := min(expiration_days)
	current + noncurrent > maximum
	msg := sprintf("an object of %v lives up to %v days (expiration %v + noncurrent versions %v), beyond the maximum of %v", [g.data_category, current + noncurrent, current, noncurrent, maximum])
}

# METADATA
# title: Old versions alone outlive the maximum
# description: Without a whole-bucket expiration (DPA-RET-002), an object the client deletes lives its noncurrent days.
# custom:
#   control: DPA-RET-003
_judged contains [k, "DPA-RET-003", "violation", msg] if {
	some k, g in _buckets
	g.props.versioning.enabled == true
	maximum := _bounds(g.stack, g.data_category).max
	maximum != null
	rules := object.get(g.props, "lifecycleRules", [])
	count(_whole_bucket_days(rules, "expiration")) == 0
	noncurrent_days := _whole_bucket_days(rules, "noncurrent")
	count(noncurrent_days) > 0
	noncurrent := min(noncurrent_days)
	noncurrent > maximum
	msg := sprintf("old versions of %v are kept %v days, beyond the maximum of %v", [g.data_category, noncurrent, maximum])
}

# METADATA
# title: Each bucket gets the decisions of its group
# description: |
#   Judging and emitting in two rules matters to rego-cpp: in one body it enumerates the group's
#   positions before a negated test, so it would judge every bucket again (measured 6x slower).
decisions contains result.decision(control, r, message, status) if {
	some judged in _judged
	[k, control, status, message] := judged
	some i in _buckets[k].positions
	r := input.resources[i]
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
decisions contains result.config_violation("DPA-RET-005", s, c.client_set, msg) if {
	some s in input.stacks
	some name, c in _categories
	c.client_set != null
	s.settings[trim_prefix(c.client_set, "dpaguard:")] == null
	_stores(s.name, name)
	msg := sprintf("stack config does not set %v (%v: kept for the period the client set)", [c.client_set, c.id])
}

# A stack holds a bucket of this category: a period only matters where such data is kept.
_stores(stack, category) if {
	some i in input.index.data_category[category]
	input.resources[i].stack == stack
}

# METADATA
# title: No store holds a category Appendix A says is not stored
# description: |
#   "Ringover does not store transactional email history containing Client information": a resource
#   tagged with such a category is a store of it, whatever its retention.
# custom:
#   control: DPA-RET-006
decisions contains result.violation("DPA-RET-006", r, msg) if {
	some category, positions in input.index.data_category
	_categories[category].stored == false
	some i in positions
	r := input.resources[i]
	msg := sprintf("tagged data-category %v, which Appendix A says is not stored (%v)", [category, _categories[category].legal_basis])
}
