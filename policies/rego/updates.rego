# METADATA
# title: Updates
# description: |
#   Appendix C §7 - security patches enforced on production; §8.1 - servers updated regularly.
#   Kapsule clusters take patch versions automatically in a maintenance window; managed engines are
#   not past their end of life nor below a security floor (policies/dpa/versions.yaml).
package dpaguard.updates

import rego.v1

import data.dpaguard.lib.facts
import data.dpaguard.lib.result

_database_type := "scaleway:databases/instance:Instance"

_server_type := "scaleway:instance/server:Server"

_kapsule_type := "scaleway:kubernetes/cluster:Cluster"

# The managed engines, the Kapsule clusters and the instances whose versions (images) versions.yaml records.
_engine_types := {
	_database_type, _server_type, _kapsule_type,
	"scaleway:redis/cluster:Cluster", "scaleway:mongodb/instance:Instance",
}

# METADATA
# title: Kapsule clusters apply patch versions automatically
# description: |
#   The provider leaves auto-upgrade off unless `autoUpgrade.enable` is true; with it the provider
#   requires a maintenance window (day and start hour), in which patch versions are applied.
# custom:
#   control: DPA-UPD-001
decisions contains result.violation("DPA-UPD-001", r, "patch versions are not applied automatically (autoUpgrade.enable is not true; the provider default is off)") if {
	some i in input.index.type[_kapsule_type]
	r := input.resources[i]
	not _auto_upgrade_enabled(r)
	not _auto_upgrade_unknown(r)
}

_auto_upgrade_enabled(r) if r.props.autoUpgrade.enable == true

# Unknown until apply: reported undetermined by input_types.rego, not judged here.
_auto_upgrade_unknown(r) if facts.is_unknown(r.props.autoUpgrade)

_auto_upgrade_unknown(r) if facts.is_unknown(r.props.autoUpgrade.enable)

# The version a managed engine of a type runs: a database's `engine` ("PostgreSQL-16"), an instance's
# `image` label ("ubuntu_focal"; a UUID names an image of its own, never recorded), a Redis cluster's,
# a MongoDB instance's or a Kapsule cluster's `version` ("7.2.5", "1.35"); only a known string is judged. The type comes
# from the index: the Rego input's resources do not carry it (engine shaping).
_version(type_token, r) := v if {
	type_token == _database_type
	v := r.props.engine
	is_string(v)
	not facts.is_unknown(v)
}

_version(type_token, r) := v if {
	type_token == _server_type
	v := r.props.image
	is_string(v)
	not facts.is_unknown(v)
}

_version(type_token, r) := v if {
	not type_token in {_database_type, _server_type}
	v := r.props.version
	is_string(v)
	not facts.is_unknown(v)
}

# A recorded version matches a value equal to it or starting with it and a dot ("7.2" matches "7.2.5").
_matches(value, version) if value == version

_matches(value, version) if startswith(value, concat("", [version, "."]))

# The versions.yaml entries that match a resource's version (a set: "7" and "7.2" may both match).
_entries(type_token, value) := {e |
	some e in object.get(data.dpa.versions.engines, type_token, [])
	_matches(value, e.version)
}

# The security floors of a type in force on the run's date (context.today, an ISO date compared as text):
# a notice applies from its date on.
_floors_in_force(type_token, today) := {f |
	some f in object.get(data.dpa.versions, ["floors", type_token], [])
	f.since <= today
}

# Only two plain MAJOR.MINOR.PATCH values are compared: "7.2" or "PostgreSQL-16" against a floor is
# undetermined. The pattern comes first because engines differ on what else semver.is_valid admits
# (OPA takes "v7.2.11", regopy does not).
_plain_semver := `^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`

_comparable(value, fixed_in) if {
	regex.match(_plain_semver, value)
	regex.match(_plain_semver, fixed_in)
	semver.is_valid(value)
	semver.is_valid(fixed_in)
}

_below(value, fixed_in) if {
	_comparable(value, fixed_in)
	semver.compare(value, fixed_in) < 0
}

_engines contains [i, type_token, v] if {
	some type_token in _engine_types
	some i in input.index.type[type_token]
	v := _version(type_token, input.resources[i])
}

# METADATA
# title: Managed engines are not past their end of life
# description: An end of life on or before the run's date (context.today, an ISO date compared as text).
# custom:
#   control: DPA-UPD-002
decisions contains result.violation("DPA-UPD-002", r, msg) if {
	today := input.context.today
	is_string(today)
	some [i, type_token, v] in _engines
	r := input.resources[i]
	some e in _entries(type_token, v)
	e.end_of_life <= today
	msg := sprintf("%v reached its end of life on %v (%v): it receives no security patches", [v, e.end_of_life, e.source])
}

# METADATA
# title: Managed engines are not below a security floor
# description: A version below a floor in force carries the floor's advisory (versions.yaml `floors`).
# custom:
#   control: DPA-UPD-002
decisions contains result.violation("DPA-UPD-002", r, msg) if {
	today := input.context.today
	is_string(today)
	some [i, type_token, v] in _engines
	r := input.resources[i]
	some f in _floors_in_force(type_token, today)
	_below(v, f.below)
	msg := sprintf("%v is below %v, the security floor since %v: it carries %v, fixed in %v (%v)", [v, f.below, f.since, f.advisory, f.below, f.source])
}

# METADATA
# title: A version that cannot be compared with a security floor is not passed
# description: Fail closed - a version that is not MAJOR.MINOR.PATCH may be below the floor.
# custom:
#   control: DPA-UPD-002
decisions contains result.undetermined("DPA-UPD-002", r, msg) if {
	today := input.context.today
	is_string(today)
	some [i, type_token, v] in _engines
	r := input.resources[i]
	some f in _floors_in_force(type_token, today)
	not _comparable(v, f.below)
	msg := sprintf("%v cannot be compared with the security floor %v (%v, since %v; %v): whether it carries %v cannot be shown", [v, f.below, f.advisory, f.since, f.source, f.advisory])
}

# METADATA
# title: A managed engine's end of life is recorded
# description: |
#   A version versions.yaml does not record cannot be shown to receive security patches. A security
#   floor says nothing of an end of life: a version above every floor is still undetermined here.
# custom:
#   control: DPA-UPD-003
decisions contains result.undetermined("DPA-UPD-003", r, msg) if {
	some [i, type_token, v] in _engines
	r := input.resources[i]
	count(_entries(type_token, v)) == 0
	msg := sprintf("no end of life is recorded for %v (policies/dpa/versions.yaml): whether it still receives security patches cannot be shown", [v])
}
