"""Generated Scaleway estates for the conformance suite and the benchmarks (tests/benchmarks/vs_checkov.py).

`vs_checkov_estate(n)`: buckets, databases, Redis clusters, security groups and private networks
with a few seeded violations of the five controls the checkov custom policies also express.
`finding_heavy_estate(n)`: the same kinds, where every resource breaks at least two controls (in
another Scaleway project than its stack's; no env tag) and each of the five
checkov-equivalent violations is seeded on a quarter of the resources; with `distinct=True`, every
resource also differs from every other, as in a real estate. All are deterministic for a seed.
"""

from __future__ import annotations

import random
from typing import Any

from dpaguard.model import SECRET_SIG, SECRET_SIG_KEY, Deployment

STACK, PROJECT, PROJECT_ID = "prod", "bench-estate", "11111111-2222-4333-8444-555555555555"
OTHER_PROJECT_ID = "99999999-2222-4333-8444-555555555555"
SEED = 20261127
VIOLATION_RATE = 0.04
# The finding-heavy estate: each checkov-equivalent violation on a quarter of the resources.
HEAVY_VIOLATION_RATE = 0.25


def _urn(token: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{token}::{name}"


def vs_checkov_estate(n: int, seed: int = SEED, *, heavy: bool = False, distinct: bool = False) -> Deployment:
    """An N-resource estate (buckets, databases, Redis, security groups, networks) with seeded violations.

    `heavy`: every resource also breaks two controls (another project than the stack's, no env tag) and
    each of the five checkov-equivalent violations is seeded on a quarter of the resources.
    `distinct`: every resource differs from every other in its facts (a service tag of its own, and a
    database its own backup retention, a security group its own inbound rule), as in a real estate, so
    that judging one resource for each group of equal ones (engine/shaping.distinct) gains nothing.
    """
    rng = random.Random(seed)
    provider_urn = _urn("pulumi:providers:scaleway", "default_1_60_0")
    provider = f"{provider_urn}::00000000-0000-4000-8000-000000000000"
    resources: list[dict[str, Any]] = [
        {"urn": _urn("pulumi:pulumi:Stack", f"{PROJECT}-{STACK}"), "custom": False, "type": "pulumi:pulumi:Stack"},
        {"urn": provider_urn, "custom": True, "id": "00000000-0000-4000-8000-000000000000",
         "type": "pulumi:providers:scaleway", "inputs": {"region": "fr-par", "zone": "fr-par-1", "projectId": PROJECT_ID}},
    ]
    tags = ["env:prod", f"project:{PROJECT}", "managed-by:pulumi"]

    rate = HEAVY_VIOLATION_RATE if heavy else VIOLATION_RATE
    # heavy: every resource names another project than the stack's (DPA-SEG-001) and has no env tag (DPA-SEG-002)
    project_id = OTHER_PROJECT_ID if heavy else PROJECT_ID
    if heavy:
        tags = [f"project:{PROJECT}", "managed-by:pulumi"]

    def bad() -> bool:
        return rng.random() < rate

    kinds = ("bucket", "bucket", "bucket", "bucket", "rdb", "redis", "sg", "pn", "pn", "bucket")
    index = 0
    while len(resources) < n:
        kind = kinds[index % len(kinds)]
        name = f"{kind}-{index:05d}"
        service = {"service": f"svc-{index:05d}"} if distinct else {}
        own_tags = [*tags, f"service:svc-{index:05d}"] if distinct else tags
        index += 1
        if kind == "bucket":
            token = "scaleway:object/bucket:Bucket"
            props: dict[str, Any] = {
                "name": f"bench-{name}", "projectId": project_id, "region": "nl-ams" if bad() else "fr-par",
                "tags": {**({} if heavy else {"env": "prod"}), "project": PROJECT, "data-category": "call-logs", "retention-days": "365",
                         **service},
                "versioning": {"enabled": True},
                "lifecycleRules": [{"enabled": True, "id": "retention", "expiration": {"days": 365},
                                    "noncurrentVersionExpiration": {"noncurrentDays": 1}}],
            }
        elif kind == "rdb":
            token = "scaleway:databases/instance:Instance"
            props = {
                "name": f"bench-{name}", "projectId": project_id, "engine": "PostgreSQL-16", "nodeType": "DB-PRO2-S",
                "region": "pl-waw" if bad() else "fr-par", "isHaCluster": True, "encryptionAtRest": True,
                "disableBackup": bad(), "backupSameRegion": not bad(), "backupScheduleFrequency": 12,
                "backupScheduleRetention": 30 + index if distinct else 30, "userName": "admin", "tags": own_tags,
                "password": {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": "[secret]"},
            }
        elif kind == "redis":
            token = "scaleway:redis/cluster:Cluster"
            props = {
                "name": f"bench-{name}", "projectId": project_id, "nodeType": "RED1-S", "version": "7.2.11",
                "zone": "nl-ams-1" if bad() else "fr-par-1", "tlsEnabled": not bad(), "clusterSize": 3,
                "userName": "app", "tags": own_tags, "password": {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": "[secret]"},
            }
        elif kind == "sg":
            token = "scaleway:instance/securityGroup:SecurityGroup"
            props = {
                "name": f"bench-{name}", "projectId": project_id, "zone": "fr-par-1", "tags": own_tags,
                "inboundDefaultPolicy": "accept" if bad() else "drop", "outboundDefaultPolicy": "drop",
                "inboundRules": [{"action": "accept", "ipRange": "172.16.8.0/22", "port": 1024 + index if distinct else 443,
                                  "protocol": "TCP"}],
            }
        else:
            token = "scaleway:network/privateNetwork:PrivateNetwork"
            props = {"name": f"bench-{name}", "projectId": project_id, "region": "fr-par", "tags": own_tags}
        resources.append({"urn": _urn(token, name), "custom": True, "id": f"id-{name}", "type": token,
                          "inputs": props, "outputs": dict(props), "provider": provider, "dependencies": []})
    config = {"scaleway:region": "fr-par", "scaleway:zone": "fr-par-1", "scaleway:projectId": PROJECT_ID,
              "dpaguard:environment": "prod", "dpaguard:callRecordingRetentionDays": 90,
              "dpaguard:transcriptRetentionDays": 90, "dpaguard:minBackupRetentionDays": 7}
    return Deployment(stack=STACK, project=PROJECT, source="state", resources=tuple(resources), config=config)


def finding_heavy_estate(n: int, seed: int = SEED, *, distinct: bool = False) -> Deployment:
    """The estate of `vs_checkov_estate` where every resource breaks at least two controls (`distinct`: and differs from every other)."""
    return vs_checkov_estate(n, seed, heavy=True, distinct=distinct)
