package dpaguard.residency_test

import rego.v1

import data.dpaguard.residency

_unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_prod := {
	"name": "prod", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "pulumi_project": "dpa",
	"environment": "prod", "environment_source": "stack name", "scaleway_project": "11111111-1111-1111-1111-111111111111",
	"default_region": "fr-par", "default_zone": "fr-par-1",
	"settings": {"minBackupRetentionDays": 7, "callRecordingRetentionDays": 90, "transcriptRetentionDays": 90},
	"config_file": "Pulumi.prod.yaml", "plaintext_config_keys": [], "subprocessors": ["SCALEWAY"], "late_subprocessors": [],
}

_context := {"today": "2026-11-29", "unknown": _unknown, "internet": {}, "subprocessor_notice": {"SCALEWAY": 15}}

# The index as the normaliser builds it (build_index), every key present.
_index(groups) := object.union(
	{
		"package": {}, "type": {}, "locality": {}, "project": {}, "env_tag": {}, "subprocessor_country": {},
		"data_category": {}, "plaintext": [], "malformed": [], "unknown": [], "foreign": [], "shape": {"bucket": []}, "outside_scope": {},
	},
	groups,
)

_input(resource, groups) := {"stacks": [_prod], "resources": [resource], "index": _index(groups), "context": _context}

# Locality as the normaliser resolves it: `value` is the region or zone when known, "" otherwise.
_locality_index(scope, status, value) := {"locality": {scope: {status: {value: [0]}}}}

# A regional resource (a VPC) whose effective region is `region`.
_vpc_urn := "urn:pulumi:prod::dpa::scaleway:network/vpc:Vpc::main"

_vpc(region, status, source) := _input(
	{
		"urn": _vpc_urn, "stack": "prod", "environment": "prod",
		"locality": {"region": region, "zone": null, "status": status, "source": source},
		"project": {"value": "11111111-1111-1111-1111-111111111111", "source": "stack"},
		"props": {},
	},
	object.union(
		{"package": {"scaleway": [0]}, "type": {"scaleway:network/vpc:Vpc": [0]}},
		_locality_index("region", status, _known_value(region, status)),
	),
)

_known_value(value, "known") := value

_known_value(_, status) := "" if status != "known"

test_region_outside_france_is_a_violation if {
	decisions := residency.decisions with input as _vpc("nl-ams", "known", "resource")
	decisions == {{
		"control": "DPA-RES-001", "urn": _vpc_urn, "status": "violation",
		"message": "region nl-ams (from the resource) is outside France",
	}}
}

test_region_outside_france_from_the_provider_names_the_provider if {
	decisions := residency.decisions with input as _vpc("pl-waw", "known", "provider")
	some d in decisions
	d.message == "region pl-waw (from the provider) is outside France"
}

test_french_region_passes if {
	decisions := residency.decisions with input as _vpc("fr-par", "known", "stack")
	count(decisions) == 0
}

test_unknown_region_is_undetermined if {
	decisions := residency.decisions with input as _vpc(_unknown, "unknown", "resource")
	decisions == {{
		"control": "DPA-RES-001", "urn": _vpc_urn, "status": "undetermined",
		"message": "region is unknown until apply; cannot show it is in France",
	}}
}

test_missing_region_is_a_violation if {
	decisions := residency.decisions with input as _vpc(null, "missing", "none")
	decisions == {{
		"control": "DPA-RES-001", "urn": _vpc_urn, "status": "violation",
		"message": "region cannot be determined (no region on the resource, its provider or the stack config)",
	}}
}

# A zonal resource (an instance server) in `zone`.
_server_urn := "urn:pulumi:prod::dpa::scaleway:instance/server:Server::web"

_instance(zone, region, status) := _input(
	{
		"urn": _server_urn, "stack": "prod", "environment": "prod",
		"locality": {"region": region, "zone": zone, "status": status, "source": "resource"},
		"project": {"value": "11111111-1111-1111-1111-111111111111", "source": "stack"},
		"props": {},
	},
	object.union(
		{"package": {"scaleway": [0]}, "type": {"scaleway:instance/server:Server": [0]}},
		_locality_index("zone", status, _known_value(zone, status)),
	),
)

