# METADATA
# title: Access
# description: Appendix C §8.1 - firewalling only necessary flows, SSH tunnels; §9 - need to know, need to do.
package dpaguard.access

import rego.v1

import data.dpaguard.lib.facts
import data.dpaguard.lib.result

# Scaleway's security groups, and the firewalls of every other provider settings.yaml lists (other_firewalls):
# the normaliser gives each the same `inbound_rules`.
_firewall_types contains t if some t in ["scaleway:instance/securityGroup:SecurityGroup", "scaleway:instance/securityGroupRules:SecurityGroupRules"]

_firewall_types contains t if some t, _ in data.dpa.settings.other_firewalls

_firewalls := [i | some t in _firewall_types; some i in input.index.type[t]]

# METADATA
# title: Security groups drop inbound traffic by default
# custom:
#   control: DPA-ACC-001
decisions contains result.violation("DPA-ACC-001", r, msg) if {
	some i in input.index.type["scaleway:instance/securityGroup:SecurityGroup"]
	r := input.resources[i]
	policy := r.props.inboundDefaultPolicy
	not facts.is_unknown(policy)
	policy != "drop"
	msg := sprintf("inbound default policy is %v: everything not listed is accepted", [policy])
}

# METADATA
# title: Security group without inbound default policy
# description: Unset means the provider default, accept.
# custom:
#   control: DPA-ACC-001
decisions contains result.violation("DPA-ACC-001", r, "inbound default policy is unset, which accepts everything not listed") if {
	some i in input.index.type["scaleway:instance/securityGroup:SecurityGroup"]
	r := input.resources[i]
	not r.props.inboundDefaultPolicy
}

# METADATA
# title: No administrative port open to the internet
# description: On a Scaleway security group or another provider's firewall (a Hetzner firewall, an AWS security group, a GCP firewall).
# custom:
#   control: DPA-ACC-002
decisions contains result.violation("DPA-ACC-002", r, msg) if {
	some i in _firewalls
	r := input.resources[i]
	some rule in r.inbound_rules
	rule.action == "accept"
	rule.internet
	some p in data.dpa.settings.admin_ports
	rule.port_from <= p.port
	p.port <= rule.port_to
	msg := sprintf("inbound %v port %v (%v) is open to the internet (%v)", [rule.protocol, p.port, p.name, rule.source])
}

# A server reachable from the internet: a flexible IP, a dynamic IP or public IPs.
_has_public_ip(r) if r.props.ipId

_has_public_ip(r) if count(object.get(r.props, "ipIds", [])) > 0

_has_public_ip(r) if r.props.enableDynamicIp == true

_has_public_ip(r) if count(object.get(r.props, "publicIps", [])) > 0

# METADATA
# title: A server with a public IP has a security group
# description: Without one, Scaleway applies the zone's default security group, which accepts all inbound traffic.
# custom:
#   control: DPA-ACC-002
decisions contains result.violation("DPA-ACC-002", r, "server has a public IP and no security group: the default group accepts every inbound port, SSH included") if {
	some i in input.index.type["scaleway:instance/server:Server"]
	r := input.resources[i]
	_has_public_ip(r)
	not r.props.securityGroupId
}

# METADATA
# title: Redis ACLs are not open to the internet
# custom:
#   control: DPA-ACC-003
decisions contains result.violation("DPA-ACC-003", r, msg) if {
	some i in input.index.type["scaleway:redis/cluster:Cluster"]
	r := input.resources[i]
	some acl in object.get(r.props, "acls", [])
	facts.is_internet(acl.ip)
	msg := sprintf("Redis ACL admits the internet (%v)", [acl.ip])
}

# METADATA
# title: Redis cluster has neither private network nor ACL
# description: A public Redis endpoint without ACL accepts every address.
# custom:
#   control: DPA-ACC-003
decisions contains result.violation("DPA-ACC-003", r, "Redis cluster has a public endpoint and no ACL") if {
	some i in input.index.type["scaleway:redis/cluster:Cluster"]
	r := input.resources[i]
	count(object.get(r.props, "privateNetworks", [])) == 0
	count(object.get(r.props, "acls", [])) == 0
}

