# METADATA
# title: Residency
# description: Appendix C §1.1 - every hosting centre is in France; Appendix C §1.2 - the named sites.
package dpaguard.residency

import rego.v1

import data.dpaguard.lib.result

_approved_regions := {name | some name in data.dpa.locations.scaleway.approved_regions}

_approved_zones := {name | some name in data.dpa.locations.scaleway.approved_zones}

_approved_datapacket := {name | some name in data.dpa.locations.datapacket.approved_locations}

# input.index.locality: scope (region|zone) -> status (known|unknown|missing) -> value ("" unless known) -> positions.

# METADATA
# title: Scaleway regional resources are in a French region
# description: The effective region (resource, else provider, else stack config) is approved.
# custom:
#   control: DPA-RES-001
decisions contains result.violation("DPA-RES-001", r, msg) if {
	some value, positions in input.index.locality.region.known
	not value in _approved_regions
	some i in positions
	r := input.resources[i]
	msg := sprintf("region %v (from the %v) is outside France", [r.locality.region, r.locality.source])
}

# METADATA
# title: Regional resource whose region is unknown in preview
# custom:
#   control: DPA-RES-001
decisions contains result.undetermined("DPA-RES-001", r, "region is unknown until apply; cannot show it is in France") if {
	some i in input.index.locality.region.unknown[""]
	r := input.resources[i]
}

# METADATA
# title: Regional resource whose region cannot be determined
# description: No region on the resource, its provider or the stack config - fail closed.
# custom:
#   control: DPA-RES-001
decisions contains result.violation("DPA-RES-001", r, "region cannot be determined (no region on the resource, its provider or the stack config)") if {
	some i in input.index.locality.region.missing[""]
	r := input.resources[i]
}

# METADATA
# title: Scaleway zonal resources are in a French zone
# custom:
#   control: DPA-RES-002
decisions contains result.violation("DPA-RES-002", r, msg) if {
	some value, positions in input.index.locality.zone.known
	not value in _approved_zones
	some i in positions
	r := input.resources[i]
	msg := sprintf("zone %v (from the %v) is outside France", [r.locality.zone, r.locality.source])
}

# METADATA
# title: Zonal resource whose zone is unknown in preview
# custom:
#   control: DPA-RES-002
decisions contains result.undetermined("DPA-RES-002", r, "zone is unknown until apply; cannot show it is in France") if {
	some i in input.index.locality.zone.unknown[""]
	r := input.resources[i]
}

# METADATA
# title: Zonal resource whose zone cannot be determined
# custom:
#   control: DPA-RES-002
decisions contains result.violation("DPA-RES-002", r, "zone cannot be determined (no zone on the resource, its provider or the stack config)") if {
	some i in input.index.locality.zone.missing[""]
	r := input.resources[i]
}

# METADATA
# title: Database backups stay in the instance's region
# description: The provider default (unset) stores backups in another region.
# custom:
#   control: DPA-RES-003
decisions contains result.violation("DPA-RES-003", r, "backupSameRegion is false or unset: backups are stored outside the instance's region") if {
	some i in input.index.type["scaleway:databases/instance:Instance"]
	r := input.resources[i]
	not r.props.backupSameRegion == true
	not r.props.backupSameRegion == input.context.unknown
}

# METADATA
# title: Database read replicas are in France
# custom:
#   control: DPA-RES-004
decisions contains result.violation("DPA-RES-004", r, msg) if {
	some i in input.index.type["scaleway:databases/readReplica:ReadReplica"]
	r := input.resources[i]
	r.locality.status != "unknown"
	not r.locality.region in _approved_regions
	msg := sprintf("read replica in region %v, outside France", [r.locality.region])
}

# METADATA
# title: Read replica region unknown in preview
# custom:
#   control: DPA-RES-004
decisions contains result.undetermined("DPA-RES-004", r, "read replica region is unknown until apply") if {
	some i in input.index.type["scaleway:databases/readReplica:ReadReplica"]
	r := input.resources[i]
	r.locality.status == "unknown"
}