test_zone_outside_france_is_a_violation if {
	decisions := residency.decisions with input as _instance("nl-ams-1", "nl-ams", "known")
	decisions == {{
		"control": "DPA-RES-002", "urn": _server_urn, "status": "violation",
		"message": "zone nl-ams-1 (from the resource) is outside France",
	}}
}

test_zone_spanning_a_named_and_an_unnamed_datacenter_is_undetermined_once_per_stack if {
	# fr-par-1 is DC2 and DC3; Appendix C §1.2 names DC3 only: neither a pass nor a violation.
	decisions := residency.decisions with input as _instance("fr-par-1", "fr-par", "known")
	decisions == {{
		"control": "DPA-RES-007", "urn": "urn:pulumi:prod::dpa::pulumi:pulumi:Stack::dpa-prod", "status": "undetermined",
		"message": "zone fr-par-1 holds resources of the stack; its datacenters Appendix C §1.2 names only in part (policies/dpa/locations.yaml); the provider does not show which one hosts a resource",
	}}
}

test_unknown_zone_is_undetermined if {
	decisions := residency.decisions with input as _instance(_unknown, _unknown, "unknown")
	{d.control | some d in decisions} == {"DPA-RES-002"}
	{d.status | some d in decisions} == {"undetermined"}
}

test_missing_zone_is_a_violation if {
	decisions := residency.decisions with input as _instance(null, null, "missing")
	decisions == {{
		"control": "DPA-RES-002", "urn": _server_urn, "status": "violation",
		"message": "zone cannot be determined (no zone on the resource, its provider or the stack config)",
	}}
}

test_french_zone_whose_datacenter_is_not_named_is_a_violation if {
	decisions := residency.decisions with input as _instance("fr-par-2", "fr-par", "known")
	decisions == {{
		"control": "DPA-RES-006", "urn": _server_urn, "status": "violation",
		"message": "zone fr-par-2: none of its hosting sites is named in Appendix C §1.2",
	}}
}

test_french_zone_whose_sites_are_unknown_is_undetermined if {
	zones := {"fr-par-9": {"region": "fr-par", "country": "FR", "sites": null, "appendix_c": "unknown"}}
	decisions := residency.decisions with input as _instance("fr-par-9", "fr-par", "known")
		with data.dpa.locations.scaleway.zones as object.union(data.dpa.locations.scaleway.zones, zones)
		with data.dpa.locations.scaleway.approved_zones as ["fr-par-1", "fr-par-2", "fr-par-3", "fr-par-9"]
	decisions == {{
		"control": "DPA-RES-006", "urn": _server_urn, "status": "undetermined",
		"message": "zone fr-par-9: its hosting site is not recorded, so it cannot be shown to be one Appendix C §1.2 names",
	}}
}

# A managed database in fr-par with these props.
_database_urn := "urn:pulumi:prod::dpa::scaleway:databases/instance:Instance::main"

_database(props) := _input(
	{
		"urn": _database_urn, "stack": "prod", "environment": "prod",
		"locality": {"region": "fr-par", "zone": null, "status": "known", "source": "stack"},
		"project": {"value": "11111111-1111-1111-1111-111111111111", "source": "stack"},
		"props": props,
	},
	{
		"package": {"scaleway": [0]}, "type": {"scaleway:databases/instance:Instance": [0]},
		"locality": {"region": {"known": {"fr-par": [0]}}},
	},
)

test_database_backups_in_another_region_are_a_violation if {
	decisions := residency.decisions with input as _database({"backupSameRegion": false})
	decisions == {{
		"control": "DPA-RES-003", "urn": _database_urn, "status": "violation",
		"message": "backupSameRegion is false or unset: backups are stored outside the instance's region",
	}}
}

test_database_without_backup_same_region_is_a_violation if {
	decisions := residency.decisions with input as _database({})
	{d.control | some d in decisions} == {"DPA-RES-003"}
}

test_database_backups_in_the_same_region_pass if {
	decisions := residency.decisions with input as _database({"backupSameRegion": true})
	count(decisions) == 0
}

# A value unknown until apply is not judged by this area's rules: the normaliser lists it in `unknown`
# and input_types.rego makes every control that reads it undetermined.
test_backup_same_region_unknown_is_no_violation_here if {
	decisions := residency.decisions with input as _database({"backupSameRegion": _unknown})
	count(decisions) == 0
}

