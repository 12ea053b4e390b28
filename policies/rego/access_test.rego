package dpaguard.access_test

import rego.v1

import data.dpaguard.access

_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_prod := {
	"name": "prod", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "pulumi_project": "dpa",
	"environment": "prod", "environment_source": "stack name", "scaleway_project": "11111111-1111-1111-1111-111111111111",
	"default_region": "fr-par", "default_zone": "fr-par-1",
	"settings": {"minBackupRetentionDays": 7, "callRecordingRetentionDays": 90, "transcriptRetentionDays": 90},
	"config_file": "Pulumi.prod.yaml", "plaintext_config_keys": [], "subprocessors": ["SCALEWAY"], "late_subprocessors": [],
}

_context := {
	"today": "2026-11-29", "unknown": _unknown,
	"internet": {"0.0.0.0/0": true, "::/0": true, "10.0.0.0/8": false, "203.0.113.7/32": false},
	"subprocessor_notice": {"SCALEWAY": 15},
}

_index(groups) := object.union(
	{
		"package": {}, "type": {}, "locality": {}, "project": {}, "env_tag": {}, "subprocessor_country": {},
		"data_category": {}, "plaintext": [], "malformed": [], "unknown": [], "foreign": [], "shape": {"bucket": []}, "outside_scope": {},
	},
	groups,
)

_urn(type_token) := sprintf("urn:pulumi:prod::dpa::%v::r", [type_token])

# One Scaleway resource of a type with these facts (props, inbound_rules), indexed as the normaliser does.
_one(type_token, facts) := {
	"stacks": [_prod],
	"resources": [object.union(
		{
			"urn": _urn(type_token), "stack": "prod", "environment": "prod",
			"project": {"value": "11111111-1111-1111-1111-111111111111", "source": "stack"},
		},
		facts,
	)],
	"index": _index({"package": {"scaleway": [0]}, "type": {type_token: [0]}}),
	"context": _context,
}

_sg_type := "scaleway:instance/securityGroup:SecurityGroup"

_sg(policy, rules) := _one(_sg_type, {"props": {"inboundDefaultPolicy": policy}, "inbound_rules": rules})

# An inbound rule as the normaliser makes it explicit (_inbound_rules).
_rule(port, source, internet) := {
	"action": "accept", "protocol": "TCP", "port_from": port, "port_to": port,
	"source": source, "internet": internet,
}

test_accept_by_default_is_a_violation if {
	decisions := access.decisions with input as _sg("accept", [])
	decisions == {{
		"control": "DPA-ACC-001", "urn": _urn(_sg_type), "status": "violation",
		"message": "inbound default policy is accept: everything not listed is accepted",
	}}
}

test_inbound_default_policy_missing_is_a_violation if {
	decisions := access.decisions with input as _one(_sg_type, {"props": {}, "inbound_rules": []})
	decisions == {{
		"control": "DPA-ACC-001", "urn": _urn(_sg_type), "status": "violation",
		"message": "inbound default policy is unset, which accepts everything not listed",
	}}
}

test_drop_by_default_passes if {
	decisions := access.decisions with input as _sg("drop", [])
	count(decisions) == 0
}

test_ssh_open_to_the_internet_is_a_violation if {
	decisions := access.decisions with input as _sg("drop", [_rule(22, "0.0.0.0/0", true)])
	decisions == {{
		"control": "DPA-ACC-002", "urn": _urn(_sg_type), "status": "violation",
		"message": "inbound TCP port 22 (SSH) is open to the internet (0.0.0.0/0)",
	}}
}

test_every_port_open_to_the_internet_breaks_each_admin_port if {
	every_port := object.union(_rule(1, "any", true), {"port_to": 65535})
	decisions := access.decisions with input as _sg("drop", [every_port])
	count(decisions) == count(data.dpa.settings.admin_ports)
	{d.control | some d in decisions} == {"DPA-ACC-002"}
}

