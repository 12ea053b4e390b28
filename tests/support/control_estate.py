"""Small, readable stack exports for the control tests: one compliant resource of each examined type.

`compliant_estate()` is a prod stack that breaks no control; each test case changes one thing.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from dpaguard.model import PLAINTEXT_REDACTED, Deployment

TODAY = dt.date(2026, 11, 27)
PROJECT = "dpa-test"
PROJECT_IDS = {"prod": "11111111-1111-4111-8111-111111111111", "staging": "22222222-2222-4222-8222-222222222222", "dev": "33333333-3333-4333-8333-333333333333"}


def urn(stack: str, type_token: str, name: str) -> str:
    """The URN of a resource of this test project."""
    return f"urn:pulumi:{stack}::{PROJECT}::{type_token}::{name}"


def resource(stack: str, type_token: str, name: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One custom resource as `pulumi stack export` shows it."""
    return {"urn": urn(stack, type_token, name), "custom": True, "id": f"{stack}-{name}-id", "type": type_token, "inputs": inputs, "outputs": {}, **extra}


def config(stack: str, environment: str | None = None, **changes: Any) -> dict[str, Any]:
    """A stack config like stacks/Pulumi.<stack>.yaml."""
    values: dict[str, Any] = {
        "scaleway:region": "fr-par",
        "scaleway:zone": "fr-par-1",
        "scaleway:projectId": PROJECT_IDS.get(stack, PROJECT_IDS["prod"]),
        "dpaguard:environment": environment or stack,
        "dpaguard:callRecordingRetentionDays": 90,
        "dpaguard:transcriptRetentionDays": 90,
        "dpaguard:minBackupRetentionDays": 7,
    }
    for key, value in changes.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    return values