# METADATA
# title: Database ACLs are not open to the internet
# custom:
#   control: DPA-ACC-004
decisions contains result.violation("DPA-ACC-004", r, msg) if {
	some i in input.index.type["scaleway:databases/acl:Acl"]
	r := input.resources[i]
	some rule in object.get(r.props, "aclRules", [])
	facts.is_internet(rule.ip)
	msg := sprintf("database ACL admits the internet (%v)", [rule.ip])
}

# A database instance reachable from the internet: no private network (the provider then gives it a
# public endpoint), or a public load-balancer endpoint declared. An empty block (`load_balancer {}`,
# `InstanceLoadBalancerArgs()`) is that endpoint: it takes no settings, the API's spec for it is `{}`.
_public_database(r) if not r.props.privateNetwork

_public_database(r) if _load_balancer_endpoint(r)

_load_balancer_endpoint(r) if is_object(r.props.loadBalancer)

# METADATA
# title: A database with a public endpoint has an ACL
# description: Without an ACL resource naming it, a public endpoint accepts every address.
# custom:
#   control: DPA-ACC-004
decisions contains result.violation("DPA-ACC-004", r, "database has a public endpoint and no ACL: every address may connect") if {
	some i in input.index.type["scaleway:databases/instance:Instance"]
	r := input.resources[i]
	_public_database(r)
	r.linked.acl == false
}

# METADATA
# title: Production databases have no public endpoint
# custom:
#   control: DPA-ACC-005
decisions contains result.violation("DPA-ACC-005", r, "database has no private network endpoint") if {
	some i in input.index.type["scaleway:databases/instance:Instance"]
	r := input.resources[i]
	not r.props.privateNetwork
}

# METADATA
# title: Production databases have no public load-balancer endpoint
# description: The provider's `loadBalancer` block, empty or not, is the instance's public endpoint.
# custom:
#   control: DPA-ACC-005
decisions contains result.violation("DPA-ACC-005", r, "database exposes a public load-balancer endpoint (loadBalancer)") if {
	some i in input.index.type["scaleway:databases/instance:Instance"]
	r := input.resources[i]
	_load_balancer_endpoint(r)
}

# METADATA
# title: Administrative access goes through the gateway's bastion
# custom:
#   control: DPA-ACC-006
decisions contains result.violation("DPA-ACC-006", r, "public gateway does not enable the SSH bastion") if {
	some i in input.index.type["scaleway:network/publicGateway:PublicGateway"]
	r := input.resources[i]
	not r.props.bastionEnabled == true
	not facts.is_unknown(object.get(r.props, "bastionEnabled", null))
}

_principals := {"applicationId": "an application", "groupId": "a group", "userId": "a user"}

# METADATA
# title: No IAM policy gives a principal full access to all products
# custom:
#   control: DPA-ACC-007
decisions contains result.violation("DPA-ACC-007", r, msg) if {
	some i in input.index.type["scaleway:iam/policy:Policy"]
	r := input.resources[i]
	some key in ["applicationId", "groupId", "userId"]
	r.props[key]
	principal := _principals[key]
	some rule in object.get(r.props, "rules", [])
	"AllProductsFullAccess" in object.get(rule, "permissionSetNames", [])
	msg := sprintf("IAM policy grants %v AllProductsFullAccess", [principal])
}

# METADATA
# title: The SSH bastion admits only the administrators' ranges
# description: A bastion with no allowed ranges accepts SSH from every address.
# custom:
#   control: DPA-ACC-006
decisions contains result.violation("DPA-ACC-006", r, "the SSH bastion admits every address (no allowedIpRanges)") if {
	some i in input.index.type["scaleway:network/publicGateway:PublicGateway"]
	r := input.resources[i]
	r.props.bastionEnabled == true
	count(object.get(r.props, "allowedIpRanges", [])) == 0
}

# METADATA
# title: The SSH bastion is not open to the internet
# custom:
#   control: DPA-ACC-006
decisions contains result.violation("DPA-ACC-006", r, msg) if {
	some i in input.index.type["scaleway:network/publicGateway:PublicGateway"]
	r := input.resources[i]
	r.props.bastionEnabled == true
	some range in object.get(r.props, "allowedIpRanges", [])
	facts.is_internet(range)
	msg := sprintf("the SSH bastion admits the internet (%v)", [range])
}

