"""`dpaguard audit --opa-url`, end to end through the command line (in process): the same findings as the
embedded engine when the server answers, and exit 2 with one line naming the URL for every fault."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from support import CLI_FIXTURES
from support.cli import dpaguard
from support.opa_standin import OpaStandIn

from dpaguard.engine.opa_revision import namespace

STATE = CLI_FIXTURES / "prod-drifted.json"
CANARY = "CANARY-CIPHERTEXT-7f3a"  # the secret's ciphertext in prod-drifted.json


def audit(*extra: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return dpaguard("audit", "--state", STATE, "--format", "json", "--today", "2026-11-27", "--quiet", *extra,
                    timeout=timeout)


def findings(stdout: str) -> list[tuple[str, str, str, str]]:
    report = json.loads(stdout)
    return sorted((f["control"], f["urn"], f["status"], f["message"]) for f in report["findings"])


def test_same_findings_as_the_embedded_engine(any_opa: Any, policy: Any) -> None:
    embedded = audit()
    served = audit("--opa-url", any_opa.url)
    assert embedded.returncode == served.returncode == 1, (embedded.stderr, served.stderr)
    assert findings(served.stdout) == findings(embedded.stdout)
    assert findings(served.stdout)  # the drifted prod has findings: the comparison is not vacuous
    if isinstance(any_opa, OpaStandIn):
        assert any(r.startswith(f"POST /v1/data/{namespace(policy.sha256)}/main") for r in any_opa.requests)


def one_line_naming(result: subprocess.CompletedProcess[str], url: str, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""  # no report at all, let alone an empty passing one
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("dpaguard: ")
    assert url in result.stderr
    assert CANARY not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_refused(refused_url: str) -> None:
    one_line_naming(audit("--opa-url", refused_url), refused_url, "cannot connect")


@pytest.mark.parametrize(
    ("mode", "on", "why"),
    [
        ("hang", "POST /v1/data", "no answer within 5 s"),
        ("garbage", "POST /v1/data", "not JSON"),
        ("error500", "PUT /v1/policies", "internal_error"),
        ("error500", "POST /v1/data", "HTTP 500"),
        ("malformed", "POST /v1/data", "malformed decision"),
        ("undefined", "POST /v1/data", "undefined"),
        ("no-decisions", "POST /v1/data", "decisions is undefined"),
        ("garbage", "GET /v1/data/system/bundles", "not JSON"),
        ("hang", "PUT /v1/policies", "no answer within 5 s"),
        ("compile-error", "PUT /v1/policies", ":3:1: rego_unsafe_var_error"),
    ],
)
def test_faults_exit_2_with_one_line(opa: OpaStandIn, mode: str, on: str, why: str) -> None:
    opa.inject(mode, on=on)
    started = time.monotonic()
    # 5 s: each PUT makes the stand-in compile every module with real OPA, which takes most of a
    # second on a loaded 2-core machine; a hang (30 s) still outlasts it.
    result = audit("--opa-url", opa.url, "--opa-timeout", "5")
    one_line_naming(result, opa.url, why)
    if mode == "compile-error":
        assert "dpaguard_rev_" not in result.stderr  # the policy file or dpaguard's own module, not the server's id
    assert time.monotonic() - started < 60


@pytest.mark.e2e  # waits out a time limit, three times
@pytest.mark.parametrize("on", ["POST /v1/data", "GET /v1/policies", "GET /health"])
def test_slow_drip_stops_at_the_timeout(opa: OpaStandIn, on: str) -> None:
    # one byte a second: requests' per-read timeout (1.5 s) never trips; the answer would take
    # minutes (the shortest, /health's, about 70 s). A healthy run on the same server first (it
    # pushes the modules; the next runs find them there) sets the pace.
    assert audit("--opa-url", opa.url).returncode == 1
    started = time.monotonic()
    assert audit("--opa-url", opa.url, "--opa-timeout", "1.5").returncode == 1
    healthy = time.monotonic() - started
    opa.inject("drip", on=on)
    started = time.monotonic()
    result = audit("--opa-url", opa.url, "--opa-timeout", "1.5")
    elapsed = time.monotonic() - started
    one_line_naming(result, opa.url, "no answer within 1.5 s")
    assert elapsed < healthy + 1.5 + 5.0 < 60, (elapsed, healthy)
