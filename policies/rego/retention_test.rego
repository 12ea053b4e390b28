# Each test_<case> runs with input_<case> as its input (set by tests/policies/test_rego_units.py):
# regopy 1.5.2 crashes on `with input as` when the policy under test calls a function.
package dpaguard.retention_test

import rego.v1

import data.dpaguard.retention

_bucket(category, days) := {
	"stacks": [{"name": "prod", "urn": "urn:pulumi:prod::p::pulumi:pulumi:Stack::p-prod", "settings": {"callRecordingRetentionDays": 90, "transcriptRetentionDays": 90}}],
	"resources": [{
		"urn": "urn:pulumi:prod::p::scaleway:object/bucket:Bucket::b",
		"stack": "prod",
		"environment": "prod",
		"data_category": category,
		"props": {"lifecycleRules": [{"enabled": true, "expiration": {"days": days}}]},
	}],
	"index": {
		"all": [0], "type": {"scaleway:object/bucket:Bucket": [0]}, "data_category": {category: [0]},
		"shape": {"bucket": [{
			"stack": "prod", "data_category": category,
			"props": {"lifecycleRules": [{"enabled": true, "expiration": {"days": days}}]},
			"positions": [0],
		}]},
	},
	"context": {"unknown": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"},
}

input_call_logs_kept_a_month_break_the_legal_minimum := _bucket("call-logs", 30)

test_call_logs_kept_a_month_break_the_legal_minimum if {
	decisions := retention.decisions
	some d in decisions
	d.control == "DPA-RET-002"
	contains(d.message, "before the minimum")
}

input_webhook_logs_kept_a_year_exceed_the_maximum := _bucket("webhook-logs", 365)

test_webhook_logs_kept_a_year_exceed_the_maximum if {
	decisions := retention.decisions
	some d in decisions
	d.control == "DPA-RET-002"
	contains(d.message, "beyond the maximum")
}

input_recordings_follow_the_client_setting := _bucket("call-recordings", 90)

test_recordings_follow_the_client_setting if {
	decisions := retention.decisions
	count(decisions) == 0
}

input_recordings_beyond_the_client_setting_are_a_violation := _bucket("call-recordings", 120)

test_recordings_beyond_the_client_setting_are_a_violation if {
	decisions := retention.decisions
	some d in decisions
	d.control == "DPA-RET-002"
}
