"""Which unknown parts of a property are read: the parts properties.yaml describes, nothing else."""

from __future__ import annotations

from dpaguard.model import UNKNOWN
from dpaguard.normalise.property_types import unknown_reads
from dpaguard.policy import Policy

FRONTEND = "scaleway:loadbalancers/frontend:Frontend"


def test_a_certificate_created_in_the_same_update_still_counts_as_attached(policy: Policy) -> None:
    # In a preview the new certificate's ID is unknown; DPA-TLS-001 reads that the list is not empty.
    types = policy.data["properties"]["types"][FRONTEND]
    assert unknown_reads({"certificateIds": [UNKNOWN], "inboundPort": 443}, types) == []
    whole = unknown_reads({"certificateIds": UNKNOWN, "inboundPort": 443}, types)
    assert whole == [{"path": "certificateIds", "controls": ["DPA-TLS-001"]}]
