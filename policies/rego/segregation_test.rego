package dpaguard.segregation_test

import rego.v1

import data.dpaguard.segregation

_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_prod_project := "11111111-1111-1111-1111-111111111111"

_dev_project := "22222222-2222-2222-2222-222222222222"

_stack(name, environment, project) := {
	"name": name, "urn": sprintf("urn:pulumi:%v::dpa::pulumi:pulumi:Stack::dpa-%v", [name, name]), "pulumi_project": "dpa",
	"environment": environment, "environment_source": "stack name", "scaleway_project": project,
	"default_region": "fr-par", "default_zone": "fr-par-1",
	"settings": {"minBackupRetentionDays": 7, "callRecordingRetentionDays": 90, "transcriptRetentionDays": 90},
	"config_file": sprintf("Pulumi.%v.yaml", [name]), "plaintext_config_keys": [], "subprocessors": ["SCALEWAY"], "late_subprocessors": [],
}

_prod := _stack("prod", "prod", _prod_project)

_dev := _stack("dev", "dev", _dev_project)

_context := {"today": "2026-11-29", "unknown": _unknown, "internet": {}, "subprocessor_notice": {"SCALEWAY": 15}}

_index(groups) := object.union(
	{
		"package": {}, "type": {}, "locality": {}, "project": {}, "env_tag": {}, "subprocessor_country": {},
		"data_category": {}, "plaintext": [], "malformed": [], "unknown": [], "foreign": [], "shape": {"bucket": []}, "outside_scope": {},
	},
	groups,
)

_input(stacks, resource, groups) := {"stacks": stacks, "resources": [resource], "index": _index(groups), "context": _context}

_vpc_urn := "urn:pulumi:prod::dpa::scaleway:network/vpc:Vpc::main"

_known_value(value, "known") := value

_known_value(_, status) := "" if status != "known"

# A taggable VPC of the prod stack, with its effective project and its environment tag `env:<value>`
# as the normaliser resolves and indexes them (the index key is the environment the tag names).
_vpc(project, status, value) := _input(
	[_prod],
	{
		"urn": _vpc_urn, "stack": "prod", "environment": "prod",
		"locality": {"region": "fr-par", "zone": null, "status": "known", "source": "stack"},
		"project": {"value": project, "source": "resource"},
		"env_tag": {"key": "env", "value": value, "environment": value},
		"props": {},
	},
	{
		"package": {"scaleway": [0]}, "type": {"scaleway:network/vpc:Vpc": [0]},
		"locality": {"region": {"known": {"fr-par": [0]}}},
		"project": {"prod": {status: {_known_value(project, status): [0]}}},
		"env_tag": {"prod": {value: [0]}},
	},
)

test_resource_in_its_stack_project_with_its_env_tag_passes if {
	decisions := segregation.decisions with input as _vpc(_prod_project, "known", "prod")
	count(decisions) == 0
}

test_resource_in_another_project_is_a_violation if {
	decisions := segregation.decisions with input as _vpc(_dev_project, "known", "prod")
	decisions == {{
		"control": "DPA-SEG-001", "urn": _vpc_urn, "status": "violation",
		"message": sprintf("project %v (from the resource) is not the stack's project %v", [_dev_project, _prod_project]),
	}}
}

test_resource_whose_project_cannot_be_determined_is_a_violation if {
	decisions := segregation.decisions with input as _vpc(null, "missing", "prod")
	decisions == {{
		"control": "DPA-SEG-001", "urn": _vpc_urn, "status": "violation",
		"message": "Scaleway project cannot be determined (no projectId on the resource or its provider)",
	}}
}

test_a_stack_without_project_is_one_stack_decision if {
	no_project := object.union(_vpc(null, "missing", "prod"), {"stacks": [_stack("prod", "prod", null)]})
	decisions := segregation.decisions with input as no_project
	decisions == {{
		"control": "DPA-SEG-001", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "status": "violation",
		"message": "the stack config sets no Scaleway project (scaleway:projectId or scaleway:project_id): its separation from other environments cannot be shown",
		"config_key": "scaleway:projectId",
	}}
}

test_a_stack_without_project_whose_resources_name_theirs_has_no_stack_decision if {
	# Every resource names its project (here one the program creates): none goes to the credentials' default.
	own_project := object.union(_vpc("growth-project (created by the stack)", "known", "prod"), {"stacks": [_stack("prod", "prod", null)]})
	decisions := segregation.decisions with input as own_project
	count(decisions) == 0
}

