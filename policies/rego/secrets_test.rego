package dpaguard.secrets_test

import rego.v1

import data.dpaguard.secrets

_stack(plaintext_keys) := {
	"name": "prod", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "pulumi_project": "dpa",
	"environment": "prod", "environment_source": "stack name", "scaleway_project": "11111111-1111-1111-1111-111111111111",
	"default_region": "fr-par", "default_zone": "fr-par-1",
	"settings": {"minBackupRetentionDays": 7, "callRecordingRetentionDays": 90, "transcriptRetentionDays": 90},
	"config_file": "Pulumi.prod.yaml", "plaintext_config_keys": plaintext_keys, "subprocessors": ["SCALEWAY"], "late_subprocessors": [],
}

_context := {"today": "2026-11-29", "unknown": "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "internet": {}, "subprocessor_notice": {"SCALEWAY": 15}}

_index(groups) := object.union(
	{
		"package": {}, "type": {}, "locality": {}, "project": {}, "env_tag": {}, "subprocessor_country": {},
		"data_category": {}, "plaintext": [], "malformed": [], "unknown": [], "foreign": [], "shape": {"bucket": []}, "outside_scope": {},
	},
	groups,
)

_database_urn := "urn:pulumi:prod::dpa::scaleway:databases/instance:Instance::main"

# A database with these props whose inputs hold sensitive values in plaintext at `paths` (the
# normaliser redacts them and lists their paths).
_database_with(props, paths) := {
	"stacks": [_stack([])],
	"resources": [object.union(
		{"urn": _database_urn, "stack": "prod", "environment": "prod", "props": props},
		{"plaintext_paths": paths | count(paths) > 0},
	)],
	"index": _index({"type": {"scaleway:databases/instance:Instance": [0]}, "plaintext": [0 | count(paths) > 0]}),
	"context": _context,
}

_database(paths) := _database_with({"encryptionAtRest": true}, paths)

test_password_in_plaintext_is_a_violation if {
	decisions := secrets.decisions with input as _database(["password"])
	decisions == {{
		"control": "DPA-SEC-001", "urn": _database_urn, "status": "violation",
		"message": "property password holds a credential in plaintext (not a secret)",
	}}
}

test_each_plaintext_credential_is_a_violation if {
	decisions := secrets.decisions with input as _database(["password", "userName.token"])
	{d.message | some d in decisions} == {
		"property password holds a credential in plaintext (not a secret)",
		"property userName.token holds a credential in plaintext (not a secret)",
	}
}

test_resource_without_plaintext_credentials_passes if {
	decisions := secrets.decisions with input as _database([])
	count(decisions) == 0
}

test_database_without_encryption_at_rest_is_a_violation if {
	decisions := secrets.decisions with input as _database_with({}, [])
	decisions == {{
		"control": "DPA-SEC-003", "urn": _database_urn, "status": "violation",
		"message": "database is not encrypted at rest (encryptionAtRest)",
	}}
}

test_database_with_encryption_at_rest_disabled_is_a_violation if {
	decisions := secrets.decisions with input as _database_with({"encryptionAtRest": false}, [])
	{d.control | some d in decisions} == {"DPA-SEC-003"}
}

test_database_encryption_at_rest_unknown_is_not_a_violation if {
	decisions := secrets.decisions with input as _database_with({"encryptionAtRest": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}, [])
	count(decisions) == 0
}

_bucket_urn := "urn:pulumi:prod::dpa::scaleway:object/bucket:Bucket::records"

# A bucket of a data category; `sse`: whether a server-side encryption configuration names it (the
# normaliser's `linked.sse`, from properties.yaml links).
_bucket(category, sse) := {
	"stacks": [_stack([])],
	"resources": [{
		"urn": _bucket_urn, "stack": "prod", "environment": "prod", "data_category": category,
		"env_tag": {"key": "env", "value": "prod", "environment": "prod"}, "linked": {"sse": sse}, "props": {},
	}],
	"index": _index({
		"type": {"scaleway:object/bucket:Bucket": [0]}, "data_category": {category: [0]},
		"shape": {"bucket": [{"stack": "prod", "data_category": category, "props": {}, "positions": [0]}]},
	}),
	"context": _context,
}

test_personal_data_bucket_no_encryption_configuration_names_is_a_violation if {
	decisions := secrets.decisions with input as _bucket("call-logs", false)
	decisions == {{
		"control": "DPA-SEC-004", "urn": _bucket_urn, "status": "violation",
		"message": "bucket holds call-logs (personal data) and no server-side encryption configuration names it",
	}}
}

test_personal_data_bucket_encrypted_server_side_passes if {
	decisions := secrets.decisions with input as _bucket("transcripts", true)
	count(decisions) == 0
}

test_bucket_of_non_personal_data_needs_no_encryption_configuration if {
	decisions := secrets.decisions with input as _bucket("general-information", false)
	count(decisions) == 0
}

_config(keys) := {"stacks": [_stack(keys)], "resources": [], "index": _index({}), "context": _context}

test_sensitive_config_value_in_plaintext_is_a_violation if {
	decisions := secrets.decisions with input as _config(["dpa:databasePassword"])
	decisions == {{
		"control": "DPA-SEC-002", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "status": "violation",
		"message": "config key dpa:databasePassword looks sensitive but is not secure: (use pulumi config set --secret)",
		"config_key": "dpa:databasePassword",
	}}
}

test_config_without_plaintext_secrets_passes if {
	decisions := secrets.decisions with input as _config([])
	count(decisions) == 0
}
