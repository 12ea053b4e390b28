# METADATA
# title: Updates
# description: |
#   Appendix C §7 - security patches enforced on production; §8.1 - servers updated regularly.
#   Kapsule clusters take patch versions automatically in a maintenance window; managed engines are
#   not past their end of life (policies/dpa/versions.yaml).
package dpaguard.updates

import rego.v1

import data.dpaguard.lib.facts
import data.dpaguard.lib.result

_database_type := "scaleway:databases/instance:Instance"

_server_type := "scaleway:instance/server:Server"

# The managed engines and the instances whose versions (images) versions.yaml records.
_engine_types := {_database_type, _server_type, "scaleway:redis/cluster:Cluster", "scaleway:mongodb/instance:Instance"}

# METADATA
# title: Kapsule clusters apply patch versions automatically
# description: |
#   The provider leaves auto-upgrade off unless `autoUpgrade.enable` is true; with it the provider
#   requires a maintenance window (day and start hour), in which patch versions are applied.
# custom:
#   control: DPA-UPD-001
decisions contains result.violation("DPA-UPD-001", r, "patch versions are not applied automatically (autoUpgrade.enable is not true; the provider default is off)") if {
	some i in input.index.type["scaleway:kubernetes/cluster:Cluster"]
	r := input.resources[i]
	not _auto_upgrade_enabled(r)
	not _auto_upgrade_unknown(r)
}

_auto_upgrade_enabled(r) if r.props.autoUpgrade.enable == true

# Unknown until apply: reported undetermined by input_types.rego, not judged here.
_auto_upgrade_unknown(r) if facts.is_unknown(r.props.autoUpgrade)

_auto_upgrade_unknown(r) if facts.is_unknown(r.props.autoUpgrade.enable)

# The version a managed engine of a type runs: a database's `engine` ("PostgreSQL-16"), an instance's
# `image` label ("ubuntu_focal"; a UUID names an image of its own, never recorded), a Redis cluster's
# or a MongoDB instance's `version` ("7.2.5"); only a known string is judged. The type comes
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
# title: A managed engine's end of life is recorded
# description: A version versions.yaml does not record cannot be shown to receive security patches.
# custom:
#   control: DPA-UPD-003
decisions contains result.undetermined("DPA-UPD-003", r, msg) if {
	some [i, type_token, v] in _engines
	r := input.resources[i]
	count(_entries(type_token, v)) == 0
	msg := sprintf("no end of life is recorded for %v (policies/dpa/versions.yaml): whether it still receives security patches cannot be shown", [v])
}