test_a_stack_without_project_is_one_decision_when_any_resource_names_none if {
	mixed := object.union(
		_vpc("growth-project (created by the stack)", "known", "prod"),
		{
			"stacks": [_stack("prod", "prod", null)],
			"index": {"project": {"prod": {"known": {"growth-project (created by the stack)": [0]}, "missing": {"": [1]}}}},
		},
	)
	decisions := segregation.decisions with input as mixed
	{d.urn | some d in decisions} == {"urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod"}
}

test_resource_whose_project_is_unknown_is_undetermined if {
	decisions := segregation.decisions with input as _vpc(_unknown, "unknown", "prod")
	decisions == {{
		"control": "DPA-SEG-001", "urn": _vpc_urn, "status": "undetermined",
		"message": "projectId is unknown until apply",
	}}
}

test_resource_tagged_for_another_environment_is_a_violation if {
	decisions := segregation.decisions with input as _vpc(_prod_project, "known", "dev")
	decisions == {{
		"control": "DPA-SEG-002", "urn": _vpc_urn, "status": "violation",
		"message": "tag env is dev, expected prod",
	}}
}

test_resource_tagged_with_a_value_naming_no_environment_is_a_violation if {
	tagged := _input(
		[_prod],
		{
			"urn": _vpc_urn, "stack": "prod", "environment": "prod", "project": {"value": _prod_project, "source": "stack"},
			"env_tag": {"key": "environment", "value": "live-eu", "environment": null}, "props": {},
		},
		{"type": {"scaleway:network/vpc:Vpc": [0]}, "project": {"prod": {"known": {_prod_project: [0]}}}, "env_tag": {"prod": {"live-eu": [0]}}},
	)
	decisions := segregation.decisions with input as tagged
	{d.message | some d in decisions} == {"tag environment is live-eu, expected prod"}
}

test_resource_tagged_production_in_another_spelling_passes if {
	tagged := _input(
		[_prod],
		{
			"urn": _vpc_urn, "stack": "prod", "environment": "prod", "project": {"value": _prod_project, "source": "stack"},
			"env_tag": {"key": "environment", "value": "Production", "environment": "prod"}, "props": {},
		},
		{"type": {"scaleway:network/vpc:Vpc": [0]}, "project": {"prod": {"known": {_prod_project: [0]}}}, "env_tag": {"prod": {"prod": [0]}}},
	)
	decisions := segregation.decisions with input as tagged
	count(decisions) == 0
}

test_resource_without_env_tag_is_a_violation if {
	untagged := _input(
		[_prod],
		{"urn": _vpc_urn, "stack": "prod", "environment": "prod", "project": {"value": _prod_project, "source": "stack"}, "props": {}},
		{"type": {"scaleway:network/vpc:Vpc": [0]}, "project": {"prod": {"known": {_prod_project: [0]}}}, "env_tag": {"prod": {"": [0]}}},
	)
	decisions := segregation.decisions with input as untagged
	decisions == {{
		"control": "DPA-SEG-002", "urn": _vpc_urn, "status": "violation",
		"message": "no env tag, expected env:prod",
	}}
}

_empty(stacks) := {"stacks": stacks, "resources": [], "index": _index({}), "context": _context}

test_stacks_of_two_environments_sharing_a_project_are_each_a_violation if {
	decisions := segregation.decisions with input as _empty([_prod, _stack("dev", "dev", _prod_project)])
	decisions == {
		{
			"control": "DPA-SEG-003", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "status": "violation",
			"message": sprintf("Scaleway project %v is also used by stack dev (dev)", [_prod_project]),
		},
		{
			"control": "DPA-SEG-003", "urn": "urn:pulumi:dev::dpa::pulumi:pulumi:Stack::dpa-dev", "status": "violation",
			"message": sprintf("Scaleway project %v is also used by stack prod (prod)", [_prod_project]),
		},
	}
}

test_stacks_of_one_environment_may_share_a_project if {
	decisions := segregation.decisions with input as _empty([_prod, _stack("prod-eu", "prod", _prod_project)])
	count(decisions) == 0
}

test_stacks_without_a_project_do_not_share_one if {
	decisions := segregation.decisions with input as _empty([_stack("prod", "prod", null), _stack("dev", "dev", null)])
	count(decisions) == 0
}

