# METADATA
# title: Transit encryption
# description: Appendix C §2 - TLS for the application, SRTP for voice.
package dpaguard.transit_encryption

import rego.v1

import data.dpaguard.lib.facts
import data.dpaguard.lib.result

_plaintext_ports := data.dpa.settings.plaintext_ports

# A frontend whose every request is answered with a redirect to https (the port-80 idiom).
_redirects_to_https(r) if {
	some acl in r.props.acls
	acl.action.type == "redirect"
	some target in acl.action.redirects
	target.type == "scheme"
	target.target == "https"
	_matches_every_request(acl)
}

_matches_every_request(acl) if {
	not acl.match.ipSubnets
	not acl.match.httpFilterValues
}

_matches_every_request(acl) if {
	some subnet in acl.match.ipSubnets
	facts.is_internet(subnet)
	not acl.match.httpFilterValues
}

# METADATA
# title: Load-balancer frontends carry a certificate
# custom:
#   control: DPA-TLS-001
decisions contains result.violation("DPA-TLS-001", r, msg) if {
	some i in input.index.type["scaleway:loadbalancers/frontend:Frontend"]
	r := input.resources[i]
	count(object.get(r.props, "certificateIds", [])) == 0
	not r.props.certificateIds == input.context.unknown
	not _redirects_to_https(r)
	msg := sprintf("frontend on port %v has no certificate and does not redirect to HTTPS", [object.get(r.props, "inboundPort", 0)])
}

# METADATA
# title: No legacy TLS on load balancers
# custom:
#   control: DPA-TLS-002
decisions contains result.violation("DPA-TLS-002", r, "load balancer accepts legacy TLS (ssl_compatibility_level_old)") if {
	some i in input.index.type["scaleway:loadbalancers/loadBalancer:LoadBalancer"]
	r := input.resources[i]
	r.props.sslCompatibilityLevel == "ssl_compatibility_level_old"
}

# METADATA
# title: Load-balancer backends use SSL bridging
# custom:
#   control: DPA-TLS-003
decisions contains result.violation("DPA-TLS-003", r, "backend does not use SSL bridging: load balancer to backend traffic is plaintext") if {
	some i in input.index.type["scaleway:loadbalancers/backend:Backend"]
	r := input.resources[i]
	not r.props.sslBridging == true
	not r.props.sslBridging == input.context.unknown
}

# METADATA
# title: Redis clusters use TLS
# custom:
#   control: DPA-TLS-004
decisions contains result.violation("DPA-TLS-004", r, "Redis cluster does not enable TLS") if {
	some i in input.index.type["scaleway:redis/cluster:Cluster"]
	r := input.resources[i]
	not r.props.tlsEnabled == true
	not r.props.tlsEnabled == input.context.unknown
}

# Serverless containers and functions answer on their own *.scw.cloud endpoint over HTTP and HTTPS
# alike unless told to redirect (the provider's default `httpOption` is "enabled").
_serverless_types := ["scaleway:containers/container:Container", "scaleway:functions/function:Function"]

_https_only(r) if r.props.httpsConnectionsOnly == true

_https_only(r) if r.props.httpOption == "redirected"

_https_unknown(r) if facts.is_unknown(object.get(r.props, "httpsConnectionsOnly", null))

_https_unknown(r) if facts.is_unknown(object.get(r.props, "httpOption", null))

# METADATA
# title: Serverless containers and functions accept HTTPS only
# custom:
#   control: DPA-TLS-008
decisions contains result.violation("DPA-TLS-008", r, msg) if {
	some t in _serverless_types
	some i in input.index.type[t]
	r := input.resources[i]
	not _https_only(r)
	not _https_unknown(r)
	msg := sprintf("%v endpoint accepts plain HTTP (neither httpsConnectionsOnly nor httpOption redirected)", [_privacy(r)])
}

# The endpoint's privacy as the message names it; the provider's default is public.
default _privacy(_) := "public"

_privacy(r) := "private" if r.props.privacy == "private"

