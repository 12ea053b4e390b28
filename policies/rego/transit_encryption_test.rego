package dpaguard.transit_encryption_test

import rego.v1

import data.dpaguard.transit_encryption

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
	"internet": {"0.0.0.0/0": true, "10.0.0.0/8": false, "203.0.113.0/24": false},
	"subprocessor_notice": {"SCALEWAY": 15},
}

_index(groups) := object.union(
	{
		"package": {}, "type": {}, "locality": {}, "project": {}, "env_tag": {}, "subprocessor_country": {},
		"data_category": {}, "plaintext": [], "malformed": [], "unknown": [], "foreign": [], "shape": {"bucket": []}, "outside_scope": {},
	},
	groups,
)

_urn(type_token, name) := sprintf("urn:pulumi:prod::dpa::%v::%v", [type_token, name])

# One resource of a type, with these props and extra facts, indexed as the normaliser does.
_one(type_token, package_name, facts) := {
	"stacks": [_prod],
	"resources": [object.union({"urn": _urn(type_token, "r"), "stack": "prod", "environment": "prod"}, facts)],
	"index": _index({"package": {package_name: [0]}, "type": {type_token: [0]}}),
	"context": _context,
}

_frontend_type := "scaleway:loadbalancers/frontend:Frontend"

_frontend(props) := _one(_frontend_type, "scaleway", {"props": props})

_redirect(match) := [{"action": {"type": "redirect", "redirects": [{"type": "scheme", "target": "https"}]}, "match": match}]

test_frontend_without_certificate_is_a_violation if {
	decisions := transit_encryption.decisions with input as _frontend({"inboundPort": 80})
	decisions == {{
		"control": "DPA-TLS-001", "urn": _urn(_frontend_type, "r"), "status": "violation",
		"message": "frontend on port 80 has no certificate and does not redirect to HTTPS",
	}}
}

test_frontend_with_an_empty_certificate_list_is_a_violation if {
	decisions := transit_encryption.decisions with input as _frontend({"inboundPort": 8080, "certificateIds": []})
	{d.message | some d in decisions} == {"frontend on port 8080 has no certificate and does not redirect to HTTPS"}
}

test_frontend_redirecting_every_request_to_https_passes if {
	decisions := transit_encryption.decisions with input as _frontend({"inboundPort": 80, "acls": _redirect({"ipSubnets": ["0.0.0.0/0"]})})
	count(decisions) == 0
}

test_frontend_redirecting_without_a_match_passes if {
	decisions := transit_encryption.decisions with input as _frontend({"inboundPort": 80, "acls": _redirect({})})
	count(decisions) == 0
}

test_frontend_redirecting_only_some_paths_is_a_violation if {
	acls := _redirect({"ipSubnets": ["0.0.0.0/0"], "httpFilterValues": ["/login"]})
	decisions := transit_encryption.decisions with input as _frontend({"inboundPort": 80, "acls": acls})
	{d.control | some d in decisions} == {"DPA-TLS-001"}
}

test_frontend_redirecting_only_a_private_range_is_a_violation if {
	acls := _redirect({"ipSubnets": ["10.0.0.0/8"]})
	decisions := transit_encryption.decisions with input as _frontend({"inboundPort": 80, "acls": acls})
	{d.control | some d in decisions} == {"DPA-TLS-001"}
}

test_frontend_with_certificate_passes if {
	decisions := transit_encryption.decisions with input as _frontend({"inboundPort": 443, "certificateIds": ["fr-par/11111111-2222-3333-4444-555555555555"]})
	count(decisions) == 0
}

# A value unknown until apply is not judged by this area's rules: the normaliser lists it in `unknown`
# and input_types.rego makes every control that reads it undetermined.
test_frontend_certificates_unknown_are_no_violation_here if {
	decisions := transit_encryption.decisions with input as _frontend({"inboundPort": 443, "certificateIds": _unknown})
	count(decisions) == 0
}

_lb_type := "scaleway:loadbalancers/loadBalancer:LoadBalancer"

test_load_balancer_accepting_legacy_tls_is_a_violation if {
	decisions := transit_encryption.decisions with input as _one(_lb_type, "scaleway", {"props": {"sslCompatibilityLevel": "ssl_compatibility_level_old"}})
	decisions == {{
		"control": "DPA-TLS-002", "urn": _urn(_lb_type, "r"), "status": "violation",
		"message": "load balancer accepts legacy TLS (ssl_compatibility_level_old)",
	}}
}