test_security_group_rules_resource_is_judged_too if {
	rules_type := "scaleway:instance/securityGroupRules:SecurityGroupRules"
	decisions := access.decisions with input as _one(rules_type, {"props": {}, "inbound_rules": [_rule(5432, "::/0", true)]})
	{d.message | some d in decisions} == {"inbound TCP port 5432 (PostgreSQL) is open to the internet (::/0)"}
}

test_ssh_from_an_admin_range_passes if {
	decisions := access.decisions with input as _sg("drop", [_rule(22, "203.0.113.7/32", false)])
	count(decisions) == 0
}

test_https_open_to_the_internet_passes if {
	decisions := access.decisions with input as _sg("drop", [_rule(443, "0.0.0.0/0", true)])
	count(decisions) == 0
}

test_dropped_ssh_passes if {
	decisions := access.decisions with input as _sg("drop", [object.union(_rule(22, "0.0.0.0/0", true), {"action": "drop"})])
	count(decisions) == 0
}

# A value unknown until apply is not judged by this area's rules: the normaliser lists it in `unknown`
# and input_types.rego makes every control that reads it undetermined.
test_inbound_rule_unknown_is_no_violation_here if {
	unknown_rule := _rule(22, _unknown, false)
	decisions := access.decisions with input as _sg("drop", [unknown_rule])
	count(decisions) == 0
}

_redis_type := "scaleway:redis/cluster:Cluster"

test_redis_acl_open_to_the_internet_is_a_violation if {
	decisions := access.decisions with input as _one(_redis_type, {"props": {"acls": [{"ip": "0.0.0.0/0"}], "tlsEnabled": true}})
	decisions == {{
		"control": "DPA-ACC-003", "urn": _urn(_redis_type), "status": "violation",
		"message": "Redis ACL admits the internet (0.0.0.0/0)",
	}}
}

test_redis_without_private_network_or_acl_is_a_violation if {
	decisions := access.decisions with input as _one(_redis_type, {"props": {"tlsEnabled": true}})
	decisions == {{
		"control": "DPA-ACC-003", "urn": _urn(_redis_type), "status": "violation",
		"message": "Redis cluster has a public endpoint and no ACL",
	}}
}

test_redis_on_a_private_network_passes if {
	decisions := access.decisions with input as _one(_redis_type, {"props": {"privateNetworks": [{"id": "fr-par/pn"}], "tlsEnabled": true}})
	count(decisions) == 0
}

test_redis_acl_for_an_office_range_passes if {
	decisions := access.decisions with input as _one(_redis_type, {"props": {"acls": [{"ip": "203.0.113.7/32"}], "tlsEnabled": true}})
	count(decisions) == 0
}

_acl_type := "scaleway:databases/acl:Acl"

test_database_acl_open_to_the_internet_is_a_violation if {
	decisions := access.decisions with input as _one(_acl_type, {"props": {"aclRules": [{"ip": "10.0.0.0/8"}, {"ip": "0.0.0.0/0"}]}})
	decisions == {{
		"control": "DPA-ACC-004", "urn": _urn(_acl_type), "status": "violation",
		"message": "database ACL admits the internet (0.0.0.0/0)",
	}}
}

test_database_acl_for_private_ranges_passes if {
	decisions := access.decisions with input as _one(_acl_type, {"props": {"aclRules": [{"ip": "10.0.0.0/8"}]}})
	count(decisions) == 0
}

_database_type := "scaleway:databases/instance:Instance"

# A database instance with these props; `acl`: whether an ACL resource names it (the normaliser's
# `linked.acl`, from properties.yaml links).
_database(props, acl) := _one(_database_type, {"props": props, "linked": {"acl": acl}})

_private_network := {"pnId": "fr-par/11111111-2222-3333-4444-555555555555", "ipNet": "172.16.0.2/22"}