_security_groups := [i | some t in ["scaleway:instance/securityGroup:SecurityGroup", "scaleway:instance/securityGroupRules:SecurityGroupRules"]; some i in input.index.type[t]]

# METADATA
# title: No plaintext protocol open to the internet
# custom:
#   control: DPA-TLS-005
decisions contains result.violation("DPA-TLS-005", r, msg) if {
	some i in _security_groups
	r := input.resources[i]
	some rule in r.inbound_rules
	rule.action == "accept"
	rule.internet
	some p in _plaintext_ports
	rule.port_from <= p.port
	p.port <= rule.port_to
	msg := sprintf("inbound %v port %v (%v) is open to the internet (%v)", [rule.protocol, p.port, p.name, rule.source])
}

_telecom(r) if r.props.role == "telecom"

# METADATA
# title: Telecom servers signal SIP over TLS
# custom:
#   control: DPA-TLS-006
decisions contains result.violation("DPA-TLS-006", r, msg) if {
	some i in input.index.type["pulumi-python:dynamic/datapacket:Server"]
	r := input.resources[i]
	_telecom(r)
	transport := r.props.sipTransport
	not facts.is_unknown(transport)
	transport != "tls"
	msg := sprintf("telecom server signals SIP over %v, not TLS", [transport])
}

# METADATA
# title: Telecom servers encrypt media with SRTP
# custom:
#   control: DPA-TLS-007
decisions contains result.violation("DPA-TLS-007", r, msg) if {
	some i in input.index.type["pulumi-python:dynamic/datapacket:Server"]
	r := input.resources[i]
	_telecom(r)
	media := r.props.mediaEncryption
	not facts.is_unknown(media)
	media != "srtp"
	msg := sprintf("telecom server media encryption is %v, not SRTP", [media])
}

# METADATA
# title: Telecom servers that do not declare their SIP transport or media encryption
# custom:
#   control: DPA-TLS-006
decisions contains result.violation("DPA-TLS-006", r, "telecom server declares no sipTransport") if {
	some i in input.index.type["pulumi-python:dynamic/datapacket:Server"]
	r := input.resources[i]
	_telecom(r)
	not r.props.sipTransport
}

# METADATA
# title: Telecom server without media encryption setting
# custom:
#   control: DPA-TLS-007
decisions contains result.violation("DPA-TLS-007", r, "telecom server declares no mediaEncryption") if {
	some i in input.index.type["pulumi-python:dynamic/datapacket:Server"]
	r := input.resources[i]
	_telecom(r)
	not r.props.mediaEncryption
}

_security_group_types := ["scaleway:instance/securityGroup:SecurityGroup", "scaleway:instance/securityGroupRules:SecurityGroupRules"]

_media_tag := data.dpa.settings.media_encryption_tag

# A security group that declares the media it admits is SRTP: its media-encryption tag, as the normaliser
# reads it (`media_encryption`); a SecurityGroupRules resource has no tags, so never declares it.
_declares_srtp(r) if r.media_encryption == _media_tag.value

# METADATA
# title: RTP media open to the internet is declared SRTP
# description: |
#   Appendix C §2: "TLS and SRTP for voice data". Receiving RTP from carriers anywhere is a necessary
#   flow (§8.1); carrying it unencrypted is not: the group opening a media range must declare SRTP.
# custom:
#   control: DPA-TLS-009
decisions contains result.violation("DPA-TLS-009", r, msg) if {
	some t in _security_group_types
	some i in input.index.type[t]
	r := input.resources[i]
	some rule in r.inbound_rules
	rule.action == "accept"
	rule.internet
	rule.protocol in {"UDP", "ANY"}
	some media in data.dpa.settings.media_ports
	rule.port_from <= media.to
	media.from <= rule.port_to
	not _declares_srtp(r)
	msg := sprintf(
		"inbound %v %v-%v covers RTP media ports and is open to the internet (%v); nothing declares its voice is SRTP (tag %v:%v on the security group)",
		[rule.protocol, rule.port_from, rule.port_to, rule.source, _media_tag.key, _media_tag.value],
	)
}
