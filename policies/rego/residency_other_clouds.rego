# Residency of every other provider: a second module of package dpaguard.residency (residency.rego holds its METADATA).
# Appendix C §1.1 - "All the centres where the data ... are hosted are located in France", for every
# provider: a resource of another cloud (AWS, GCP, Azure, Hetzner, OVH, ...) is judged by the place
# its provider names (facts `place`) and that place's country (locations.yaml `other_clouds`).
# Scaleway and DataPacket resources are judged by residency.rego (DPA-RES-001/002/005).
package dpaguard.residency

import rego.v1

import data.dpaguard.lib.result

_other_cloud_countries := data.dpa.locations.other_clouds

# Each placed resource of a package settings.yaml places (other_cloud_regions), with its package.
_other_cloud_placed contains [i, package_name] if {
	some package_name, _ in data.dpa.settings.other_cloud_regions
	some i in object.get(input.index.package, package_name, [])
	is_string(input.resources[i].place)
}

# METADATA
# title: Resources of every other provider are hosted in France
# description: A place whose recorded country is not an approved one (approved_countries).
# custom:
#   control: DPA-RES-008
decisions contains result.violation("DPA-RES-008", r, msg) if {
	some [i, package_name] in _other_cloud_placed
	r := input.resources[i]
	country := object.get(object.get(_other_cloud_countries, package_name, {}), r.place, null)
	is_string(country)
	not country in data.dpa.locations.approved_countries
	msg := sprintf("hosted by %v in %v (%v), not in France", [package_name, r.place, country])
}

# METADATA
# title: A place not shown to be in France
# description: A place locations.yaml does not record, or records as spanning several countries (null).
# custom:
#   control: DPA-RES-008
decisions contains result.undetermined("DPA-RES-008", r, msg) if {
	some [i, package_name] in _other_cloud_placed
	r := input.resources[i]
	not is_string(object.get(object.get(_other_cloud_countries, package_name, {}), r.place, null))
	msg := sprintf("hosted by %v in %v, a place not shown to be in one country, France (policies/dpa/locations.yaml other_clouds)", [package_name, r.place])
}