test_database_without_private_network_is_a_violation if {
	decisions := access.decisions with input as _database({"isHaCluster": true}, true)
	decisions == {{
		"control": "DPA-ACC-005", "urn": _urn(_database_type), "status": "violation",
		"message": "database has no private network endpoint",
	}}
}

test_database_with_a_public_load_balancer_endpoint_is_a_violation if {
	props := {"privateNetwork": _private_network, "loadBalancer": {"endpointId": "e"}}
	decisions := access.decisions with input as _database(props, true)
	decisions == {{
		"control": "DPA-ACC-005", "urn": _urn(_database_type), "status": "violation",
		"message": "database exposes a public load-balancer endpoint (loadBalancer)",
	}}
}

test_database_on_a_private_network_only_passes if {
	decisions := access.decisions with input as _database({"privateNetwork": _private_network}, true)
	count(decisions) == 0
}

test_database_with_an_empty_load_balancer_block_exposes_the_public_endpoint if {
	# `load_balancer {}` / InstanceLoadBalancerArgs(): the endpoint takes no settings, so an empty block is it.
	decisions := access.decisions with input as _database({"privateNetwork": _private_network, "loadBalancer": {}}, true)
	decisions == {{
		"control": "DPA-ACC-005", "urn": _urn(_database_type), "status": "violation",
		"message": "database exposes a public load-balancer endpoint (loadBalancer)",
	}}
}

test_database_with_an_empty_load_balancer_block_and_no_acl_is_a_violation if {
	decisions := access.decisions with input as _database({"privateNetwork": _private_network, "loadBalancer": {}}, false)
	{d.control | some d in decisions} == {"DPA-ACC-004", "DPA-ACC-005"}
}

test_database_whose_load_balancer_is_null_has_no_public_endpoint_of_it if {
	decisions := access.decisions with input as _database({"privateNetwork": _private_network, "loadBalancer": null}, true)
	count(decisions) == 0
}

test_public_database_no_acl_names_is_a_violation if {
	decisions := access.decisions with input as _database({}, false)
	decisions == {
		{
			"control": "DPA-ACC-004", "urn": _urn(_database_type), "status": "violation",
			"message": "database has a public endpoint and no ACL: every address may connect",
		},
		{
			"control": "DPA-ACC-005", "urn": _urn(_database_type), "status": "violation",
			"message": "database has no private network endpoint",
		},
	}
}

test_database_with_a_public_load_balancer_and_no_acl_is_a_violation if {
	props := {"privateNetwork": _private_network, "loadBalancer": {"endpointId": "e"}}
	decisions := access.decisions with input as _database(props, false)
	{d.control | some d in decisions} == {"DPA-ACC-004", "DPA-ACC-005"}
}

test_private_database_needs_no_acl if {
	decisions := access.decisions with input as _database({"privateNetwork": _private_network}, false)
	count(decisions) == 0
}

_gateway_type := "scaleway:network/publicGateway:PublicGateway"

test_gateway_without_bastion_enabled_is_a_violation if {
	decisions := access.decisions with input as _one(_gateway_type, {"props": {}})
	decisions == {{
		"control": "DPA-ACC-006", "urn": _urn(_gateway_type), "status": "violation",
		"message": "public gateway does not enable the SSH bastion",
	}}
}

test_gateway_with_bastion_disabled_is_a_violation if {
	decisions := access.decisions with input as _one(_gateway_type, {"props": {"bastionEnabled": false}})
	{d.control | some d in decisions} == {"DPA-ACC-006"}
}

test_gateway_with_bastion_for_the_administrators_range_passes if {
	decisions := access.decisions with input as _one(_gateway_type, {"props": {"bastionEnabled": true, "allowedIpRanges": ["203.0.113.7/32"]}})
	count(decisions) == 0
}