# METADATA
# title: No site-to-site VPN
# description: Appendix C §8.1 - "We do not use a VPN, but use SSH tunnels to access the servers."
# custom:
#   control: DPA-ACC-009
decisions contains result.violation("DPA-ACC-009", r, "a site-to-site VPN resource: the DPA promises SSH tunnels, not a VPN") if {
	some token, positions in input.index.type
	startswith(token, "scaleway:s2svpn/")
	some i in positions
	r := input.resources[i]
}

_public_acls := {"public-read", "public-read-write", "authenticated-read"}

# METADATA
# title: Buckets are not readable by the public
# custom:
#   control: DPA-ACC-010
decisions contains result.violation("DPA-ACC-010", r, msg) if {
	some t in ["scaleway:object/bucket:Bucket", "scaleway:object/bucketAcl:BucketAcl"]
	some i in input.index.type[t]
	r := input.resources[i]
	acl := r.props.acl
	acl in _public_acls
	msg := sprintf("bucket ACL is %v: its objects are disclosed to anyone", [acl])
}

# METADATA
# title: Objects are not readable by the public
# custom:
#   control: DPA-ACC-010
decisions contains result.violation("DPA-ACC-010", r, msg) if {
	some i in input.index.type["scaleway:object/item:Item"]
	r := input.resources[i]
	r.props.visibility in _public_acls
	msg := sprintf("object visibility is %v: it is disclosed to anyone", [r.props.visibility])
}

# Another cloud's storage: where it is (its region as its provider names it) is part of the message.
default _place(_) := ""

_place(r) := sprintf(" (%v)", [r.place]) if is_string(r.place)

# GCS and S3 principals that stand for anyone on the internet.
_public_principals := {"allUsers", "allAuthenticatedUsers"}

# METADATA
# title: Other clouds' buckets are not readable by the public (S3 canned ACLs)
# custom:
#   control: DPA-ACC-010
decisions contains result.violation("DPA-ACC-010", r, msg) if {
	some t in ["aws:s3/bucketAcl:BucketAcl", "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"]
	some i in input.index.type[t]
	r := input.resources[i]
	acl := r.props.acl
	acl in _public_acls
	msg := sprintf("S3 bucket ACL is %v: its objects are disclosed to anyone%v", [acl, _place(r)])
}

# METADATA
# title: Other clouds' buckets are not readable by the public (GCS IAM)
# custom:
#   control: DPA-ACC-010
decisions contains result.violation("DPA-ACC-010", r, msg) if {
	some i in input.index.type["gcp:storage/bucketIAMMember:BucketIAMMember"]
	r := input.resources[i]
	r.props.member in _public_principals
	msg := sprintf("GCS bucket grants %v to %v: its objects are disclosed to anyone%v", [object.get(r.props, "role", "a role"), r.props.member, _place(r)])
}

# METADATA
# title: Other clouds' buckets are not readable by the public (GCS IAM bindings)
# custom:
#   control: DPA-ACC-010
decisions contains result.violation("DPA-ACC-010", r, msg) if {
	some i in input.index.type["gcp:storage/bucketIAMBinding:BucketIAMBinding"]
	r := input.resources[i]
	some member in r.props.members
	member in _public_principals
	msg := sprintf("GCS bucket grants %v to %v: its objects are disclosed to anyone%v", [object.get(r.props, "role", "a role"), member, _place(r)])
}

# METADATA
# title: Other clouds' buckets are not readable by the public (GCS ACL entries)
# custom:
#   control: DPA-ACC-010
decisions contains result.violation("DPA-ACC-010", r, msg) if {
	some t in [
		"gcp:storage/bucketAccessControl:BucketAccessControl",
		"gcp:storage/objectAccessControl:ObjectAccessControl",
		"gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl",
	]
	some i in input.index.type[t]
	r := input.resources[i]
	r.props.entity in _public_principals
	msg := sprintf("GCS ACL entry gives %v access to %v: disclosed to anyone%v", [object.get(r.props, "role", "some"), r.props.entity, _place(r)])
}