_servers := input.index.type["pulumi-python:dynamic/datapacket:Server"]

# METADATA
# title: DataPacket servers are in a French location
# custom:
#   control: DPA-RES-005
decisions contains result.violation("DPA-RES-005", r, msg) if {
	some i in _servers
	r := input.resources[i]
	some key in ["location", "actualLocation"]
	location := r.props[key]
	location != input.context.unknown
	not location in _approved_datapacket
	msg := sprintf("DataPacket %v %v is not an approved French location", [key, location])
}

# METADATA
# title: DataPacket servers declare country FR
# custom:
#   control: DPA-RES-005
decisions contains result.violation("DPA-RES-005", r, msg) if {
	some i in _servers
	r := input.resources[i]
	code := r.props.countryCode
	code != input.context.unknown
	code != "FR"
	msg := sprintf("DataPacket countryCode is %v, not FR", [code])
}

# METADATA
# title: DataPacket server with no location
# custom:
#   control: DPA-RES-005
decisions contains result.violation("DPA-RES-005", r, "DataPacket server declares no location") if {
	some i in _servers
	r := input.resources[i]
	not r.props.location
}

# Whether a place's hosting sites are named in Appendix C §1.2 (all, some, none, unknown): worked
# out from policies/dpa/locations.yaml `sites` when the policies load.
_zone_named(zone) := data.dpa.locations.scaleway.zones[zone].appendix_c

_datapacket_named(location) := data.dpa.locations.datapacket.locations[location].appendix_c

_site_messages := {
	"none": "none of its hosting sites is named in Appendix C §1.2",
	"unknown": "its hosting site is not recorded, so it cannot be shown to be one Appendix C §1.2 names",
}

_site_status := {"none": "violation", "unknown": "undetermined"}

# METADATA
# title: A zone's hosting sites are named in Appendix C §1.2
# description: A French zone none of whose datacenters the DPA names (fr-par-2, fr-par-3), or whose sites are unknown.
# custom:
#   control: DPA-RES-006
decisions contains result.decision("DPA-RES-006", r, msg, status) if {
	some value, positions in input.index.locality.zone.known
	value in _approved_zones
	named := _zone_named(value)
	some i in positions
	r := input.resources[i]
	status := _site_status[named]
	msg := sprintf("zone %v: %v", [r.locality.zone, _site_messages[named]])
}

# METADATA
# title: A DataPacket location's hosting sites are named in Appendix C §1.2
# description: A French DataPacket location that is not one of the named sites (Marseille), or whose sites are unknown.
# custom:
#   control: DPA-RES-006
decisions contains result.decision("DPA-RES-006", r, msg, status) if {
	some i in _servers
	r := input.resources[i]
	some key in ["location", "actualLocation"]
	location := r.props[key]
	location in _approved_datapacket
	named := _datapacket_named(location)
	status := _site_status[named]
	msg := sprintf("DataPacket %v %v: %v", [key, location, _site_messages[named]])
}

# METADATA
# title: A zone spans a named and an unnamed hosting site
# description: |
#   fr-par-1 is Scaleway's DC2 and DC3; §1.2 names DC3 only, and a resource cannot choose its
#   datacenter within a zone. Undetermined and advisory, once per stack and zone (locations.yaml); the
#   message counts nothing, since the engine may judge the resources in parts.
# custom:
#   control: DPA-RES-007
decisions contains result.undetermined("DPA-RES-007", s, msg) if {
	some value, positions in input.index.locality.zone.known
	_zone_named(value) == "some"
	some s in input.stacks
	placed := [i | some i in positions; input.resources[i].stack == s.name]
	count(placed) > 0
	msg := sprintf("zone %v holds resources of the stack; its datacenters Appendix C §1.2 names only in part (policies/dpa/locations.yaml); the provider does not show which one hosts a resource", [value])
}