test_bastion_without_allowed_ranges_is_a_violation if {
	decisions := access.decisions with input as _one(_gateway_type, {"props": {"bastionEnabled": true}})
	decisions == {{
		"control": "DPA-ACC-006", "urn": _urn(_gateway_type), "status": "violation",
		"message": "the SSH bastion admits every address (no allowedIpRanges)",
	}}
}

test_bastion_open_to_the_internet_is_a_violation if {
	ranges := ["203.0.113.7/32", "0.0.0.0/0"]
	decisions := access.decisions with input as _one(_gateway_type, {"props": {"bastionEnabled": true, "allowedIpRanges": ranges}})
	decisions == {{
		"control": "DPA-ACC-006", "urn": _urn(_gateway_type), "status": "violation",
		"message": "the SSH bastion admits the internet (0.0.0.0/0)",
	}}
}

test_gateway_bastion_unknown_is_not_a_violation if {
	decisions := access.decisions with input as _one(_gateway_type, {"props": {"bastionEnabled": _unknown}})
	count(decisions) == 0
}

_iam_policy_type := "scaleway:iam/policy:Policy"

_iam_policy(principal, permission_sets) := _one(_iam_policy_type, {"props": object.union(principal, {"rules": [{"permissionSetNames": permission_sets}]})})

test_application_with_all_products_full_access_is_a_violation if {
	decisions := access.decisions with input as _iam_policy({"applicationId": "app"}, ["ObjectStorageReadOnly", "AllProductsFullAccess"])
	decisions == {{
		"control": "DPA-ACC-007", "urn": _urn(_iam_policy_type), "status": "violation",
		"message": "IAM policy grants an application AllProductsFullAccess",
	}}
}

test_application_with_a_narrow_permission_set_passes if {
	decisions := access.decisions with input as _iam_policy({"applicationId": "app"}, ["ObjectStorageReadOnly"])
	count(decisions) == 0
}

test_user_with_all_products_full_access_is_a_violation if {
	decisions := access.decisions with input as _iam_policy({"userId": "ops"}, ["AllProductsFullAccess"])
	{d.message | some d in decisions} == {"IAM policy grants a user AllProductsFullAccess"}
}

test_group_with_all_products_full_access_is_a_violation if {
	decisions := access.decisions with input as _iam_policy({"groupId": "staff"}, ["AllProductsFullAccess"])
	{d.message | some d in decisions} == {"IAM policy grants a group AllProductsFullAccess"}
}

test_policy_without_a_principal_is_not_judged if {
	decisions := access.decisions with input as _iam_policy({"noPrincipal": true}, ["AllProductsFullAccess"])
	count(decisions) == 0
}

_api_key_type := "scaleway:iam/apiKey:ApiKey"

test_api_key_without_expiry_is_a_violation if {
	decisions := access.decisions with input as _one(_api_key_type, {"props": {}})
	decisions == {{
		"control": "DPA-ACC-008", "urn": _urn(_api_key_type), "status": "violation",
		"message": "API key has no expiry (expiresAt)",
	}}
}

test_api_key_with_expiry_passes if {
	decisions := access.decisions with input as _one(_api_key_type, {"props": {"expiresAt": "2027-01-01T00:00:00Z"}})
	count(decisions) == 0
}

_server_type := "scaleway:instance/server:Server"

test_server_with_a_public_ip_and_no_security_group_is_a_violation if {
	decisions := access.decisions with input as _one(_server_type, {"props": {"ipId": "fr-par-1/11111111-2222-3333-4444-555555555555"}})
	decisions == {{
		"control": "DPA-ACC-002", "urn": _urn(_server_type), "status": "violation",
		"message": "server has a public IP and no security group: the default group accepts every inbound port, SSH included",
	}}
}

test_server_with_a_dynamic_or_listed_public_ip_and_no_security_group_is_a_violation if {
	every props in [{"enableDynamicIp": true}, {"ipIds": ["fr-par-1/ip"]}, {"publicIps": [{"address": "51.15.0.1"}]}] {
		decisions := access.decisions with input as _one(_server_type, {"props": props})
		{d.control | some d in decisions} == {"DPA-ACC-002"}
	}
}

