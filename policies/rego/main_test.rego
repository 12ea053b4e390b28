package dpaguard.main_test

import rego.v1

import data.dpaguard.access
import data.dpaguard.backup
import data.dpaguard.incident
import data.dpaguard.input_types
import data.dpaguard.main
import data.dpaguard.residency
import data.dpaguard.retention
import data.dpaguard.secrets
import data.dpaguard.segregation
import data.dpaguard.subprocessor
import data.dpaguard.transit_encryption
import data.dpaguard.updates

_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_context := {"today": "2026-11-29", "unknown": _unknown, "internet": {}, "subprocessor_notice": {"SCALEWAY": 15}}

_index(groups) := object.union(
	{
		"package": {}, "type": {}, "locality": {}, "project": {}, "env_tag": {}, "subprocessor_country": {},
		"data_category": {}, "plaintext": [], "malformed": [], "unknown": [], "foreign": [], "shape": {"bucket": []}, "outside_scope": {},
	},
	groups,
)

# A prod stack that breaks one stack-level control of several areas: a plaintext secret in its config
# (secrets), a sub-processor used too soon (subprocessor), no transcript retention (retention).
_stack := {
	"name": "prod", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "pulumi_project": "dpa",
	"environment": "prod", "environment_source": "stack name", "scaleway_project": "11111111-1111-1111-1111-111111111111",
	"default_region": "fr-par", "default_zone": "fr-par-1",
	"settings": {"minBackupRetentionDays": 7, "callRecordingRetentionDays": 90, "transcriptRetentionDays": null},
	"config_file": "Pulumi.prod.yaml", "plaintext_config_keys": ["dpa:apiToken"], "subprocessors": ["SCALEWAY"],
	"late_subprocessors": [{"name": "SCALEWAY", "working_days": 4}], "alerting": false,
}

_database_urn := "urn:pulumi:prod::dpa::scaleway:databases/instance:Instance::main"

_backend_urn := "urn:pulumi:prod::dpa::scaleway:loadbalancers/backend:Backend::api"

# A database in the Netherlands, with backups off, no private network, a plaintext password, an
# untyped retention, no project and no env tag; and a load-balancer backend without SSL bridging.
_estate := {
	"stacks": [_stack],
	"resources": [
		{
			"urn": _database_urn, "stack": "prod", "environment": "prod",
			"locality": {"region": "nl-ams", "zone": null, "status": "known", "source": "resource"},
			"project": {"value": null, "source": "none"}, "data_category": "transcripts",
			"props": {"disableBackup": true, "isHaCluster": true, "backupSameRegion": true, "encryptionAtRest": true, "engine": "PostgreSQL-13"},
			"linked": {"acl": true},
			"plaintext_paths": ["password"],
			"malformed": [{"path": "backupScheduleRetention", "expected": "a whole number", "found": "text", "controls": ["DPA-BAK-002"]}],
		},
		{
			"urn": _backend_urn, "stack": "prod", "environment": "prod",
			"locality": {"region": "fr-par", "zone": null, "status": "known", "source": "stack"},
			"project": {"value": "11111111-1111-1111-1111-111111111111", "source": "stack"},
			"props": {"sslBridging": false},
		},
	],
	"index": _index({
		"package": {"scaleway": [0, 1]},
		"type": {"scaleway:databases/instance:Instance": [0], "scaleway:loadbalancers/backend:Backend": [1]},
		"locality": {"region": {"known": {"nl-ams": [0], "fr-par": [1]}}},
		"project": {"prod": {"missing": {"": [0]}, "known": {"11111111-1111-1111-1111-111111111111": [1]}}},
		"env_tag": {"prod": {"": [0], "prod": [1]}},
		"subprocessor_country": {"SCALEWAY": {"NL": [0], "FR": [1]}},
		"plaintext": [0],
		"malformed": [0],
		"data_category": {"transcripts": [0]},
	}),
	"context": _context,
}

test_every_area_decision_is_a_main_decision if {
	areas := [
		residency.decisions, transit_encryption.decisions, segregation.decisions, backup.decisions, retention.decisions,
		subprocessor.decisions, access.decisions, secrets.decisions, input_types.decisions, updates.decisions,
		incident.decisions,
	] with input as _estate
	every decisions in areas {
		count(decisions) > 0
	}
	every_decision := {d | some decisions in areas; some d in decisions}
	decisions := main.decisions with input as _estate
	decisions == every_decision
}

test_main_holds_a_decision_of_each_area if {
	decisions := main.decisions with input as _estate
	{d.control | some d in decisions} == {
		"DPA-RES-001", # residency: nl-ams
		"DPA-TLS-003", # transit encryption: no SSL bridging
		"DPA-SEG-001", "DPA-SEG-002", # segregation: no project, no env tag
		"DPA-BAK-001", # backup: backups disabled
		"DPA-RET-005", # retention: transcripts kept, no transcript period
		"DPA-SUB-002", "DPA-SUB-003", # sub-processors: hosted in NL, used too soon
		"DPA-ACC-005", # access: no private network
		"DPA-SEC-001", "DPA-SEC-002", # secrets: plaintext password, plaintext config
		"DPA-BAK-002", # input types: backupScheduleRetention of the wrong type (undetermined)
		"DPA-UPD-002", # updates: PostgreSQL-13 is past its end of life
		"DPA-INC-001", # incident: no alert manager
	}
	{
		"control": "DPA-BAK-002", "urn": _database_urn, "status": "undetermined",
		"message": "backupScheduleRetention is text where the provider takes a whole number: cannot be judged",
	} in decisions
}

test_a_compliant_estate_has_no_decisions if {
	stack := object.union(_stack, {
		"settings": {"minBackupRetentionDays": 7, "callRecordingRetentionDays": 90, "transcriptRetentionDays": 90},
		"plaintext_config_keys": [], "late_subprocessors": [], "alerting": true,
	})
	backend := {
		"urn": _backend_urn, "stack": "prod", "environment": "prod",
		"locality": {"region": "fr-par", "zone": null, "status": "known", "source": "stack"},
		"project": {"value": "11111111-1111-1111-1111-111111111111", "source": "stack"},
		"env_tag": {"key": "env", "value": "prod", "environment": "prod"},
		"props": {"sslBridging": true},
	}
	alerts := {
		"urn": "urn:pulumi:prod::dpa::scaleway:observability/alertManager:AlertManager::alerts", "stack": "prod",
		"environment": "prod", "locality": {"region": "fr-par", "zone": null, "status": "known", "source": "resource"},
		"project": {"value": "11111111-1111-1111-1111-111111111111", "source": "stack"},
		"props": {"contactPoints": [{"email": "oncall@example.org"}], "preconfiguredAlertIds": ["alert-1"]},
	}
	estate := {
		"stacks": [stack],
		"resources": [backend, alerts],
		"index": _index({
			"package": {"scaleway": [0, 1]},
			"type": {"scaleway:loadbalancers/backend:Backend": [0], "scaleway:observability/alertManager:AlertManager": [1]},
			"locality": {"region": {"known": {"fr-par": [0, 1]}}},
			"project": {"prod": {"known": {"11111111-1111-1111-1111-111111111111": [0, 1]}}},
			"env_tag": {"prod": {"prod": [0]}},
			"subprocessor_country": {"SCALEWAY": {"FR": [0, 1]}},
		}),
		"context": _context,
	}
	decisions := main.decisions with input as estate
	count(decisions) == 0
}

test_an_empty_evaluation_has_no_decisions if {
	decisions := main.decisions with input as {"stacks": [], "resources": [], "index": _index({}), "context": _context}
	count(decisions) == 0
}