test_load_balancer_with_intermediate_tls_passes if {
	decisions := transit_encryption.decisions with input as _one(_lb_type, "scaleway", {"props": {"sslCompatibilityLevel": "ssl_compatibility_level_intermediate"}})
	count(decisions) == 0
}

test_load_balancer_with_modern_tls_passes if {
	decisions := transit_encryption.decisions with input as _one(_lb_type, "scaleway", {"props": {"sslCompatibilityLevel": "ssl_compatibility_level_modern"}})
	count(decisions) == 0
}

test_load_balancer_without_a_tls_level_passes if {
	decisions := transit_encryption.decisions with input as _one(_lb_type, "scaleway", {"props": {}})
	count(decisions) == 0
}

_backend_type := "scaleway:loadbalancers/backend:Backend"

test_backend_without_ssl_bridging_is_a_violation if {
	decisions := transit_encryption.decisions with input as _one(_backend_type, "scaleway", {"props": {}})
	decisions == {{
		"control": "DPA-TLS-003", "urn": _urn(_backend_type, "r"), "status": "violation",
		"message": "backend does not use SSL bridging: load balancer to backend traffic is plaintext",
	}}
}

test_backend_with_ssl_bridging_false_is_a_violation if {
	decisions := transit_encryption.decisions with input as _one(_backend_type, "scaleway", {"props": {"sslBridging": false}})
	{d.control | some d in decisions} == {"DPA-TLS-003"}
}

test_backend_with_ssl_bridging_passes if {
	decisions := transit_encryption.decisions with input as _one(_backend_type, "scaleway", {"props": {"sslBridging": true}})
	count(decisions) == 0
}

# A value unknown until apply is not judged by this area's rules: the normaliser lists it in `unknown`
# and input_types.rego makes every control that reads it undetermined.
test_backend_ssl_bridging_unknown_is_no_violation_here if {
	decisions := transit_encryption.decisions with input as _one(_backend_type, "scaleway", {"props": {"sslBridging": _unknown}})
	count(decisions) == 0
}

_redis_type := "scaleway:redis/cluster:Cluster"

test_redis_without_tls_is_a_violation if {
	decisions := transit_encryption.decisions with input as _one(_redis_type, "scaleway", {"props": {"privateNetworks": [{"id": "pn"}]}})
	decisions == {{
		"control": "DPA-TLS-004", "urn": _urn(_redis_type, "r"), "status": "violation",
		"message": "Redis cluster does not enable TLS",
	}}
}

test_redis_with_tls_passes if {
	decisions := transit_encryption.decisions with input as _one(_redis_type, "scaleway", {"props": {"tlsEnabled": true}})
	count(decisions) == 0
}

# A value unknown until apply is not judged by this area's rules: the normaliser lists it in `unknown`
# and input_types.rego makes every control that reads it undetermined.
test_redis_tls_unknown_is_no_violation_here if {
	decisions := transit_encryption.decisions with input as _one(_redis_type, "scaleway", {"props": {"tlsEnabled": _unknown}})
	count(decisions) == 0
}

_sg_type := "scaleway:instance/securityGroup:SecurityGroup"

# An inbound rule as the normaliser makes it explicit (_inbound_rules).
_rule(port_from, port_to, source, internet) := {
	"action": "accept", "protocol": "TCP", "port_from": port_from, "port_to": port_to,
	"source": source, "internet": internet,
}

_sg(rules) := _one(_sg_type, "scaleway", {"props": {"inboundDefaultPolicy": "drop"}, "inbound_rules": rules})

test_http_open_to_the_internet_is_a_violation if {
	decisions := transit_encryption.decisions with input as _sg([_rule(80, 80, "0.0.0.0/0", true)])
	decisions == {{
		"control": "DPA-TLS-005", "urn": _urn(_sg_type, "r"), "status": "violation",
		"message": "inbound TCP port 80 (HTTP) is open to the internet (0.0.0.0/0)",
	}}
}

test_a_port_range_covering_plaintext_ports_is_a_violation_per_port if {
	decisions := transit_encryption.decisions with input as _sg([_rule(20, 25, "0.0.0.0/0", true)])
	{d.message | some d in decisions} == {
		"inbound TCP port 21 (FTP) is open to the internet (0.0.0.0/0)",
		"inbound TCP port 23 (Telnet) is open to the internet (0.0.0.0/0)",
	}
}

