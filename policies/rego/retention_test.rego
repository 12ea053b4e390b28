package dpaguard.retention_test

import rego.v1

import data.dpaguard.retention

_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_stack(settings) := {
	"name": "prod", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "pulumi_project": "dpa",
	"environment": "prod", "environment_source": "stack name", "scaleway_project": "11111111-1111-1111-1111-111111111111",
	"default_region": "fr-par", "default_zone": "fr-par-1",
	"settings": object.union({"minBackupRetentionDays": 7, "callRecordingRetentionDays": 90, "transcriptRetentionDays": 90}, settings),
	"config_file": "Pulumi.prod.yaml", "plaintext_config_keys": [], "subprocessors": ["SCALEWAY"], "late_subprocessors": [],
}

_context := {"today": "2026-11-29", "unknown": _unknown, "internet": {}, "subprocessor_notice": {"SCALEWAY": 15}}

_index(groups) := object.union(
	{
		"package": {}, "type": {}, "locality": {}, "project": {}, "env_tag": {}, "subprocessor_country": {},
		"data_category": {}, "plaintext": [], "malformed": [], "unknown": [], "foreign": [], "shape": {"bucket": []}, "outside_scope": {},
	},
	groups,
)

_bucket_type := "scaleway:object/bucket:Bucket"

_bucket_urn := "urn:pulumi:prod::dpa::scaleway:object/bucket:Bucket::records"

_expire_after(days) := [{"id": "expire", "enabled": true, "expiration": {"days": days}}]

# One bucket in a stack with `settings`, its facts (data_category, tags_unknown) and props, and its
# group in index.shape.bucket holding exactly what the normaliser's SHAPES["bucket"] keeps.
_bucket_in(settings, facts, props) := {
	"stacks": [_stack(settings)],
	"resources": [object.union({"urn": _bucket_urn, "stack": "prod", "environment": "prod", "props": props}, facts)],
	"index": _index({
		"package": {"scaleway": [0]}, "type": {_bucket_type: [0]},
		"data_category": {category: [0] | category := facts.data_category},
		"shape": {"bucket": [object.union({"stack": "prod", "props": props, "positions": [0]}, object.filter(facts, ["data_category", "tags_unknown"]))]},
	}),
	"context": _context,
}

_bucket(category, props) := _bucket_in({}, {"data_category": category, "env_tag": {"key": "env", "value": "prod", "environment": "prod"}}, props)

test_call_logs_kept_a_year_pass if {
	decisions := retention.decisions with input as _bucket("call-logs", {"lifecycleRules": _expire_after(365)})
	count(decisions) == 0
}

test_call_logs_kept_a_month_break_the_legal_minimum if {
	decisions := retention.decisions with input as _bucket("call-logs", {"lifecycleRules": _expire_after(30)})
	decisions == {{
		"control": "DPA-RET-002", "urn": _bucket_urn, "status": "violation",
		"message": "call-logs expire after 30 days, before the minimum of 365",
	}}
}

test_webhook_logs_kept_a_year_exceed_the_maximum if {
	decisions := retention.decisions with input as _bucket("webhook-logs", {"lifecycleRules": _expire_after(365)})
	decisions == {{
		"control": "DPA-RET-002", "urn": _bucket_urn, "status": "violation",
		"message": "webhook-logs expire after 365 days, beyond the maximum of 31",
	}}
}

test_bucket_without_lifecycle_rules_is_a_violation_when_its_category_has_a_maximum if {
	decisions := retention.decisions with input as _bucket("webhook-logs", {})
	decisions == {{
		"control": "DPA-RET-002", "urn": _bucket_urn, "status": "violation",
		"message": "webhook-logs must be deleted after 31 days but no enabled lifecycle rule expires every object of the bucket (a rule limited to a prefix, tags or object sizes covers only part)",
	}}
}

test_bucket_whose_only_lifecycle_rule_is_disabled_is_a_violation if {
	rules := [{"id": "expire", "enabled": false, "expiration": {"days": 30}}]
	decisions := retention.decisions with input as _bucket("webhook-logs", {"lifecycleRules": rules})
	{d.message | some d in decisions} == {"webhook-logs must be deleted after 31 days but no enabled lifecycle rule expires every object of the bucket (a rule limited to a prefix, tags or object sizes covers only part)"}
}

test_bucket_without_lifecycle_rules_passes_when_its_category_has_no_maximum if {
	decisions := retention.decisions with input as _bucket("fax", {})
	count(decisions) == 0
}

test_recordings_follow_the_client_setting if {
	decisions := retention.decisions with input as _bucket("call-recordings", {"lifecycleRules": _expire_after(90)})
	count(decisions) == 0
}