test_server_with_a_public_ip_and_a_security_group_passes if {
	props := {"ipId": "fr-par-1/ip", "securityGroupId": "fr-par-1/sg"}
	decisions := access.decisions with input as _one(_server_type, {"props": props})
	count(decisions) == 0
}

test_server_without_a_public_ip_needs_no_security_group if {
	decisions := access.decisions with input as _one(_server_type, {"props": {"enableDynamicIp": false, "ipIds": []}})
	count(decisions) == 0
}

_vpn_type := "scaleway:s2svpn/vpnGateway:VpnGateway"

test_site_to_site_vpn_is_a_violation if {
	decisions := access.decisions with input as _one(_vpn_type, {"props": {}})
	decisions == {{
		"control": "DPA-ACC-009", "urn": _urn(_vpn_type), "status": "violation",
		"message": "a site-to-site VPN resource: the DPA promises SSH tunnels, not a VPN",
	}}
}

test_a_private_network_is_no_vpn if {
	decisions := access.decisions with input as _one("scaleway:network/privateNetwork:PrivateNetwork", {"props": {}})
	count(decisions) == 0
}

_bucket_type := "scaleway:object/bucket:Bucket"

test_public_read_bucket_is_a_violation if {
	decisions := access.decisions with input as _one(_bucket_type, {"props": {"acl": "public-read"}})
	decisions == {{
		"control": "DPA-ACC-010", "urn": _urn(_bucket_type), "status": "violation",
		"message": "bucket ACL is public-read: its objects are disclosed to anyone",
	}}
}

test_public_bucket_acl_resource_is_a_violation if {
	acl_type := "scaleway:object/bucketAcl:BucketAcl"
	decisions := access.decisions with input as _one(acl_type, {"props": {"acl": "authenticated-read"}})
	{d.message | some d in decisions} == {"bucket ACL is authenticated-read: its objects are disclosed to anyone"}
}

test_private_bucket_passes if {
	decisions := access.decisions with input as _one(_bucket_type, {"props": {"acl": "private"}})
	count(decisions) == 0
}

_pool_type := "scaleway:kubernetes/pool:Pool"

test_node_pool_without_public_ip_disabled_is_a_violation if {
	decisions := access.decisions with input as _one(_pool_type, {"props": {}})
	decisions == {{
		"control": "DPA-ACC-011", "urn": _urn(_pool_type), "status": "violation",
		"message": "node pool gives its nodes public IPs (publicIpDisabled is not true)",
	}}
}

test_node_pool_with_public_ips_disabled_passes if {
	decisions := access.decisions with input as _one(_pool_type, {"props": {"publicIpDisabled": true}})
	count(decisions) == 0
}

test_node_pool_public_ip_setting_unknown_is_not_a_violation if {
	decisions := access.decisions with input as _one(_pool_type, {"props": {"publicIpDisabled": _unknown}})
	count(decisions) == 0
}

_cluster_type := "scaleway:kubernetes/cluster:Cluster"

_k8s_acl_type := "scaleway:kubernetes/acl:Acl"

test_kapsule_cluster_without_an_api_acl_is_a_violation if {
	decisions := access.decisions with input as _one(_cluster_type, {"props": {}, "linked": {"acl": false}})
	decisions == {{
		"control": "DPA-ACC-012", "urn": _urn(_cluster_type), "status": "violation",
		"message": "the Kubernetes API endpoint is public and no ACL names the cluster: every address may reach it",
	}}
}

test_kapsule_cluster_named_by_an_api_acl_passes if {
	decisions := access.decisions with input as _one(_cluster_type, {"props": {}, "linked": {"acl": true}})
	count(decisions) == 0
}

