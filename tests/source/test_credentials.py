"""Scaleway and DataPacket credentials found by dpaguard itself: which texts hold one, and which do not.

The keys below are made up for the tests (random characters in the providers' formats); none is real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dpaguard.deployment.credentials import (
    DATAPACKET_API_KEY,
    SCALEWAY_ACCESS_KEY,
    SCALEWAY_SECRET_KEY,
    find_credentials,
    marked_kinds,
    redact_credentials,
)
from dpaguard.deployment.redact import redact_properties
from dpaguard.source.credentials import scan_files
from support.silent_engine import SilentEngine

ACCESS = "SCW7Q2M9X4K1B8D3F6HZ"
SECRET = "5b0c9f2e-8a41-4d7e-9c36-2f1a7e4b8d90"
DATAPACKET = "dpk_4f9a8b7c6d5e4f3a2b1c0d9e"


def kinds(text: str) -> list[str]:
    return [c.kind for c in find_credentials(text)]


@pytest.mark.parametrize("text", [
    f"export SCW_ACCESS_KEY={ACCESS}",
    f'scaleway.Provider("p", access_key="{ACCESS}")',
    f"scaleway:access_key: {ACCESS}",
])
def test_scaleway_access_key_is_found_wherever_it_stands(text: str) -> None:
    assert kinds(text) == [SCALEWAY_ACCESS_KEY]


@pytest.mark.parametrize("text", [
    f"export SCW_SECRET_KEY={SECRET}",
    f'scaleway.Provider("p", secret_key="{SECRET}")',
    f"scaleway:secret_key: {SECRET}",
    f'{{"secretKey": "{SECRET}"}}',
    f"scw init --secret-key {SECRET}",
    f"secret_key = '{SECRET}'",
])
def test_scaleway_secret_key_is_a_uuid_named_as_a_secret_key(text: str) -> None:
    assert kinds(text) == [SCALEWAY_SECRET_KEY]


@pytest.mark.parametrize("text", [
    f"scaleway:project_id: {SECRET}",  # a project id is a UUID and no credential
    f'scaleway.instance.Server.get("web", "fr-par-1/{SECRET}")',
    f"secret_id = '{SECRET}'",  # the id of a Secret Manager secret
    "SCWXXXXXXXXXXXXXXXXX",  # the documentation's placeholder
    "SCW_ACCESS_KEY=${env:SCW_ACCESS_KEY}",
    f"XSCW7Q2M9X4K1B8D3F6HZ {ACCESS}Z",  # not a word of its own
    'token = os.environ["DATAPACKET_API_KEY"]',
    'datapacket_api_key = config.require_secret("datapacket_api_key_from_vault")',
    "datapacket:apiKey:\n    secure: AAABAHhO3pGv0Q==",
])
def test_what_is_not_a_credential(text: str) -> None:
    assert kinds(text) == []


@pytest.mark.parametrize("text", [
    f"DATAPACKET_API_KEY={DATAPACKET}",
    f"datapacket:apiKey: {DATAPACKET}",
    f'datapacket_token = "{DATAPACKET}"',
])
def test_datapacket_api_key_is_found_by_its_name(text: str) -> None:
    assert kinds(text) == [DATAPACKET_API_KEY]


def test_redaction_keeps_the_text_and_names_the_kind_never_the_value() -> None:
    text = f"#cloud-config\nruncmd:\n  - scw init access-key={ACCESS} secret-key={SECRET}\n  - echo DATAPACKET_TOKEN={DATAPACKET}\n"
    redacted = redact_credentials(text)
    assert ACCESS not in redacted and SECRET not in redacted and DATAPACKET not in redacted
    assert redacted.startswith("#cloud-config\nruncmd:\n  - scw init access-key=[plaintext redacted: Scaleway access key]")
    assert marked_kinds(redacted) == [SCALEWAY_ACCESS_KEY, SCALEWAY_SECRET_KEY, DATAPACKET_API_KEY]


def test_every_source_redacts_a_credential_under_any_property_name() -> None:
    inputs = {"userData": {"cloud-init": f"SCW_SECRET_KEY={SECRET}"}, "tags": [f"owner-key:{ACCESS}"], "name": "web"}
    redacted = redact_properties(inputs)
    assert SECRET not in str(redacted) and ACCESS not in str(redacted)
    assert redacted["name"] == "web"


def test_files_are_scanned_with_position_and_kind_outside_virtual_environments(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text(f'import pulumi\n\nPROVIDER_KEYS = {{"access": "{ACCESS}"}}\n')
    (tmp_path / ".env").write_text(f"SCW_SECRET_KEY={SECRET}\n")
    (tmp_path / "settings.json").write_text(f'{{\n  "datapacket_token": "{DATAPACKET}"\n}}\n')
    for venv in ("env", ".venv"):  # any folder holding pyvenv.cfg is a virtual environment
        site = tmp_path / venv / "lib" / "site-packages"
        site.mkdir(parents=True)
        (tmp_path / venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
        (site / "vendored.py").write_text(f'KEY = "{ACCESS}"\n')
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "x.json").write_text(f'{{"k": "{ACCESS}"}}')
    (tmp_path / "logo.png").write_bytes(ACCESS.encode())
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_keys.py").write_text(f'MADE_UP = "{ACCESS}"\n')
    found, read = scan_files(tmp_path)
    assert [(c.path, c.line, c.column, c.kind) for c in found] == [
        (".env", 1, 16, SCALEWAY_SECRET_KEY),
        ("__main__.py", 3, 29, SCALEWAY_ACCESS_KEY),
        ("settings.json", 2, 24, DATAPACKET_API_KEY),
    ]
    assert read == 3


def test_a_credential_is_a_decision_about_its_file_placed_by_the_findings_stage(tmp_path: Path) -> None:
    """In the stack config of a stack the run checks: that stack's; anywhere else: the project's, judged as prod."""
    import datetime as dt

    from support import POLICIES
    from dpaguard.model import Deployment
    from dpaguard.pipeline import run_stages
    from dpaguard.policy import load_policy
    from dpaguard.source.credentials import file_decisions

    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(f"config:\n  scaleway:accessKey: {ACCESS}\n")
    (tmp_path / "__main__.py").write_text(f'KEY = "{ACCESS}"\n')
    policy = load_policy(POLICIES)
    decisions, read = file_decisions(tmp_path, policy)
    assert read == 2 and all(d.location is not None and d.type == "dpaguard:credentials" for d in decisions)
    assert {d.urn for d in decisions} == {"urn:dpaguard:file:__main__.py", "urn:dpaguard:file:stacks/Pulumi.dev.yaml"}
    assert all(ACCESS not in d.message for d in decisions)

    dev = Deployment(stack="dev", project="p", source="program", resources=(), config_file="stacks/Pulumi.dev.yaml")
    judge = run_stages([dev], policy, SilentEngine(), today=dt.date(2026, 1, 1)).judge  # type: ignore[arg-type]
    placed = {f.name: (f.stack, f.urn, f.enforcement) for f in judge.findings(decisions)}
    control = policy.control("DPA-SEC-104")
    assert placed == {
        "__main__.py": ("*", "urn:dpaguard:file:__main__.py", control.enforcement_for("prod")),
        "stacks/Pulumi.dev.yaml": ("dev", dev.stack_urn, control.enforcement_for("dev")),
    }