# METADATA
# title: Kubernetes nodes have no public IP
# description: Unset gives every node a public IP.
# custom:
#   control: DPA-ACC-011
decisions contains result.violation("DPA-ACC-011", r, "node pool gives its nodes public IPs (publicIpDisabled is not true)") if {
	some i in input.index.type["scaleway:kubernetes/pool:Pool"]
	r := input.resources[i]
	not r.props.publicIpDisabled == true
	not facts.is_unknown(object.get(r.props, "publicIpDisabled", null))
}

# METADATA
# title: API keys expire
# custom:
#   control: DPA-ACC-008
decisions contains result.violation("DPA-ACC-008", r, "API key has no expiry (expiresAt)") if {
	some i in input.index.type["scaleway:iam/apiKey:ApiKey"]
	r := input.resources[i]
	not r.props.expiresAt
}

# METADATA
# title: The Kapsule API endpoint has an allow-list
# description: A Kapsule cluster's API is public; without an ACL resource naming it, every address reaches it.
# custom:
#   control: DPA-ACC-012
decisions contains result.violation("DPA-ACC-012", r, "the Kubernetes API endpoint is public and no ACL names the cluster: every address may reach it") if {
	some i in input.index.type["scaleway:kubernetes/cluster:Cluster"]
	r := input.resources[i]
	r.linked.acl == false
}

# METADATA
# title: The Kapsule API ACL does not admit the internet
# custom:
#   control: DPA-ACC-012
decisions contains result.violation("DPA-ACC-012", r, msg) if {
	some i in input.index.type["scaleway:kubernetes/acl:Acl"]
	r := input.resources[i]
	some rule in object.get(r.props, "aclRules", [])
	not rule.scalewayRanges == true
	facts.is_internet(rule.ip)
	msg := sprintf("Kubernetes API ACL admits the internet (%v)", [rule.ip])
}

# METADATA
# title: The Kapsule API ACL does not admit every Scaleway address
# custom:
#   control: DPA-ACC-012
decisions contains result.violation("DPA-ACC-012", r, "Kubernetes API ACL admits every Scaleway address (scalewayRanges): any Scaleway customer's machine may reach it") if {
	some i in input.index.type["scaleway:kubernetes/acl:Acl"]
	r := input.resources[i]
	some rule in object.get(r.props, "aclRules", [])
	rule.scalewayRanges == true
}

# An EKS cluster's API endpoint: public unless endpointPublicAccess is false, and then open to
# publicAccessCidrs, which AWS defaults to 0.0.0.0/0.
_eks_public(r) if not r.props.vpcConfig.endpointPublicAccess == false

# METADATA
# title: An EKS API endpoint admits only listed ranges
# description: Another provider's Kubernetes API is an administrative door too (Appendix C §8.1).
# custom:
#   control: DPA-ACC-012
decisions contains result.violation("DPA-ACC-012", r, msg) if {
	some i in input.index.type["aws:eks/cluster:Cluster"]
	r := input.resources[i]
	_eks_public(r)
	is_object(r.props.vpcConfig)
	cidrs := object.get(r.props.vpcConfig, "publicAccessCidrs", [])
	is_array(cidrs)
	some cidr in cidrs
	facts.is_internet(cidr)
	msg := sprintf("the EKS API endpoint is public and admits the internet (%v)", [cidr])
}

# METADATA
# title: An EKS API endpoint with no allow-list
# custom:
#   control: DPA-ACC-012
decisions contains result.violation("DPA-ACC-012", r, "the EKS API endpoint is public and publicAccessCidrs is unset: AWS admits every address (0.0.0.0/0)") if {
	some i in input.index.type["aws:eks/cluster:Cluster"]
	r := input.resources[i]
	_eks_public(r)
	_eks_no_allow_list(r)
}

# Unset when the block or its list is absent; a value unknown until apply is input_types' to report.
_eks_no_allow_list(r) if not r.props.vpcConfig

_eks_no_allow_list(r) if {
	is_object(r.props.vpcConfig)
	cidrs := object.get(r.props.vpcConfig, "publicAccessCidrs", [])
	is_array(cidrs)
	count(cidrs) == 0
}