test_security_group_rules_resource_is_judged_too if {
	rules_type := "scaleway:instance/securityGroupRules:SecurityGroupRules"
	decisions := transit_encryption.decisions with input as _one(rules_type, "scaleway", {"props": {}, "inbound_rules": [_rule(5060, 5060, "0.0.0.0/0", true)]})
	{d.message | some d in decisions} == {"inbound TCP port 5060 (SIP (plain)) is open to the internet (0.0.0.0/0)"}
}

test_https_open_to_the_internet_passes if {
	decisions := transit_encryption.decisions with input as _sg([_rule(443, 443, "0.0.0.0/0", true)])
	count(decisions) == 0
}

test_http_from_a_private_range_passes if {
	decisions := transit_encryption.decisions with input as _sg([_rule(80, 80, "10.0.0.0/8", false)])
	count(decisions) == 0
}

test_dropped_http_passes if {
	decisions := transit_encryption.decisions with input as _sg([object.union(_rule(80, 80, "0.0.0.0/0", true), {"action": "drop"})])
	count(decisions) == 0
}

# A value unknown until apply is not judged by this area's rules: the normaliser lists it in `unknown`
# and input_types.rego makes every control that reads it undetermined.
test_inbound_rule_unknown_is_no_violation_here if {
	unknown_rule := _rule(1, 65535, _unknown, false)
	decisions := transit_encryption.decisions with input as _sg([unknown_rule])
	count(decisions) == 0
}

_server_type := "pulumi-python:dynamic/datapacket:Server"

_server(props) := _one(_server_type, "datapacket", {"props": props})

_telecom := {"role": "telecom", "location": "Paris", "countryCode": "FR"}

test_telecom_sip_over_udp_is_a_violation if {
	decisions := transit_encryption.decisions with input as _server(object.union(_telecom, {"sipTransport": "udp", "mediaEncryption": "srtp"}))
	decisions == {{
		"control": "DPA-TLS-006", "urn": _urn(_server_type, "r"), "status": "violation",
		"message": "telecom server signals SIP over udp, not TLS",
	}}
}

test_telecom_without_sip_transport_is_a_violation if {
	decisions := transit_encryption.decisions with input as _server(object.union(_telecom, {"mediaEncryption": "srtp"}))
	decisions == {{
		"control": "DPA-TLS-006", "urn": _urn(_server_type, "r"), "status": "violation",
		"message": "telecom server declares no sipTransport",
	}}
}

# A value unknown until apply is not judged by this area's rules: the normaliser lists it in `unknown`
# and input_types.rego makes every control that reads it undetermined.
test_telecom_sip_transport_unknown_is_no_violation_here if {
	decisions := transit_encryption.decisions with input as _server(object.union(_telecom, {"sipTransport": _unknown, "mediaEncryption": "srtp"}))
	count(decisions) == 0
}

test_telecom_media_without_srtp_is_a_violation if {
	decisions := transit_encryption.decisions with input as _server(object.union(_telecom, {"sipTransport": "tls", "mediaEncryption": "none"}))
	decisions == {{
		"control": "DPA-TLS-007", "urn": _urn(_server_type, "r"), "status": "violation",
		"message": "telecom server media encryption is none, not SRTP",
	}}
}

test_telecom_without_media_encryption_is_a_violation if {
	decisions := transit_encryption.decisions with input as _server(object.union(_telecom, {"sipTransport": "tls"}))
	decisions == {{
		"control": "DPA-TLS-007", "urn": _urn(_server_type, "r"), "status": "violation",
		"message": "telecom server declares no mediaEncryption",
	}}
}

test_telecom_with_sip_over_tls_and_srtp_passes if {
	decisions := transit_encryption.decisions with input as _server(object.union(_telecom, {"sipTransport": "tls", "mediaEncryption": "srtp"}))
	count(decisions) == 0
}

test_server_that_is_not_telecom_needs_no_sip_settings if {
	decisions := transit_encryption.decisions with input as _server({"role": "web", "location": "Paris", "countryCode": "FR"})
	count(decisions) == 0
}

_udp(port_from, port_to, source, internet) := object.union(_rule(port_from, port_to, source, internet), {"protocol": "UDP"})

_sg_tagged(rules, declared) := _one(_sg_type, "scaleway", {"props": {"inboundDefaultPolicy": "drop"}, "inbound_rules": rules, "media_encryption": declared})

test_rtp_range_open_to_the_internet_without_srtp_is_a_violation if {
	decisions := transit_encryption.decisions with input as _sg([_udp(10000, 20000, "0.0.0.0/0", true)])
	decisions == {{
		"control": "DPA-TLS-009", "urn": _urn(_sg_type, "r"), "status": "violation",
		"message": "inbound UDP 10000-20000 covers RTP media ports and is open to the internet (0.0.0.0/0); nothing declares its voice is SRTP (tag media-encryption:srtp on the security group)",
	}}
}

