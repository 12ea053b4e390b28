# METADATA
# title: Fact helpers
# description: Small predicates over the normaliser's facts, shared by every package.
package dpaguard.lib.facts

import rego.v1

# METADATA
# title: A value the Pulumi engine does not know yet (preview)
is_unknown(value) if value == input.context.unknown

# METADATA
# title: A CIDR or address that admits the internet (computed in Python; regopy has no net.cidr_*)
is_internet(cidr) if input.context.internet[cidr] == true

# METADATA
# title: The stack fact of a resource
stack_of(r) := s if {
	some s in input.stacks
	s.name == r.stack
}

# METADATA
# scope: rule
# title: A property, or the provider default when unset (missing or null)
# description: Two exclusive definitions rather than `else`, which rego-cpp evaluates ten times slower.
prop_or(r, key, _) := value if {
	value := object.get(object.get(r, "props", {}), key, null)
	value != null
}

prop_or(r, key, default_value) := default_value if {
	object.get(object.get(r, "props", {}), key, null) == null
}