test_recordings_deleted_before_the_client_setting_pass if {
	# The client deletes earlier from its Dashboard whenever it wants: its period bounds the deletion only.
	decisions := retention.decisions with input as _bucket("call-recordings", {"lifecycleRules": _expire_after(60)})
	count(decisions) == 0
}

test_expiring_rule_limited_to_a_prefix_does_not_cover_the_bucket if {
	rules := [{"id": "tmp", "enabled": true, "prefix": "tmp/", "expiration": {"days": 30}}]
	decisions := retention.decisions with input as _bucket("webhook-logs", {"lifecycleRules": rules})
	decisions == {{
		"control": "DPA-RET-002", "urn": _bucket_urn, "status": "violation",
		"message": "webhook-logs must be deleted after 31 days but no enabled lifecycle rule expires every object of the bucket (a rule limited to a prefix, tags or object sizes covers only part)",
	}}
}

test_expiring_rule_limited_to_tags_or_sizes_does_not_cover_the_bucket if {
	tagged := [{"id": "t", "enabled": true, "tags": {"kind": "tmp"}, "expiration": {"days": 30}}]
	{d.control | some d in retention.decisions} == {"DPA-RET-002"} with input as _bucket("webhook-logs", {"lifecycleRules": tagged})
	sized := [{"id": "s", "enabled": true, "objectSizeGreaterThan": 1024, "expiration": {"days": 30}}]
	{d.control | some d in retention.decisions} == {"DPA-RET-002"} with input as _bucket("webhook-logs", {"lifecycleRules": sized})
}

test_expiring_rule_with_an_empty_prefix_covers_the_bucket if {
	rules := [{"id": "all", "enabled": true, "prefix": "", "tags": {}, "expiration": {"days": 30}}]
	decisions := retention.decisions with input as _bucket("webhook-logs", {"lifecycleRules": rules})
	count(decisions) == 0
}

test_recordings_beyond_the_client_setting_are_a_violation if {
	decisions := retention.decisions with input as _bucket("call-recordings", {"lifecycleRules": _expire_after(120)})
	decisions == {{
		"control": "DPA-RET-002", "urn": _bucket_urn, "status": "violation",
		"message": "call-recordings expire after 120 days, beyond the maximum of 90",
	}}
}

test_recordings_without_the_client_setting_are_a_violation if {
	facts := {"data_category": "call-recordings"}
	decisions := retention.decisions with input as _bucket_in({"callRecordingRetentionDays": null}, facts, {"lifecycleRules": _expire_after(90)})
	{
		"control": "DPA-RET-002", "urn": _bucket_urn, "status": "violation",
		"message": "call-recordings are kept for the period the client set, but the stack does not set dpaguard:callRecordingRetentionDays",
	} in decisions
}

# A value unknown until apply is not judged by this area's rules: the normaliser lists it in `unknown`
# and input_types.rego makes every control that reads it undetermined.
test_lifecycle_expiration_unknown_is_no_violation_here if {
	decisions := retention.decisions with input as _bucket("call-logs", {"lifecycleRules": _expire_after(_unknown)})
	count(decisions) == 0
}

test_bucket_without_data_category_is_a_violation if {
	decisions := retention.decisions with input as _bucket_in({}, {"env_tag": {"key": "env", "value": "prod", "environment": "prod"}}, {})
	decisions == {{
		"control": "DPA-RET-001", "urn": _bucket_urn, "status": "violation",
		"message": "bucket declares no data-category tag",
	}}
}

test_bucket_whose_tags_are_unknown_is_not_judged_on_its_category if {
	decisions := retention.decisions with input as _bucket_in({}, {"tags_unknown": true}, {})
	count(decisions) == 0
}

test_decisions_of_a_group_go_to_every_bucket_of_it if {
	props := {"lifecycleRules": _expire_after(30)}
	group := {"stack": "prod", "data_category": "call-logs", "props": props, "positions": [0, 1]}
	resource := {"stack": "prod", "environment": "prod", "data_category": "call-logs", "props": props}
	two := {
		"stacks": [_stack({})],
		"resources": [object.union(resource, {"urn": "urn:pulumi:prod::dpa::scaleway:object/bucket:Bucket::a"}), object.union(resource, {"urn": "urn:pulumi:prod::dpa::scaleway:object/bucket:Bucket::b"})],
		"index": _index({"type": {_bucket_type: [0, 1]}, "data_category": {"call-logs": [0, 1]}, "shape": {"bucket": [group]}}),
		"context": _context,
	}
	decisions := retention.decisions with input as two
	{d.urn | some d in decisions} == {"urn:pulumi:prod::dpa::scaleway:object/bucket:Bucket::a", "urn:pulumi:prod::dpa::scaleway:object/bucket:Bucket::b"}
	{d.control | some d in decisions} == {"DPA-RET-002"}
}

