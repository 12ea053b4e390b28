"""Fixtures and helpers of the policy-pack tests: the prod stack rendered offline, a violating variant, a running pack.

A module of its own (conftest.py re-exports the fixtures): tests import helpers from here, since
`from conftest import` names whichever conftest.py was imported first in a multi-folder run.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from typing import Any, Iterator, Mapping

import pytest


from support import REPO
from support.pack_harness import EngineSession, start_pack, stack_config_strings

from dpaguard.model import Deployment, Finding

CANARY = "canary-7c1f9e-secret-value"


@pytest.fixture(scope="session")
def prod() -> Deployment:
    """The estate's prod stack, rendered by the offline engine."""
    from dpaguard.source.program import render_stack

    return render_stack(REPO, "prod")


def _edit(resource: Mapping[str, Any], **inputs: Any) -> dict[str, Any]:
    changed = copy.deepcopy(dict(resource))
    for field in ("inputs", "outputs"):
        props = dict(changed.get(field) or {})
        props.update(inputs)
        changed[field] = props
    return changed


def first(deployment: Deployment, type_token: str) -> Mapping[str, Any]:
    """The first resource of a type in a deployment."""
    return next(r for r in deployment.resources if r["type"] == type_token)


@pytest.fixture(scope="session")
def violating(prod: Deployment) -> Deployment:
    """The prod stack with DPA breaches a reviewer can read: a bucket abroad, off-region backups, a server in NL."""
    bucket = first(prod, "scaleway:object/bucket:Bucket")["urn"]
    database = first(prod, "scaleway:databases/instance:Instance")["urn"]
    server = first(prod, "pulumi-python:dynamic/datapacket:Server")["urn"]
    edits: dict[str, dict[str, Any]] = {
        bucket: {"region": "nl-ams"},
        database: {"backupSameRegion": False, "backupScheduleRetention": 3},
        server: {"location": "Amsterdam", "countryCode": "NL", "sipTransport": "udp"},
    }
    resources = tuple(_edit(r, **edits[r["urn"]]) if r["urn"] in edits else r for r in prod.resources)
    return dataclasses.replace(prod, resources=resources)


def cli_findings(deployment: Deployment, policy: Any, **options: Any) -> tuple[Finding, ...]:
    """What `dpaguard check` decides for a deployment: the same run_stages() over the same engine."""
    from dpaguard.engine import create_engine
    from dpaguard.pipeline import run_stages

    engine = create_engine(policy)
    try:
        found = run_stages([deployment], policy, engine, today=dt.date.today(), **options).findings
        # findings about the DPA and its register (controls `about: dpa`) go to the report's ledger, not
        # among the program's findings, in the CLI as in the pack
        about_dpa = {c.id for c in policy.controls if c.about == "dpa"}
        return tuple(f for f in found if f.control not in about_dpa)
    finally:
        engine.close()


def expected_diagnostics(findings: tuple[Finding, ...]) -> set[tuple[str, str, str, str]]:
    """The (policy, URN, message, level) the pack must report for CLI findings (waived ones as advisory)."""
    expected: set[tuple[str, str, str, str]] = set()
    for f in findings:
        if f.waived and f.waiver is not None:
            w = f.waiver
            message = f"{f.message} [waived until {w.expires.isoformat()} by {w.approver}: {w.reason}]"
            expected.add((f.control, f.urn, message, "advisory"))
        else:
            expected.add((f.control, f.urn, f.message, f.enforcement))
    return expected


def configure_for(session: EngineSession, deployment: Deployment, pack_config: Mapping[str, Any] | None = None,
                  *, secret_value: str = CANARY) -> None:
    """ConfigureStack and Configure as the engine sends them for a deployment's stack (secrets decrypted)."""
    config = stack_config_strings(deployment)
    for key in deployment.secret_config_keys:
        config[key] = secret_value
    session.configure_stack(deployment.stack, deployment.project, config, secret_keys=deployment.secret_config_keys)
    session.configure(pack_config)


def run_like_engine(session: EngineSession, deployment: Deployment,
                    secret_value: str = CANARY) -> tuple[list[Any], list[Any]]:
    """Analyze every resource (inputs, with its provider), then AnalyzeStack (outputs): the engine's order."""
    from support.pack_harness import provider_of

    by_urn = {r["urn"]: r for r in deployment.resources}
    per_resource = []
    for resource in deployment.resources:
        per_resource.extend(session.analyze(resource, provider_of(resource, by_urn), secret_value))
    return per_resource, session.analyze_stack(deployment.resources, secret_value)


def as_set(diagnostics: list[Any]) -> set[tuple[str, str, str, str]]:
    """Diagnostics as comparable tuples."""
    return {(d.policy, d.urn, d.message, d.level) for d in diagnostics}


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineSession]:
    """A pack started as the engine starts it, handshaken; each test configures its own stack."""
    started = start_pack(tmp_path_factory.mktemp("pack"))
    started.handshake()
    yield started
    started.close()
