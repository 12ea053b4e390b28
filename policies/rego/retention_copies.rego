# Retention of copies: a second module of package dpaguard.retention (retention.rego holds its METADATA).
# Appendix A on every copy, not only the buckets (retention.rego): a database's backups and a MongoDB
# instance's snapshots keep each row for their retention days after the application deletes it, so
# a retention longer than the data category's maximum keeps data past it whatever the application does.
package dpaguard.retention

import rego.v1

import data.dpaguard.lib.facts
import data.dpaguard.lib.result

# The longest Appendix A lets a category be kept, in days: the stack's client-set cap, or max_days.
# Undefined when the category sets none (the contract's lifetime) or the stack states no cap
# (DPA-RET-005 reports that).
_copy_maximum(s, category) := days if {
	c := data.dpa.retention.categories[category]
	is_string(c.client_set)
	days := s.settings[trim_prefix(c.client_set, "dpaguard:")]
	is_number(days)
}

_copy_maximum(_, category) := days if {
	c := data.dpa.retention.categories[category]
	c.client_set == null
	days := c.max_days
	is_number(days)
}

# METADATA
# title: Database backups are kept no longer than the category's maximum
# description: Unset retention means the provider default (settings.yaml provider_defaults).
# custom:
#   control: DPA-RET-007
decisions contains result.violation("DPA-RET-007", r, msg) if {
	some i in object.get(input.index.type, "scaleway:databases/instance:Instance", [])
	r := input.resources[i]
	is_string(r.data_category)
	not r.props.disableBackup == true
	days := facts.prop_or(r, "backupScheduleRetention", data.dpa.settings.provider_defaults.rdb_backup_retention_days)
	is_number(days)
	maximum := _copy_maximum(facts.stack_of(r), r.data_category)
	days > maximum
	msg := sprintf("backups keep %v for %v days, longer than its maximum of %v days (Appendix A)", [r.data_category, days, maximum])
}

# METADATA
# title: MongoDB snapshots are kept no longer than the category's maximum
# custom:
#   control: DPA-RET-007
decisions contains result.violation("DPA-RET-007", r, msg) if {
	some i in object.get(input.index.type, "scaleway:mongodb/instance:Instance", [])
	r := input.resources[i]
	is_string(r.data_category)
	r.props.isSnapshotScheduleEnabled == true
	days := r.props.snapshotScheduleRetentionDays
	is_number(days)
	maximum := _copy_maximum(facts.stack_of(r), r.data_category)
	days > maximum
	msg := sprintf("snapshots keep %v for %v days, longer than its maximum of %v days (Appendix A)", [r.data_category, days, maximum])
}

_datapacket_servers := object.get(input.index.type, "pulumi-python:dynamic/datapacket:Server", [])

# METADATA
# title: DataPacket servers' backups are kept no longer than the category's maximum
# description: The retention is declared on the server (backupRetentionDays), as its backup target is.
# custom:
#   control: DPA-RET-008
decisions contains result.violation("DPA-RET-008", r, msg) if {
	some i in _datapacket_servers
	r := input.resources[i]
	is_string(r.data_category)
	days := r.props.backupRetentionDays
	is_number(days)
	maximum := _copy_maximum(facts.stack_of(r), r.data_category)
	days > maximum
	msg := sprintf("backups keep %v for %v days (declared), longer than its maximum of %v days (Appendix A)", [r.data_category, days, maximum])
}

# METADATA
# title: A DataPacket server holding a bounded category declares its backups' retention
# description: Without the declaration its backups are not shown to keep the category within Appendix A.
# custom:
#   control: DPA-RET-008
decisions contains result.undetermined("DPA-RET-008", r, msg) if {
	some i in _datapacket_servers
	r := input.resources[i]
	is_string(r.data_category)
	object.get(r.props, "backupRetentionDays", null) == null
	maximum := _copy_maximum(facts.stack_of(r), r.data_category)
	msg := sprintf("server holds %v and declares no backup retention (backupRetentionDays): its backups are not shown to keep it no longer than %v days (Appendix A)", [r.data_category, maximum])
}
