# METADATA
# title: All decisions
# description: The query every engine answers (data.dpaguard.main.decisions) - the union of each DPA area's decisions.
# entrypoint: true
package dpaguard.main

import rego.v1

import data.dpaguard.access
import data.dpaguard.backup
import data.dpaguard.incident
import data.dpaguard.input_types
import data.dpaguard.residency
import data.dpaguard.retention
import data.dpaguard.secrets
import data.dpaguard.segregation
import data.dpaguard.subprocessor
import data.dpaguard.transit_encryption
import data.dpaguard.updates

# METADATA
# title: Every decision of every area
decisions := (((((((((residency.decisions | transit_encryption.decisions) | segregation.decisions) | backup.decisions) | retention.decisions) | subprocessor.decisions) | access.decisions) | secrets.decisions) | input_types.decisions) | updates.decisions) | incident.decisions