# A read replica; the normaliser also indexes it by region (so DPA-RES-001 judges it too).
_replica_urn := "urn:pulumi:prod::dpa::scaleway:databases/readReplica:ReadReplica::reports"

_replica(region, status) := _input(
	{
		"urn": _replica_urn, "stack": "prod", "environment": "prod",
		"locality": {"region": region, "zone": null, "status": status, "source": "resource"},
		"props": {},
	},
	object.union(
		{"package": {"scaleway": [0]}, "type": {"scaleway:databases/readReplica:ReadReplica": [0]}},
		_locality_index("region", status, _known_value(region, status)),
	),
)

test_read_replica_outside_france_is_a_violation if {
	decisions := residency.decisions with input as _replica("nl-ams", "known")
	{
		"control": "DPA-RES-004", "urn": _replica_urn, "status": "violation",
		"message": "read replica in region nl-ams, outside France",
	} in decisions
}

test_read_replica_in_france_passes if {
	decisions := residency.decisions with input as _replica("fr-par", "known")
	count(decisions) == 0
}

test_read_replica_region_unknown_is_undetermined if {
	decisions := residency.decisions with input as _replica(_unknown, "unknown")
	{
		"control": "DPA-RES-004", "urn": _replica_urn, "status": "undetermined",
		"message": "read replica region is unknown until apply",
	} in decisions
	every d in decisions {
		d.status == "undetermined"
	}
}

# A DataPacket server: no Scaleway locality, judged on its props.
_datapacket_urn := "urn:pulumi:prod::dpa::pulumi-python:dynamic/datapacket:Server::sip-1"

_datapacket(props) := _input(
	{
		"urn": _datapacket_urn, "stack": "prod", "environment": "prod",
		"locality": {"region": null, "zone": null, "status": "known", "source": "none"},
		"props": props,
	},
	{
		"package": {"datapacket": [0]}, "type": {"pulumi-python:dynamic/datapacket:Server": [0]},
		"subprocessor_country": {"DATAPACKET": {"FR": [0]}},
	},
)

test_datapacket_outside_france_is_a_violation if {
	decisions := residency.decisions with input as _datapacket({"location": "Amsterdam", "countryCode": "FR"})
	decisions == {{
		"control": "DPA-RES-005", "urn": _datapacket_urn, "status": "violation",
		"message": "DataPacket location Amsterdam is not an approved French location",
	}}
}

test_datapacket_actual_location_outside_france_is_a_violation if {
	decisions := residency.decisions with input as _datapacket({"location": "Paris", "actualLocation": "Frankfurt", "countryCode": "FR"})
	{d.message | some d in decisions} == {"DataPacket actualLocation Frankfurt is not an approved French location"}
}

test_datapacket_country_other_than_fr_is_a_violation if {
	decisions := residency.decisions with input as _datapacket({"location": "Paris", "countryCode": "DE"})
	{d.message | some d in decisions} == {"DataPacket countryCode is DE, not FR"}
}

test_datapacket_without_location_is_a_violation if {
	decisions := residency.decisions with input as _datapacket({"countryCode": "FR"})
	decisions == {{
		"control": "DPA-RES-005", "urn": _datapacket_urn, "status": "violation",
		"message": "DataPacket server declares no location",
	}}
}

# A value unknown until apply is not judged by this area's rules: the normaliser lists it in `unknown`
# and input_types.rego makes every control that reads it undetermined.
test_datapacket_location_unknown_is_no_violation_here if {
	decisions := residency.decisions with input as _datapacket({"location": _unknown, "countryCode": "FR"})
	count(decisions) == 0
}

test_datapacket_paris_passes if {
	decisions := residency.decisions with input as _datapacket({"location": "Paris", "actualLocation": "Paris", "countryCode": "FR"})
	count(decisions) == 0
}

test_datapacket_marseille_is_a_site_appendix_c_does_not_name if {
	decisions := residency.decisions with input as _datapacket({"location": "Marseille", "countryCode": "FR"})
	decisions == {{
		"control": "DPA-RES-006", "urn": _datapacket_urn, "status": "violation",
		"message": "DataPacket location Marseille: none of its hosting sites is named in Appendix C §1.2",
	}}
}