_versioned(rules) := {"versioning": {"enabled": true}, "lifecycleRules": rules}

test_versioned_bucket_keeping_old_versions_forever_is_a_violation if {
	decisions := retention.decisions with input as _bucket("sms-content", _versioned(_expire_after(364)))
	decisions == {{
		"control": "DPA-RET-003", "urn": _bucket_urn, "status": "violation",
		"message": "versioned bucket keeps old versions of sms-content with no noncurrent version expiration covering the whole bucket (maximum 365 days)",
	}}
}

_expire_both(current, noncurrent) := [{"id": "expire", "enabled": true, "expiration": {"days": current}, "noncurrentVersionExpiration": {"noncurrentDays": noncurrent}}]

test_expiration_plus_noncurrent_days_beyond_the_maximum_is_a_violation if {
	# 365 days current, then one day as an old version: 366 against Appendix A's one year.
	decisions := retention.decisions with input as _bucket("sms-content", _versioned(_expire_both(365, 1)))
	decisions == {{
		"control": "DPA-RET-003", "urn": _bucket_urn, "status": "violation",
		"message": "an object of sms-content lives up to 366 days (expiration 365 + noncurrent versions 1), beyond the maximum of 365",
	}}
}

test_expiration_plus_noncurrent_days_within_the_maximum_passes if {
	decisions := retention.decisions with input as _bucket("sms-content", _versioned(_expire_both(364, 1)))
	count(decisions) == 0
}

test_call_logs_kept_the_legal_year_then_one_day_as_old_version_pass if {
	decisions := retention.decisions with input as _bucket("call-logs", _versioned(_expire_both(365, 1)))
	count(decisions) == 0
}

test_noncurrent_expiration_limited_to_a_prefix_does_not_cover_the_bucket if {
	rules := array.concat(_expire_after(300), [{"id": "old", "enabled": true, "prefix": "tmp/", "noncurrentVersionExpiration": {"noncurrentDays": 1}}])
	decisions := retention.decisions with input as _bucket("sms-content", _versioned(rules))
	{d.control | some d in decisions} == {"DPA-RET-003"}
}

test_old_versions_alone_beyond_the_maximum_are_a_violation if {
	rules := [{"id": "old", "enabled": true, "noncurrentVersionExpiration": {"noncurrentDays": 400}}]
	decisions := retention.decisions with input as _bucket("sms-content", _versioned(rules))
	{
		"control": "DPA-RET-003", "urn": _bucket_urn, "status": "violation",
		"message": "old versions of sms-content are kept 400 days, beyond the maximum of 365",
	} in decisions
}

test_store_of_a_category_appendix_a_says_is_not_stored_is_a_violation if {
	decisions := retention.decisions with input as _bucket("transactional-emails", {"lifecycleRules": _expire_after(1)})
	decisions == {{
		"control": "DPA-RET-006", "urn": _bucket_urn, "status": "violation",
		"message": "tagged data-category transactional-emails, which Appendix A says is not stored (Ringover does not store transactional email history containing Client information)",
	}}
}

test_data_category_outside_appendix_a_is_a_violation if {
	decisions := retention.decisions with input as _bucket("marketing-leads", {})
	decisions == {{
		"control": "DPA-RET-004", "urn": _bucket_urn, "status": "violation",
		"message": "data category marketing-leads is not a category of Appendix A",
	}}
}

test_stack_keeping_transcripts_without_their_period_is_a_violation if {
	transcripts := _bucket_in(
		{"transcriptRetentionDays": null},
		{"data_category": "transcripts", "env_tag": {"key": "env", "value": "prod", "environment": "prod"}},
		{"lifecycleRules": _expire_after(30)},
	)
	decisions := retention.decisions with input as transcripts
	{
		"control": "DPA-RET-005", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "status": "violation",
		"message": "stack config does not set dpaguard:transcriptRetentionDays (transcripts: kept for the period the client set)",
		"config_key": "dpaguard:transcriptRetentionDays",
	} in decisions
}

test_stack_keeping_no_transcripts_needs_no_period if {
	empty := {"stacks": [_stack({"transcriptRetentionDays": null})], "resources": [], "index": _index({}), "context": _context}
	decisions := retention.decisions with input as empty
	count(decisions) == 0
}

test_stack_setting_every_client_set_period_passes if {
	empty := {"stacks": [_stack({})], "resources": [], "index": _index({}), "context": _context}
	decisions := retention.decisions with input as empty
	count(decisions) == 0
}