def compliant_resources(stack: str = "prod") -> list[dict[str, Any]]:
    """One compliant resource of every type a control examines."""
    env = ["env:" + stack]
    return [
        resource(stack, "scaleway:network/vpc:Vpc", "vpc", {"name": "vpc", "tags": env}),
        resource(stack, "scaleway:network/privateNetwork:PrivateNetwork", "pn", {"vpcId": f"{stack}-vpc-id", "tags": env}),
        resource(stack, "scaleway:network/publicGateway:PublicGateway", "gw", {"bastionEnabled": True, "allowedIpRanges": ["198.51.100.0/24"], "tags": env}),
        resource(stack, "scaleway:instance/server:Server", "web", {"ipId": f"{stack}-ip-id", "securityGroupId": f"{stack}-sg-id", "tags": env}),
        resource(stack, "scaleway:kubernetes/pool:Pool", "pool", {"publicIpDisabled": True, "tags": env}),
        resource(stack, "scaleway:kubernetes/cluster:Cluster", "kapsule", {
            "name": "kapsule", "type": "kapsule", "tags": env,
            "autoUpgrade": {"enable": True, "maintenanceWindowDay": "sunday", "maintenanceWindowStartHour": 3}}),
        resource(stack, "scaleway:kubernetes/acl:Acl", "kapsule-acl", {"clusterId": f"{stack}-kapsule-id", "aclRules": [{"ip": "203.0.113.16/28"}]}),
        resource(
            stack,
            "scaleway:databases/instance:Instance",
            "db",
            {
                "engine": "PostgreSQL-16",  # supported until 2028-11-09 (policies/dpa/versions.yaml)
                "backupSameRegion": True,
                "isHaCluster": True,
                "encryptionAtRest": True,
                "backupScheduleRetention": 14,
                "backupScheduleFrequency": 12,
                "privateNetwork": {"pnId": f"{stack}-pn-id"},
                "password": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "[secret]"},
                "tags": [*env, "data-category:call-logs"],  # backups kept 14 days, within 366 (DPA-RET-007)
            },
        ),
        resource(stack, "scaleway:databases/readReplica:ReadReplica", "replica", {"instanceId": f"{stack}-db-id", "region": "fr-par"}),
        resource(stack, "scaleway:databases/acl:Acl", "db-acl", {"instanceId": f"{stack}-db-id", "aclRules": [{"ip": "172.16.8.0/22"}]}),
        resource(stack, "scaleway:redis/cluster:Cluster", "cache", {"tlsEnabled": True, "privateNetworks": [{"id": f"{stack}-pn-id"}], "tags": env}),
        resource(stack, "scaleway:mongodb/instance:Instance", "mongo", {"isSnapshotScheduleEnabled": True, "snapshotScheduleRetentionDays": 7, "snapshotScheduleFrequencyHours": 24, "tags": env}),
        resource(
            stack,
            "scaleway:instance/securityGroup:SecurityGroup",
            "sg",
            {
                "inboundDefaultPolicy": "drop",
                "inboundRules": [
                    {"action": "accept", "port": 443, "ipRange": "0.0.0.0/0"},
                    {"action": "accept", "port": 22, "ipRange": "203.0.113.16/28"},
                    # RTP media from carriers anywhere, declared SRTP (DPA-TLS-009).
                    {"action": "accept", "protocol": "UDP", "portRange": "10000-20000", "ipRange": "0.0.0.0/0"},
                ],
                "tags": [*env, "media-encryption:srtp"],
            },
        ),
        resource(stack, "scaleway:loadbalancers/loadBalancer:LoadBalancer", "lb", {"sslCompatibilityLevel": "ssl_compatibility_level_intermediate", "tags": env}),
        resource(stack, "scaleway:loadbalancers/frontend:Frontend", "https", {"inboundPort": 443, "certificateIds": ["cert-id"]}),
        resource(
            stack,
            "scaleway:loadbalancers/frontend:Frontend",
            "http-redirect",
            {"inboundPort": 80, "acls": [{"action": {"type": "redirect", "redirects": [{"type": "scheme", "target": "https", "code": 301}]}, "match": {"ipSubnets": ["0.0.0.0/0", "::/0"]}}]},
        ),
        resource(stack, "scaleway:loadbalancers/backend:Backend", "backend", {"sslBridging": True}),
        resource(
            stack,
            "scaleway:object/bucket:Bucket",
            "call-logs",
            {
                "name": f"{stack}-call-logs",
                "tags": {"env": stack, "data-category": "call-logs"},
                "versioning": {"enabled": True},
                "lifecycleRules": [{"enabled": True, "expiration": {"days": 365}, "noncurrentVersionExpiration": {"noncurrentDays": 1}}],
            },
        ),
        resource(
            stack,
            "scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "call-logs-sse",
            {"bucket": f"{stack}-call-logs", "rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}},
        ),
        # Where the webhook log database's dumps land: write-once (DPA-BAK-008), locked 14 days (DPA-RET-009).
        resource(
            stack,
            "scaleway:object/bucket:Bucket",
            "backups",
            {
                "name": f"{stack}-backups",
                "tags": {"env": stack, "data-category": "webhook-logs", "purpose": "backup"},
                "objectLockEnabled": True,
                "versioning": {"enabled": True},
                "lifecycleRules": [{"enabled": True, "expiration": {"days": 14}, "noncurrentVersionExpiration": {"noncurrentDays": 1}}],
            },
        ),
        resource(
            stack,
            "scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "backups-sse",
            {"bucket": f"{stack}-backups", "rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}},
        ),
        resource(
            stack,
            "scaleway:object/bucketLockConfiguration:BucketLockConfiguration",
            "backups-lock",
            {"bucket": f"{stack}-backups", "rule": {"defaultRetention": {"mode": "COMPLIANCE", "days": 14}}},
        ),
        resource(stack, "scaleway:iam/policy:Policy", "app-policy", {"tags": env, "applicationId": "app-id", "rules": [{"permissionSetNames": ["ObjectStorageReadOnly"]}]}),
        resource(stack, "scaleway:iam/apiKey:ApiKey", "app-key", {"applicationId": "app-id", "expiresAt": "2027-06-30T00:00:00Z"}),
        resource(stack, "scaleway:observability/alertManager:AlertManager", "alerts", {
            "contactPoints": [{"email": "oncall@example.org"}], "preconfiguredAlertIds": ["alert-1"], "region": "fr-par"}),
        resource(
            stack,
            "pulumi-python:dynamic/datapacket:Server",
            "sip-01",
            {
                "serverName": f"{stack}-sip-01",
                "location": "Paris",
                "countryCode": "FR",
                "role": "telecom",
                "sipTransport": "tls",
                "mediaEncryption": "srtp",
                "backupTarget": "datapacket:Paris",
                "backupSchedule": "0 2 * * *",
                "backupRetentionDays": 14,  # within the 90-day cap (DPA-RET-008) and a month (DPA-RET-009)
                "tags": {"env": stack, "data-category": "call-recordings"},
                "environment": stack,
            },
        ),
    ]


def deployment(stack: str, resources: list[dict[str, Any]], stack_config: dict[str, Any] | None = None, *, secret_keys: frozenset[str] = frozenset()) -> Deployment:
    """A Deployment of the test project."""
    return Deployment(
        stack=stack,
        project=PROJECT,
        source="state",
        resources=tuple(resources),
        config=stack_config if stack_config is not None else config(stack),
        secret_config_keys=secret_keys,
        config_file=f"stacks/Pulumi.{stack}.yaml",
    )


def compliant_estate(stack: str = "prod") -> Deployment:
    """A stack that breaks no control."""
    return deployment(stack, compliant_resources(stack))


def changed(stack: str, name: str, **inputs: Any) -> Deployment:
    """The compliant stack with inputs of one resource changed (None removes an input)."""
    resources = copy.deepcopy(compliant_resources(stack))
    for item in resources:
        if item["urn"].endswith(f"::{name}"):
            for key, value in inputs.items():
                if value is None:
                    item["inputs"].pop(key, None)
                else:
                    item["inputs"][key] = value
            return deployment(stack, resources)
    raise KeyError(name)


def find(name: str, stack: str = "prod") -> str:
    """The URN of a compliant resource by name."""
    for item in compliant_resources(stack):
        if item["urn"].endswith(f"::{name}"):
            return str(item["urn"])
    raise KeyError(name)


__all__ = ["PLAINTEXT_REDACTED", "changed", "compliant_estate", "compliant_resources", "config", "deployment", "find", "resource", "urn"]
