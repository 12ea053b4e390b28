package dpaguard.subprocessor_test

import rego.v1

import data.dpaguard.subprocessor

_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_stack(name, environment, late) := {
	"name": name, "urn": sprintf("urn:pulumi:%v::dpa::pulumi:pulumi:Stack::dpa-%v", [name, name]), "pulumi_project": "dpa",
	"environment": environment, "environment_source": "stack name", "scaleway_project": "11111111-1111-1111-1111-111111111111",
	"default_region": "fr-par", "default_zone": "fr-par-1",
	"settings": {"minBackupRetentionDays": 7, "callRecordingRetentionDays": 90, "transcriptRetentionDays": 90},
	"config_file": sprintf("Pulumi.%v.yaml", [name]), "plaintext_config_keys": [], "subprocessors": ["SCALEWAY"], "late_subprocessors": late,
}

_prod := _stack("prod", "prod", [])

_context := {"today": "2026-11-29", "unknown": _unknown, "internet": {}, "subprocessor_notice": {"SCALEWAY": 15}}

_index(groups) := object.union(
	{
		"package": {}, "type": {}, "locality": {}, "project": {}, "env_tag": {}, "subprocessor_country": {},
		"data_category": {}, "plaintext": [], "malformed": [], "unknown": [], "foreign": [], "shape": {"bucket": []}, "outside_scope": {},
	},
	groups,
)

_urn(type_token) := sprintf("urn:pulumi:prod::dpa::%v::r", [type_token])

# One resource of a type from a provider package; `groups` adds index entries (subprocessor_country).
_resource(type_token, package_name, groups) := {
	"stacks": [_prod],
	"resources": [{"urn": _urn(type_token), "stack": "prod", "environment": "prod", "props": {}}],
	"index": _index(object.union({"package": {package_name: [0]}, "type": {type_token: [0]}}, groups)),
	"context": _context,
}

_aws_provider := "urn:pulumi:prod::dpa::pulumi:providers:aws::default_7_51_1"

# The prod stack with its resources grouped by provider package, as the normaliser groups them.
_packages(groups) := {
	"stacks": [object.union(_prod, {"packages": groups})],
	"resources": [],
	"index": _index({}),
	"context": _context,
}

test_an_unregistered_provider_is_one_violation_on_its_provider_with_count_services_and_regions if {
	groups := [{"package": "aws", "urn": _aws_provider, "count": 12, "regions": "eu-west-1, us-east-1", "services": "ec2, s3"}]
	decisions := subprocessor.decisions with input as _packages(groups)
	decisions == {{
		"control": "DPA-SUB-001", "urn": _aws_provider, "status": "violation",
		"message": "provider aws is not an approved sub-processor of Appendix B: 12 resources (ec2, s3) in eu-west-1, us-east-1",
	}}
}

test_an_unregistered_provider_without_regions_says_so if {
	groups := [{"package": "aws", "urn": _aws_provider, "count": 1, "regions": "", "services": "s3"}]
	decisions := subprocessor.decisions with input as _packages(groups)
	decisions == {{
		"control": "DPA-SUB-001", "urn": _aws_provider, "status": "violation",
		"message": "provider aws is not an approved sub-processor of Appendix B: 1 resource (s3) in a region the program does not state",
	}}
}

test_registered_and_non_processing_providers_pass if {
	groups := [
		{"package": "scaleway", "urn": "urn:pulumi:prod::dpa::pulumi:providers:scaleway::default", "count": 3, "regions": "fr-par", "services": "network"},
		{"package": "kubernetes", "urn": "urn:pulumi:prod::dpa::pulumi:providers:kubernetes::k8s", "count": 9, "regions": "", "services": "apps"},
	]
	decisions := subprocessor.decisions with input as _packages(groups)
	count(decisions) == 0
}

test_resource_of_a_registered_provider_passes if {
	groups := {"subprocessor_country": {"SCALEWAY": {"FR": [0]}}}
	decisions := subprocessor.decisions with input as _resource("scaleway:network/vpc:Vpc", "scaleway", groups)
	count(decisions) == 0
}

test_resource_of_a_non_processing_package_passes if {
	decisions := subprocessor.decisions with input as _resource("random:index/randomPassword:RandomPassword", "random", {})
	count(decisions) == 0
}

test_resource_hosted_where_appendix_b_does_not_say_is_a_violation if {
	groups := {"subprocessor_country": {"SCALEWAY": {"NL": [0]}}}
	decisions := subprocessor.decisions with input as _resource("scaleway:network/vpc:Vpc", "scaleway", groups)
	decisions == {{
		"control": "DPA-SUB-002", "urn": _urn("scaleway:network/vpc:Vpc"), "status": "violation",
		"message": "hosted in NL, but Appendix B registers SCALEWAY in FR",
	}}
}

test_resource_whose_country_is_unknown_is_not_judged_on_it if {
	groups := {"subprocessor_country": {"DATAPACKET": {"unknown": [0]}}}
	decisions := subprocessor.decisions with input as _resource("pulumi-python:dynamic/datapacket:Server", "datapacket", groups)
	count(decisions) == 0
}

_empty(stacks) := {"stacks": stacks, "resources": [], "index": _index({}), "context": _context}

test_sub_processor_used_before_ten_working_days_is_a_violation if {
	late := _stack("prod", "prod", [{"name": "SCALEWAY", "working_days": 4}])
	decisions := subprocessor.decisions with input as _empty([late])
	decisions == {{
		"control": "DPA-SUB-003", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "status": "violation",
		"message": "SCALEWAY was added 4 working days after the client was notified (10 required)",
	}}
}

test_sub_processors_notified_in_time_pass if {
	decisions := subprocessor.decisions with input as _empty([_prod])
	count(decisions) == 0
}

test_sub_processor_without_register_dates_is_undetermined if {
	undated := object.union(_prod, {"undated_subprocessors": ["SCALEWAY"]})
	decisions := subprocessor.decisions with input as _empty([undated])
	decisions == {{
		"control": "DPA-SUB-006", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "status": "undetermined",
		"message": "SCALEWAY: the register records no notification or addition date, so Article 4.3's ten working days' notice cannot be shown",
	}}
}

test_sub_processor_without_register_dates_is_never_late if {
	undated := object.union(_prod, {"undated_subprocessors": ["SCALEWAY"]})
	decisions := subprocessor.decisions with input as _empty([undated])
	not "DPA-SUB-003" in {d.control | some d in decisions}
}

test_resource_of_a_service_appendix_b_does_not_register_is_a_violation if {
	groups := {"outside_scope": {"SCALEWAY": {"scaleway:tem/domain:Domain": [0]}}}
	decisions := subprocessor.decisions with input as _resource("scaleway:tem/domain:Domain", "scaleway", groups)
	decisions == {{
		"control": "DPA-SUB-005", "urn": _urn("scaleway:tem/domain:Domain"), "status": "violation",
		"message": "scaleway:tem/domain:Domain is outside the service Appendix B registers SCALEWAY for (Storage of our databases, cloud service, API load balancer & CDN/S3)",
	}}
}

test_resource_of_a_registered_service_passes if {
	decisions := subprocessor.decisions with input as _resource("scaleway:object/bucket:Bucket", "scaleway", {})
	count(decisions) == 0
}
