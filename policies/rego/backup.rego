# METADATA
# title: Backup
# description: Appendix C §8.1 - automatic hot and cold backups; §1.3 - business continuity.
package dpaguard.backup

import rego.v1

import data.dpaguard.lib.facts
import data.dpaguard.lib.result

_databases := input.index.type["scaleway:databases/instance:Instance"]

_defaults := data.dpa.settings.provider_defaults

# METADATA
# title: Database backups are enabled
# custom:
#   control: DPA-BAK-001
decisions contains result.violation("DPA-BAK-001", r, "automatic backups are disabled (disableBackup)") if {
	some i in _databases
	r := input.resources[i]
	r.props.disableBackup == true
}

# METADATA
# title: Database backup retention meets the minimum
# description: Unset means the provider default (7 days).
# custom:
#   control: DPA-BAK-002
decisions contains result.violation("DPA-BAK-002", r, msg) if {
	some i in _databases
	r := input.resources[i]
	not r.props.disableBackup == true
	days := facts.prop_or(r, "backupScheduleRetention", _defaults.rdb_backup_retention_days)
	not facts.is_unknown(days)
	is_number(days)
	minimum := facts.stack_of(r).settings.minBackupRetentionDays
	is_number(minimum)
	days < minimum
	msg := sprintf("backups are kept %v days, less than the minimum of %v", [days, minimum])
}

# METADATA
# title: Databases are backed up at least daily
# custom:
#   control: DPA-BAK-003
decisions contains result.violation("DPA-BAK-003", r, msg) if {
	some i in _databases
	r := input.resources[i]
	not r.props.disableBackup == true
	hours := facts.prop_or(r, "backupScheduleFrequency", _defaults.rdb_backup_frequency_hours)
	not facts.is_unknown(hours)
	is_number(hours)
	hours > 24
	msg := sprintf("backups run every %v hours, less often than daily", [hours])
}

# METADATA
# title: Production databases are database clusters
# description: Appendix C §8.1 names "machines and database clusters"; enforced in prod only (controls.yaml).
# custom:
#   control: DPA-BAK-004
decisions contains result.violation("DPA-BAK-004", r, "database is a single node, not a database cluster (isHaCluster)") if {
	some i in _databases
	r := input.resources[i]
	not r.props.isHaCluster == true
	not facts.is_unknown(object.get(r.props, "isHaCluster", null))
}

# Buckets grouped by the facts rules read (normaliser SHAPES["bucket"], see retention.rego).
_buckets := input.index.shape.bucket

_personal_categories contains name if {
	some name, c in data.dpa.retention.categories
	c.personal
}

_personal(category) if category in _personal_categories

# Groups of buckets holding personal data that are not versioned, with their message: judged per
# group, then given to each bucket of the group by the rule below (two rules, as in retention.rego).
_unversioned_personal[k] := msg if {
	some k, g in _buckets
	_personal(g.data_category)
	not g.props.versioning.enabled == true
	msg := sprintf("bucket holds %v (personal data) and is not versioned: an overwrite or deletion cannot be undone", [g.data_category])
}

# METADATA
# title: Buckets holding personal data keep old versions
# description: Every bucket of a group that _unversioned_personal judges unversioned (not a backup, see controls.yaml).
# custom:
#   control: DPA-BAK-005
decisions contains result.violation("DPA-BAK-005", r, msg) if {
	some k, msg in _unversioned_personal
	some i in _buckets[k].positions
	r := input.resources[i]
}

_approved_target(target) if {
	parts := split(target, ":")
	count(parts) == 2
	parts[0] == "scaleway"
	parts[1] in data.dpa.locations.scaleway.approved_regions
}

_approved_target(target) if {
	parts := split(target, ":")
	count(parts) == 2
	parts[0] == "datapacket"
	parts[1] in data.dpa.locations.datapacket.approved_locations
}

# METADATA
# title: DataPacket servers are backed up in France
# custom:
#   control: DPA-BAK-006
decisions contains result.violation("DPA-BAK-006", r, msg) if {
	some i in input.index.type["pulumi-python:dynamic/datapacket:Server"]
	r := input.resources[i]
	target := r.props.backupTarget
	not facts.is_unknown(target)
	not _approved_target(target)
	msg := sprintf("backup target %v is not an approved French location", [target])
}

# METADATA
# title: DataPacket servers declare a backup target
# custom:
#   control: DPA-BAK-006
decisions contains result.violation("DPA-BAK-006", r, "server declares no backup target") if {
	some i in input.index.type["pulumi-python:dynamic/datapacket:Server"]
	r := input.resources[i]
	not r.props.backupTarget
}

# METADATA
# title: DataPacket servers are backed up on a schedule
# custom:
#   control: DPA-BAK-006
decisions contains result.violation("DPA-BAK-006", r, "server declares no backup schedule") if {
	some i in input.index.type["pulumi-python:dynamic/datapacket:Server"]
	r := input.resources[i]
	not r.props.backupSchedule
}

# METADATA
# title: MongoDB snapshots are scheduled
# custom:
#   control: DPA-BAK-007
decisions contains result.violation("DPA-BAK-007", r, "snapshot schedule is not enabled (isSnapshotScheduleEnabled)") if {
	some i in input.index.type["scaleway:mongodb/instance:Instance"]
	r := input.resources[i]
	not r.props.isSnapshotScheduleEnabled == true
	not facts.is_unknown(object.get(r.props, "isSnapshotScheduleEnabled", null))
}

# METADATA
# title: MongoDB snapshots at least daily
# custom:
#   control: DPA-BAK-007
decisions contains result.violation("DPA-BAK-007", r, msg) if {
	some i in input.index.type["scaleway:mongodb/instance:Instance"]
	r := input.resources[i]
	r.props.isSnapshotScheduleEnabled == true
	hours := r.props.snapshotScheduleFrequencyHours
	is_number(hours)
	hours > 24
	msg := sprintf("snapshots run every %v hours, less often than daily", [hours])
}

# Buckets whose tags say they hold backups (settings.yaml backup_tag): the cold copies of §8.1.
_backup_buckets contains i if {
	some i in object.get(input.index.type, "scaleway:object/bucket:Bucket", [])
	input.resources[i].backup_copy == true
}

# METADATA
# title: Backup buckets are write-once (Object Lock)
# description: A cold copy is one the machine it copies cannot alter or delete; Object Lock can only be enabled when the bucket is created.
# custom:
#   control: DPA-BAK-008
decisions contains result.violation("DPA-BAK-008", r, msg) if {
	msg := "bucket holds backups and Object Lock is not enabled (objectLockEnabled): the backups can be deleted or overwritten, so they are not a cold copy"
	some i in _backup_buckets
	r := input.resources[i]
	not r.props.objectLockEnabled == true
	not facts.is_unknown(object.get(r.props, "objectLockEnabled", null))
}

# METADATA
# title: Backup buckets lock every object by default
# custom:
#   control: DPA-BAK-008
decisions contains result.violation("DPA-BAK-008", r, msg) if {
	msg := "bucket holds backups and no lock configuration names it: its objects are written unlocked, so they can still be deleted"
	some i in _backup_buckets
	r := input.resources[i]
	r.props.objectLockEnabled == true
	r.linked.lock == false
}
