package dpaguard.lib.result_test

import rego.v1

import data.dpaguard.lib.result

_bucket := {"urn": "urn:pulumi:prod::dpa::scaleway:object/bucket:Bucket::records", "stack": "prod", "environment": "prod", "props": {}}

_stack := {"name": "prod", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "environment": "prod"}

test_violation_builds_a_decision_with_the_subject_urn if {
	result.violation("DPA-RET-001", _bucket, "no tag") == {
		"control": "DPA-RET-001",
		"urn": "urn:pulumi:prod::dpa::scaleway:object/bucket:Bucket::records",
		"message": "no tag",
		"status": "violation",
	}
}

test_undetermined_builds_a_decision_of_status_undetermined if {
	result.undetermined("DPA-RES-001", _bucket, "region unknown") == {
		"control": "DPA-RES-001",
		"urn": "urn:pulumi:prod::dpa::scaleway:object/bucket:Bucket::records",
		"message": "region unknown",
		"status": "undetermined",
	}
}

test_decision_on_a_stack_takes_the_stack_urn if {
	d := result.decision("DPA-SEC-002", _stack, "plaintext key", "violation")
	d.urn == "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod"
	object.keys(d) == {"control", "urn", "message", "status"}
}

test_decision_is_undefined_for_a_subject_without_urn if {
	not result.violation("DPA-SEC-002", {"name": "prod"}, "plaintext key")
}

test_config_violation_names_the_config_key if {
	result.config_violation("DPA-SEC-002", _stack, "dpa:dbPassword", "plaintext key") == {
		"control": "DPA-SEC-002",
		"urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod",
		"message": "plaintext key",
		"status": "violation",
		"config_key": "dpa:dbPassword",
	}
}
