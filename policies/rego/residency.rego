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
decisions contains result.violation("DPA-RES-003", r, msg) if {
	some i in input.index.type["scaleway:databases/instance:Instance"]
	r := input.resources[i]
	not r.props.backupSameRegion == true
	not r.props.backupSameRegion == input.context.unknown
	msg := "backupSameRegion is false or unset: backups are stored outside the instance's region"
}

# METADATA
# title: backupSameRegion unknown in preview
# custom:
#   control: DPA-RES-003
decisions contains result.undetermined("DPA-RES-003", r, "backupSameRegion is unknown until apply") if {
	some i in input.index.type["scaleway:databases/instance:Instance"]
	r := input.resources[i]
	r.props.backupSameRegion == input.context.unknown
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

# METADATA
# title: DataPacket location unknown in preview
# custom:
#   control: DPA-RES-005
decisions contains result.undetermined("DPA-RES-005", r, "DataPacket location is unknown until apply") if {
	some i in _servers
	r := input.resources[i]
	r.props.location == input.context.unknown
}

# METADATA
# title: Zone's datacenter is named in Appendix C §1.2
# description: Advisory - a French zone outside the DPA's named sites.
# custom:
#   control: DPA-RES-006
decisions contains result.violation("DPA-RES-006", r, msg) if {
	some value, positions in input.index.locality.zone.known
	value in _approved_zones
	not data.dpa.locations.scaleway.zones[value].appendix_c
	some i in positions
	r := input.resources[i]
	msg := sprintf("zone %v is in France but its datacenter is not among those named in Appendix C §1.2", [r.locality.zone])
}