test_kapsule_cluster_judged_without_its_stack_is_not_judged_on_its_acl if {
	# A partial view (one resource) carries no `linked`: whether an ACL names the cluster is unknown there.
	decisions := access.decisions with input as _one(_cluster_type, {"props": {}})
	count(decisions) == 0
}

test_kapsule_api_acl_open_to_the_internet_is_a_violation if {
	rules := [{"ip": "203.0.113.7/32"}, {"ip": "0.0.0.0/0"}]
	decisions := access.decisions with input as _one(_k8s_acl_type, {"props": {"aclRules": rules}})
	decisions == {{
		"control": "DPA-ACC-012", "urn": _urn(_k8s_acl_type), "status": "violation",
		"message": "Kubernetes API ACL admits the internet (0.0.0.0/0)",
	}}
}

test_kapsule_api_acl_admitting_every_scaleway_address_is_a_violation if {
	decisions := access.decisions with input as _one(_k8s_acl_type, {"props": {"aclRules": [{"ip": "::/0", "scalewayRanges": true}]}})
	decisions == {{
		"control": "DPA-ACC-012", "urn": _urn(_k8s_acl_type), "status": "violation",
		"message": "Kubernetes API ACL admits every Scaleway address (scalewayRanges): any Scaleway customer's machine may reach it",
	}}
}

test_kapsule_api_acl_listing_administrators_only_passes if {
	decisions := access.decisions with input as _one(_k8s_acl_type, {"props": {"aclRules": [{"ip": "203.0.113.7/32"}]}})
	count(decisions) == 0
}

test_public_read_object_is_a_violation if {
	item_type := "scaleway:object/item:Item"
	decisions := access.decisions with input as _one(item_type, {"props": {"visibility": "public-read"}})
	decisions == {{
		"control": "DPA-ACC-010", "urn": _urn(item_type), "status": "violation",
		"message": "object visibility is public-read: it is disclosed to anyone",
	}}
}

test_private_object_passes if {
	decisions := access.decisions with input as _one("scaleway:object/item:Item", {"props": {"visibility": "private"}})
	count(decisions) == 0
}

test_public_s3_acl_names_its_region if {
	acl_type := "aws:s3/bucketAcl:BucketAcl"
	decisions := access.decisions with input as _one(acl_type, {"props": {"acl": "public-read"}, "place": "us-east-1"})
	decisions == {{
		"control": "DPA-ACC-010", "urn": _urn(acl_type), "status": "violation",
		"message": "S3 bucket ACL is public-read: its objects are disclosed to anyone (us-east-1)",
	}}
}

test_public_s3_acl_without_region_still_a_violation if {
	decisions := access.decisions with input as _one("aws:s3/bucket:Bucket", {"props": {"acl": "public-read-write"}})
	decisions == {{
		"control": "DPA-ACC-010", "urn": _urn("aws:s3/bucket:Bucket"), "status": "violation",
		"message": "S3 bucket ACL is public-read-write: its objects are disclosed to anyone",
	}}
}

test_private_s3_acl_passes if {
	decisions := access.decisions with input as _one("aws:s3/bucketAcl:BucketAcl", {"props": {"acl": "private"}, "place": "us-east-1"})
	count(decisions) == 0
}

test_gcs_member_all_users_is_a_violation_naming_its_region if {
	member_type := "gcp:storage/bucketIAMMember:BucketIAMMember"
	props := {"member": "allUsers", "role": "roles/storage.objectViewer"}
	decisions := access.decisions with input as _one(member_type, {"props": props, "place": "asia-east1"})
	decisions == {{
		"control": "DPA-ACC-010", "urn": _urn(member_type), "status": "violation",
		"message": "GCS bucket grants roles/storage.objectViewer to allUsers: its objects are disclosed to anyone (asia-east1)",
	}}
}

test_gcs_member_of_a_group_passes if {
	props := {"member": "group:staff@example.org", "role": "roles/storage.objectViewer"}
	decisions := access.decisions with input as _one("gcp:storage/bucketIAMMember:BucketIAMMember", {"props": props})
	count(decisions) == 0
}

