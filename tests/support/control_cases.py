"""One violating case per control (control -> deployments and the URN the finding must name), used by
the controls' end-to-end tests (tests/policies/test_controls.py) and the OPA equivalence test."""

from __future__ import annotations

from typing import Any, Callable

from dpaguard.model import PLAINTEXT_REDACTED, Deployment
from support.control_estate import PROJECT_IDS, changed, compliant_estate, compliant_resources, config, deployment, find, resource, urn


SG = "scaleway:instance/securityGroup:SecurityGroup"


def _with(stack: str, extra: list[dict[str, Any]], **config_changes: Any) -> list[Deployment]:
    return [deployment(stack, compliant_resources(stack) + extra, config(stack, **config_changes))]


def _stack_urn(stack: str = "prod") -> str:
    return compliant_estate(stack).stack_urn


def _two(prod_extra: list[dict[str, Any]] | None = None, dev_extra: list[dict[str, Any]] | None = None, **dev_config: Any) -> list[Deployment]:
    return [
        deployment("prod", compliant_resources("prod") + (prod_extra or [])),
        deployment("dev", compliant_resources("dev") + (dev_extra or []), config("dev", **dev_config)),
    ]


# control -> (deployments, URN expected in a violation of that control)
CASES: dict[str, Callable[[], tuple[list[Deployment], str]]] = {
    "DPA-RES-001": lambda: ([changed("prod", "vpc", region="nl-ams")], find("vpc")),
    "DPA-RES-002": lambda: ([changed("prod", "sg", zone="nl-ams-1")], find("sg")),
    "DPA-RES-003": lambda: ([changed("prod", "db", backupSameRegion=None)], find("db")),
    "DPA-RES-004": lambda: ([changed("prod", "replica", region="pl-waw")], find("replica")),
    "DPA-RES-005": lambda: ([changed("prod", "sip-01", location="Amsterdam", countryCode="NL")], find("sip-01")),
    "DPA-RES-006": lambda: ([changed("prod", "sg", zone="fr-par-2")], find("sg")),
    "DPA-TLS-001": lambda: ([changed("prod", "https", certificateIds=[])], find("https")),
    "DPA-TLS-002": lambda: ([changed("prod", "lb", sslCompatibilityLevel="ssl_compatibility_level_old")], find("lb")),
    "DPA-TLS-003": lambda: ([changed("prod", "backend", sslBridging=False)], find("backend")),
    "DPA-TLS-004": lambda: ([changed("prod", "cache", tlsEnabled=False)], find("cache")),
    "DPA-TLS-005": lambda: (
        [changed("prod", "sg", inboundRules=[{"action": "accept", "protocol": "UDP", "port": 5060}])],
        find("sg"),
    ),
    "DPA-TLS-006": lambda: ([changed("prod", "sip-01", sipTransport="udp")], find("sip-01")),
    "DPA-TLS-007": lambda: ([changed("prod", "sip-01", mediaEncryption="none")], find("sip-01")),
    "DPA-SEG-001": lambda: ([changed("prod", "vpc", projectId=PROJECT_IDS["dev"])], find("vpc")),
    "DPA-SEG-002": lambda: ([changed("prod", "vpc", tags=["env:dev"])], find("vpc")),
    "DPA-SEG-003": lambda: (_two(**{"scaleway:projectId": PROJECT_IDS["prod"]}), _stack_urn("dev")),  # type: ignore[arg-type]
    "DPA-SEG-004": lambda: (
        _two(dev_extra=[resource("dev", "scaleway:network/privateNetwork:PrivateNetwork", "borrowed-pn", {"vpcId": "prod-vpc-id", "tags": ["env:dev"]})]),
        urn("dev", "scaleway:network/privateNetwork:PrivateNetwork", "borrowed-pn"),
    ),
    "DPA-SEG-005": lambda: (
        _two(
            dev_extra=[
                resource(
                    "dev",
                    "pulumi-python:dynamic/datapacket:Server",
                    "shared-sip",
                    {**compliant_resources("dev")[-1]["inputs"], "serverName": "prod-sip-01"},
                )
            ]
        ),
        urn("dev", "pulumi-python:dynamic/datapacket:Server", "shared-sip"),
    ),
    "DPA-SEG-006": lambda: (
        _two(dev_extra=[resource("dev", "scaleway:databases/acl:Acl", "prod-db-acl", {"instanceId": "prod-db-id", "aclRules": [{"ip": "10.1.0.0/16"}]})]),
        urn("dev", "scaleway:databases/acl:Acl", "prod-db-acl"),
    ),
    "DPA-SEG-007": lambda: (
        _two(dev_extra=[resource("dev", "pulumi:pulumi:StackReference", "prod-outputs", {"name": "acme/dpa-test/prod"})]),
        urn("dev", "pulumi:pulumi:StackReference", "prod-outputs"),
    ),
    "DPA-BAK-001": lambda: ([changed("prod", "db", disableBackup=True)], find("db")),
    "DPA-BAK-002": lambda: ([changed("prod", "db", backupScheduleRetention=3)], find("db")),
    "DPA-BAK-003": lambda: ([changed("prod", "db", backupScheduleFrequency=48)], find("db")),
    "DPA-BAK-004": lambda: ([changed("prod", "db", isHaCluster=False)], find("db")),
    "DPA-BAK-005": lambda: ([changed("prod", "call-logs", versioning={"enabled": False})], find("call-logs")),
    "DPA-BAK-006": lambda: ([changed("prod", "sip-01", backupTarget="scaleway:nl-ams")], find("sip-01")),
    "DPA-BAK-007": lambda: ([changed("prod", "mongo", isSnapshotScheduleEnabled=False)], find("mongo")),
    "DPA-RET-001": lambda: ([changed("prod", "call-logs", tags={"env": "prod"})], find("call-logs")),
    "DPA-RET-002": lambda: (
        [changed("prod", "call-logs", lifecycleRules=[{"enabled": True, "expiration": {"days": 30}, "noncurrentVersionExpiration": {"noncurrentDays": 30}}])],
        find("call-logs"),
    ),
    "DPA-RET-003": lambda: ([changed("prod", "call-logs", lifecycleRules=[{"enabled": True, "expiration": {"days": 365}}])], find("call-logs")),
    "DPA-RET-004": lambda: ([changed("prod", "sip-01", tags={"env": "prod", "data-category": "holiday-photos"})], find("sip-01")),
    "DPA-RET-005": lambda: (
        _with("prod", [resource("prod", "scaleway:object/bucket:Bucket", "transcripts", {"tags": {"env": "prod", "data-category": "transcripts"}})],
              **{"dpaguard:transcriptRetentionDays": None}),
        _stack_urn(),
    ),
    # One finding per provider package, on the URN Pulumi gives its default provider (the estate has no provider resource).
    "DPA-SUB-001": lambda: (
        _with("prod", [resource("prod", "aws:s3/bucket:Bucket", "us-bucket", {"bucket": "x"})]),
        urn("prod", "pulumi:providers:aws", "default"),
    ),
    "DPA-SUB-002": lambda: ([changed("prod", "vpc", region="nl-ams")], find("vpc")),
    "DPA-SUB-006": lambda: ([compliant_estate()], _stack_urn()),  # the register has no dates (DPA text)
    "DPA-RES-006": lambda: ([changed("prod", "web", zone="fr-par-2")], find("web")),
    "DPA-RES-007": lambda: ([compliant_estate()], _stack_urn()),  # fr-par-1: DC2 and DC3, only DC3 named
    "DPA-RET-006": lambda: ([changed("prod", "call-logs", tags={"env": "prod", "data-category": "transactional-emails"})], find("call-logs")),
    "DPA-TLS-009": lambda: ([changed("prod", "sg", tags=["env:prod"])], find("sg")),
    "DPA-ACC-012": lambda: ([changed("prod", "kapsule-acl", clusterId="another-cluster")], find("kapsule")),
    "DPA-ACC-001": lambda: ([changed("prod", "sg", inboundDefaultPolicy=None)], find("sg")),
    "DPA-ACC-002": lambda: ([changed("prod", "sg", inboundRules=[{"action": "accept", "port": 22}])], find("sg")),
    "DPA-ACC-003": lambda: ([changed("prod", "cache", acls=[{"ip": "0.0.0.0/0"}])], find("cache")),
    "DPA-ACC-004": lambda: ([changed("prod", "db-acl", aclRules=[{"ip": "0.0.0.0/0"}])], find("db-acl")),
    "DPA-ACC-005": lambda: ([changed("prod", "db", privateNetwork=None)], find("db")),
    "DPA-ACC-006": lambda: ([changed("prod", "gw", bastionEnabled=False)], find("gw")),
    "DPA-ACC-007": lambda: ([changed("prod", "app-policy", rules=[{"permissionSetNames": ["AllProductsFullAccess"]}])], find("app-policy")),
    "DPA-ACC-008": lambda: ([changed("prod", "app-key", expiresAt=None)], find("app-key")),
    "DPA-ACC-009": lambda: (
        _with("prod", [resource("prod", "scaleway:s2svpn/gateway:Gateway", "vpn", {"name": "vpn"})]),
        urn("prod", "scaleway:s2svpn/gateway:Gateway", "vpn"),
    ),
    "DPA-ACC-010": lambda: ([changed("prod", "call-logs", acl="public-read")], find("call-logs")),
    "DPA-ACC-011": lambda: ([changed("prod", "pool", publicIpDisabled=None)], find("pool")),
    "DPA-TLS-008": lambda: (
        _with("prod", [resource("prod", "scaleway:containers/container:Container", "api", {"privacy": "public", "region": "fr-par", "tags": ["env:prod"]})]),
        urn("prod", "scaleway:containers/container:Container", "api"),
    ),
    "DPA-SEC-003": lambda: ([changed("prod", "db", encryptionAtRest=False)], find("db")),
    "DPA-SUB-005": lambda: (
        _with("prod", [resource("prod", "scaleway:tem/domain:Domain", "mail", {"name": "mail.example.org", "region": "fr-par"})]),
        urn("prod", "scaleway:tem/domain:Domain", "mail"),
    ),
    "DPA-SEC-004": lambda: ([changed("prod", "call-logs-sse", bucket="another-bucket")], find("call-logs")),
    "DPA-SEC-001": lambda: ([changed("prod", "db", password=PLAINTEXT_REDACTED)], find("db")),
    "DPA-SEC-002": lambda: (_with("prod", [], **{"dpa-test:dbPassword": "[plaintext redacted]"}), _stack_urn()),
    "DPA-UPD-001": lambda: ([changed("prod", "kapsule", autoUpgrade=None)], find("kapsule")),
    "DPA-UPD-002": lambda: ([changed("prod", "db", engine="PostgreSQL-13")], find("db")),  # end of life 2025-11-13
    "DPA-UPD-003": lambda: ([changed("prod", "db", engine="PostgreSQL-99")], find("db")),  # no end of life recorded
    "DPA-INC-001": lambda: ([changed("prod", "alerts", contactPoints=[])], _stack_urn()),  # alerts reach no one
    # the compliant database holds call logs (at most 366 days): backups kept 400 days outlive them
    "DPA-RET-007": lambda: ([changed("prod", "db", backupScheduleRetention=400)], find("db")),
    # the backup bucket created without Object Lock: its dumps can be deleted from the machine (not cold)
    "DPA-BAK-008": lambda: ([changed("prod", "backups", objectLockEnabled=False)], find("backups")),
    # the telecom server holds call recordings (the stack caps them at 90 days): backups kept 400 days outlive them
    "DPA-RET-008": lambda: ([changed("prod", "sip-01", backupRetentionDays=400)], find("sip-01")),
    # the call-log database (366 days' maximum) keeps backups 60 days: a deleted row is retrievable two months
    "DPA-RET-009": lambda: ([changed("prod", "db", backupScheduleRetention=60)], find("db")),
    "DPA-RES-008": lambda: (  # a Hetzner server in Falkenstein, Germany
        _with("prod", [resource("prod", "hcloud:index/server:Server", "web-de", {"name": "web-de", "location": "fsn1"})]),
        urn("prod", "hcloud:index/server:Server", "web-de"),
    ),
}