test_rtp_range_open_to_the_internet_declared_srtp_passes if {
	decisions := transit_encryption.decisions with input as _sg_tagged([_udp(10000, 20000, "0.0.0.0/0", true)], "srtp")
	count(decisions) == 0
}

test_rtp_range_open_to_a_carrier_range_only_passes if {
	decisions := transit_encryption.decisions with input as _sg([_udp(10000, 20000, "203.0.113.0/24", false)])
	count(decisions) == 0
}

test_every_udp_port_open_to_the_internet_covers_the_media_ranges if {
	decisions := transit_encryption.decisions with input as _sg_tagged([_udp(1, 65535, "0.0.0.0/0", true)], "rtp")
	media := [d | some d in decisions; d.control == "DPA-TLS-009"]
	count(media) == 1
}

test_udp_outside_the_media_ranges_is_not_media if {
	decisions := transit_encryption.decisions with input as _sg([_udp(53, 53, "0.0.0.0/0", true)])
	count(decisions) == 0
}

test_rtp_rule_of_a_rules_resource_cannot_declare_srtp if {
	rules_type := "scaleway:instance/securityGroupRules:SecurityGroupRules"
	decisions := transit_encryption.decisions with input as _one(rules_type, "scaleway", {"props": {}, "inbound_rules": [_udp(16384, 32768, "0.0.0.0/0", true)]})
	{d.control | some d in decisions} == {"DPA-TLS-009"}
}

_container_type := "scaleway:containers/container:Container"

_function_type := "scaleway:functions/function:Function"

test_public_container_with_default_http_option_is_a_violation if {
	decisions := transit_encryption.decisions with input as _one(_container_type, "scaleway", {"props": {"privacy": "public"}})
	decisions == {{
		"control": "DPA-TLS-008", "urn": _urn(_container_type, "r"), "status": "violation",
		"message": "public endpoint accepts plain HTTP (neither httpsConnectionsOnly nor httpOption redirected)",
	}}
}

test_container_without_privacy_is_public_and_a_violation if {
	decisions := transit_encryption.decisions with input as _one(_container_type, "scaleway", {"props": {"httpOption": "enabled"}})
	decisions == {{
		"control": "DPA-TLS-008", "urn": _urn(_container_type, "r"), "status": "violation",
		"message": "public endpoint accepts plain HTTP (neither httpsConnectionsOnly nor httpOption redirected)",
	}}
}

test_private_function_accepting_http_is_a_violation if {
	decisions := transit_encryption.decisions with input as _one(_function_type, "scaleway", {"props": {"privacy": "private", "httpOption": "enabled"}})
	decisions == {{
		"control": "DPA-TLS-008", "urn": _urn(_function_type, "r"), "status": "violation",
		"message": "private endpoint accepts plain HTTP (neither httpsConnectionsOnly nor httpOption redirected)",
	}}
}

test_container_with_https_connections_only_passes if {
	decisions := transit_encryption.decisions with input as _one(_container_type, "scaleway", {"props": {"httpsConnectionsOnly": true}})
	count(decisions) == 0
}

test_function_redirecting_to_https_passes if {
	decisions := transit_encryption.decisions with input as _one(_function_type, "scaleway", {"props": {"privacy": "public", "httpOption": "redirected"}})
	count(decisions) == 0
}

# A value unknown until apply is not judged by this area's rules: the normaliser lists it in `unknown`
# and input_types.rego makes every control that reads it undetermined.
test_container_https_setting_unknown_is_no_violation_here if {
	decisions := transit_encryption.decisions with input as _one(_container_type, "scaleway", {"props": {"httpsConnectionsOnly": _unknown}})
	count(decisions) == 0
}

test_function_http_option_unknown_is_left_to_the_unknown_rule if {
	# The undetermined finding comes from input_types' one rule for every unknown property read.
	decisions := transit_encryption.decisions with input as _one(_function_type, "scaleway", {"props": {"httpOption": _unknown}})
	count(decisions) == 0
}

test_container_https_only_passes_though_its_http_option_is_unknown if {
	decisions := transit_encryption.decisions with input as _one(_container_type, "scaleway", {"props": {"httpsConnectionsOnly": true, "httpOption": _unknown}})
	count(decisions) == 0
}
