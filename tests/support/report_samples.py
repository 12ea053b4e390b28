"""Hand-built Results for the reporter tests: two stacks, waived, undetermined and stack-level findings."""

from __future__ import annotations

import datetime as dt

from dpaguard.model import Control, ControlId, Finding, Result, SourceLocation, StackSummary, Urn, Waiver


RES_001 = Control(
    id=ControlId("DPA-RES-001"), title="Resources are hosted in France", description="Every resource runs in fr-par.",
    clause="Appendix C §1.1", category="residency", severity="critical",
    enforcement={"prod": "mandatory", "staging": "mandatory", "dev": "mandatory"},
    applies_to=("*",), help="Set scaleway:region to fr-par.",
)
TLS_001 = Control(
    id=ControlId("DPA-TLS-001"), title="Redis requires TLS", description="Redis clusters enable TLS.",
    clause="Article 5.2 (security | transit)", category="transit-encryption", severity="high",
    enforcement={"prod": "mandatory", "staging": "advisory", "dev": "advisory"},
    applies_to=("scaleway:redis/cluster:Cluster",), help="Set tlsEnabled: true.",
)
RET_001 = Control(
    id=ControlId("DPA-RET-001"), title="Call recordings expire", description="Lifecycle rule on recordings.",
    clause="Appendix A §2", category="retention", severity="medium",
    enforcement={"prod": "mandatory", "staging": "disabled", "dev": "disabled"},
    applies_to=("stack",), help="Add an expiration rule.",
)
CONTROLS = (RES_001, TLS_001, RET_001)

PROD_DB = "urn:pulumi:prod::dpa-estate::scaleway:databases/instance:Instance::main-db"
PROD_REDIS = "urn:pulumi:prod::dpa-estate::scaleway:redis/cluster:Cluster::cache"
DEV_REDIS = "urn:pulumi:dev::dpa-estate::scaleway:redis/cluster:Cluster::cache"
PROD_STACK = "urn:pulumi:prod::dpa-estate::pulumi:pulumi:Stack::dpa-estate-prod"
HOSTILE = "<script>alert(1)</script> | `x` & \x1b[31m"


def finding(control: Control, stack: str, urn: str, message: str, **extra: object) -> Finding:
    environment = {"prod": "prod", "dev": "dev"}[stack]
    enforcement = control.enforcement_for(environment)
    assert enforcement != "disabled"
    return Finding(
        control=control.id, category=control.category, clause=control.clause, severity=control.severity,
        enforcement=enforcement, stack=stack, urn=Urn(urn), type=urn.split("::")[2], name=urn.rsplit("::", 1)[-1],
        message=message, **extra,  # type: ignore[arg-type]
    )


def sample_result() -> Result:
    """prod: one region violation (with source line), one undetermined, one waived Redis TLS, one stack-level
    retention finding with a hostile message; dev: an advisory Redis TLS finding."""
    waiver = Waiver(control=TLS_001.id, urn_pattern="*::cache", stack="prod", reason="migration ticket OPS-12",
                    approver="dpo@example.com", expires=dt.date(2027, 1, 31))
    findings = (
        finding(RES_001, "prod", PROD_DB, "region nl-ams is outside France",
                location=SourceLocation("infra/estate/database.py", 42, 5)),
        finding(RES_001, "prod", PROD_REDIS, "zone cannot be determined", status="undetermined"),
        finding(TLS_001, "prod", PROD_REDIS, "tlsEnabled is false", waived=True, waiver=waiver),
        finding(RET_001, "prod", PROD_STACK, f"stacks/Pulumi.prod.yaml: dpaguard:callRecordingRetentionDays {HOSTILE}"),
        finding(TLS_001, "dev", DEV_REDIS, "tlsEnabled is false"),
    )
    stacks = (
        StackSummary(name="prod", project="dpa-estate", environment="prod", source="program", resources=40,
                     config_file="stacks/Pulumi.prod.yaml", config_sha256="a" * 64),
        StackSummary(name="dev", project="dpa-estate", environment="dev", source="state", resources=12,
                     origin="/tmp/dev export.json"),
    )
    coverage = {("DPA-RES-001", "prod"): 40, ("DPA-RES-001", "dev"): 12, ("DPA-TLS-001", "prod"): 1,
                ("DPA-TLS-001", "dev"): 1, ("DPA-RET-001", "prod"): 1, ("DPA-RET-001", "dev"): 1}
    return Result(
        tool_version="0.1.0", policy_sha256="b" * 64, stacks=stacks, controls=CONTROLS,
        findings=tuple(reversed(findings)), coverage=coverage, generated_at="2026-11-27T03:00:00Z",
        git_commit="c" * 40, notices=("checkov is not installed: secrets scan skipped",),
    )
