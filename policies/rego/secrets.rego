# METADATA
# title: Secrets
# description: Article 5.1, Appendix C §4-5 - credentials protected, never readable.
package dpaguard.secrets

import rego.v1

import data.dpaguard.lib.facts
import data.dpaguard.lib.result

# METADATA
# title: Sensitive inputs are secrets in state
# custom:
#   control: DPA-SEC-001
decisions contains result.violation("DPA-SEC-001", r, msg) if {
	some i in input.index.plaintext
	r := input.resources[i]
	some path in r.plaintext_paths
	msg := sprintf("property %v holds a credential in plaintext (not a secret)", [path])
}

# METADATA
# title: Databases are encrypted at rest
# description: Unset means not encrypted.
# custom:
#   control: DPA-SEC-003
decisions contains result.violation("DPA-SEC-003", r, "database is not encrypted at rest (encryptionAtRest)") if {
	some i in input.index.type["scaleway:databases/instance:Instance"]
	r := input.resources[i]
	not r.props.encryptionAtRest == true
	not facts.is_unknown(object.get(r.props, "encryptionAtRest", null))
}

_personal_categories contains name if {
	some name, c in data.dpa.retention.categories
	c.personal
}

# METADATA
# title: Buckets holding personal data are encrypted server-side
# description: A server-side encryption configuration must name the bucket.
# custom:
#   control: DPA-SEC-004
decisions contains result.violation("DPA-SEC-004", r, msg) if {
	some category, positions in input.index.data_category
	category in _personal_categories
	some i in positions
	r := input.resources[i]
	r.linked.sse == false
	msg := sprintf("bucket holds %v (personal data) and no server-side encryption configuration names it", [category])
}

# METADATA
# title: Sensitive config values are secure
# custom:
#   control: DPA-SEC-002
decisions contains result.config_violation("DPA-SEC-002", s, key, msg) if {
	some s in input.stacks
	some key in s.plaintext_config_keys
	msg := sprintf("config key %v looks sensitive but is not secure: (use pulumi config set --secret)", [key])
}