test_stacks_in_their_own_projects_pass if {
	decisions := segregation.decisions with input as _empty([_prod, _dev])
	count(decisions) == 0
}

# A resource of the dev stack that shares something (kind) owned by the prod stack too.
_sharing(kind, type_token, owner_urn) := _input(
	[_prod, _dev],
	{
		"urn": sprintf("urn:pulumi:dev::dpa::%v::shared", [type_token]), "stack": "dev", "environment": "dev",
		"props": {},
		"foreign": [{"kind": kind, "stack": "prod", "environment": "prod", "urn": owner_urn}],
	},
	{"type": {type_token: [0]}, "foreign": [0]},
)

test_resource_sharing_a_network_with_another_environment_is_a_violation if {
	owner := "urn:pulumi:prod::dpa::scaleway:network/privateNetwork:PrivateNetwork::pn"
	decisions := segregation.decisions with input as _sharing("network", "scaleway:network/privateNetwork:PrivateNetwork", owner)
	decisions == {{
		"control": "DPA-SEG-004", "urn": "urn:pulumi:dev::dpa::scaleway:network/privateNetwork:PrivateNetwork::shared", "status": "violation",
		"message": sprintf("shares a network (%v) with stack prod (prod)", [owner]),
	}}
}

test_resource_sharing_a_server_with_another_environment_is_a_violation if {
	owner := "urn:pulumi:prod::dpa::pulumi-python:dynamic/datapacket:Server::sip-1"
	decisions := segregation.decisions with input as _sharing("server", "pulumi-python:dynamic/datapacket:Server", owner)
	{d.control | some d in decisions} == {"DPA-SEG-005"}
	{d.message | some d in decisions} == {sprintf("shares a server (%v) with stack prod (prod)", [owner])}
}

test_resource_sharing_a_database_with_another_environment_is_a_violation if {
	owner := "urn:pulumi:prod::dpa::scaleway:databases/instance:Instance::main"
	decisions := segregation.decisions with input as _sharing("database", "scaleway:databases/instance:Instance", owner)
	{d.control | some d in decisions} == {"DPA-SEG-006"}
	{d.message | some d in decisions} == {sprintf("shares a database (%v) with stack prod (prod)", [owner])}
}

test_resource_sharing_nothing_passes if {
	alone := _input(
		[_prod, _dev],
		{"urn": "urn:pulumi:dev::dpa::scaleway:databases/instance:Instance::main", "stack": "dev", "environment": "dev", "props": {}},
		{"type": {"scaleway:databases/instance:Instance": [0]}},
	)
	decisions := segregation.decisions with input as alone
	count(decisions) == 0
}

_reference_urn(stack) := sprintf("urn:pulumi:%v::dpa::pulumi:pulumi:StackReference::upstream", [stack])

# A StackReference in `stack` (of `environment`) to `target`, resolved by the normaliser (_stack_reference).
_reference(stack, environment, target, target_environment) := _input(
	[_stack(stack, environment, _dev_project)],
	{
		"urn": _reference_urn(stack), "stack": stack, "environment": environment, "props": {},
		"stack_reference": {"target": target, "environment": target_environment},
	},
	{"package": {"pulumi": [0]}, "type": {"pulumi:pulumi:StackReference": [0]}},
)

test_dev_stack_reading_production_is_a_violation if {
	decisions := segregation.decisions with input as _reference("dev", "dev", "acme/dpa/prod", "prod")
	decisions == {{
		"control": "DPA-SEG-007", "urn": _reference_urn("dev"), "status": "violation",
		"message": "dev stack reads production stack acme/dpa/prod",
	}}
}

test_dev_stack_reading_dev_passes if {
	decisions := segregation.decisions with input as _reference("dev", "dev", "acme/dpa/sandbox", "dev")
	count(decisions) == 0
}

test_production_stack_reading_production_passes if {
	decisions := segregation.decisions with input as _reference("prod", "prod", "acme/network/prod", "prod")
	count(decisions) == 0
}

test_stack_reference_target_unknown_is_undetermined if {
	decisions := segregation.decisions with input as _reference("staging", "staging", null, "unknown")
	decisions == {{
		"control": "DPA-SEG-007", "urn": _reference_urn("staging"), "status": "undetermined",
		"message": "the referenced stack is unknown until apply",
	}}
}