test_gcs_binding_with_all_authenticated_users_is_a_violation if {
	binding_type := "gcp:storage/bucketIAMBinding:BucketIAMBinding"
	props := {"members": ["user:a@example.org", "allAuthenticatedUsers"], "role": "roles/storage.objectViewer"}
	decisions := access.decisions with input as _one(binding_type, {"props": props, "place": "europe-west1"})
	decisions == {{
		"control": "DPA-ACC-010", "urn": _urn(binding_type), "status": "violation",
		"message": "GCS bucket grants roles/storage.objectViewer to allAuthenticatedUsers: its objects are disclosed to anyone (europe-west1)",
	}}
}

test_gcs_acl_entry_for_all_users_is_a_violation if {
	acl_type := "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl"
	decisions := access.decisions with input as _one(acl_type, {"props": {"entity": "allUsers", "role": "READER"}, "place": "us"})
	decisions == {{
		"control": "DPA-ACC-010", "urn": _urn(acl_type), "status": "violation",
		"message": "GCS ACL entry gives READER access to allUsers: disclosed to anyone (us)",
	}}
}

test_gcs_acl_entry_for_a_project_passes if {
	acl_type := "gcp:storage/bucketAccessControl:BucketAccessControl"
	decisions := access.decisions with input as _one(acl_type, {"props": {"entity": "project-owners-123", "role": "OWNER"}})
	count(decisions) == 0
}

test_a_hetzner_firewall_opening_ssh_and_the_kubernetes_api_to_the_internet_is_a_violation if {
	hcloud := "hcloud:index/firewall:Firewall"
	rules := [_rule(22, "0.0.0.0/0", true), _rule(6443, "::/0", true), _rule(443, "0.0.0.0/0", true), _rule(22, "10.0.0.0/8", false)]
	decisions := access.decisions with input as _one(hcloud, {"props": {}, "inbound_rules": rules})
	{d.message | some d in decisions} == {
		"inbound TCP port 22 (SSH) is open to the internet (0.0.0.0/0)",
		"inbound TCP port 6443 (Kubernetes API) is open to the internet (::/0)",
	}
	{d.control | some d in decisions} == {"DPA-ACC-002"}
}

test_every_firewall_type_settings_lists_is_judged if {
	some token, _ in data.dpa.settings.other_firewalls
	decisions := access.decisions with input as _one(token, {"props": {}, "inbound_rules": [_rule(3389, "0.0.0.0/0", true)]})
	{d.message | some d in decisions} == {"inbound TCP port 3389 (RDP) is open to the internet (0.0.0.0/0)"}
}

_eks_type := "aws:eks/cluster:Cluster"

_eks(vpc_config) := _one(_eks_type, {"props": {"vpcConfig": vpc_config}})

test_an_eks_endpoint_without_an_allow_list_is_a_violation if {
	decisions := access.decisions with input as _eks({"subnetIds": ["subnet-1"]})
	decisions == {{
		"control": "DPA-ACC-012", "urn": _urn(_eks_type), "status": "violation",
		"message": "the EKS API endpoint is public and publicAccessCidrs is unset: AWS admits every address (0.0.0.0/0)",
	}}
}

test_an_eks_endpoint_admitting_the_internet_is_a_violation if {
	decisions := access.decisions with input as _eks({"endpointPublicAccess": true, "publicAccessCidrs": ["203.0.113.7/32", "::/0"]})
	{d.message | some d in decisions} == {"the EKS API endpoint is public and admits the internet (::/0)"}
}

test_an_eks_endpoint_admitting_the_office_or_private_passes if {
	count(access.decisions) == 0 with input as _eks({"publicAccessCidrs": ["203.0.113.7/32"]})
	count(access.decisions) == 0 with input as _eks({"endpointPublicAccess": false})
}
