"""A pull request hides credentials where dpaguard prints text: no output shows them (issue 24, H4, L5, L6, L7).

Each case puts a canary credential somewhere dpaguard writes about (a URL it names in an error, a
property or tag name, a resource name, a type token, a source path, a crafted wrapper) and reads every
output of the installed `dpaguard`: the canary never appears, and DPA-SEC-001 reports the finding.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from support import CLI_FIXTURES, SOURCE_FIXTURES
from support.cli import assert_one_line_error, dpaguard

from dpaguard.errors import shown_url

STATE = CLI_FIXTURES / "prod-drifted.json"
URL_CANARY = "CANARYc0ffee5e1d"


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("url, shown", [
    ("http://127.0.0.1:8181/v1/secret/x?token=t#f", "http://127.0.0.1:8181"),
    ("https://user:pass@opa.example:443/a", "https://opa.example:443"),
    ("http://[::1]:8181/path", "http://[::1]:8181"),
    ("http://opa.example", "http://opa.example"),
    ("http://[::1", "(a malformed URL)"),
    ("http://host:99999/", "(a malformed URL)"),
    ("not a url /with/path", "(a malformed URL)"),
])
def test_a_url_is_shown_as_scheme_host_and_port(url: str, shown: str) -> None:
    assert shown_url(url) == shown


def test_an_opa_url_error_names_the_server_only(tmp_path: Path) -> None:
    """The path, query, fragment and userinfo of `--opa-url` can hold a token: the error line shows none (L6)."""
    port = _closed_port()
    url = f"http://u:{URL_CANARY}@127.0.0.1:{port}/v1/{URL_CANARY}/?key={URL_CANARY}#{URL_CANARY}"
    run = dpaguard("audit", "--state", STATE, "--opa-url", url, "--opa-timeout", "5")
    assert_one_line_error(run, f"OPA server http://127.0.0.1:{port}: ")
    assert URL_CANARY not in run.stderr + run.stdout


# --- credentials where a deployment has names, not values (H4, L5) and in crafted wrappers (L7) ----------

SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
# Scaleway access keys of the format the scanner knows (SCW + 17), one per hiding place, so a leak names its place.
KEYS = {place: f"SCW{letter * 16}{digit}" for place, letter, digit in (
    ("tag-key", "A", "1"), ("property-name", "B", "2"), ("resource-name", "C", "3"), ("source-path", "D", "4"),
    ("type-token", "E", "5"), ("forged-secret", "F", "6"), ("resource-reference", "G", "7"), ("asset", "H", "8"),
    ("provider-input", "J", "9"), ("forged-under-password", "K", "1"),
)}
REPORTS = ("json", "sarif", "junit", "markdown", "html", "text")


def _hostile_export(tmp_path: Path) -> Path:
    """The real export with a credential in each place a name or a wrapper can hold one."""
    export = json.loads((SOURCE_FIXTURES / "states" / "real-export.json").read_text())
    stack, provider, database, bucket = export["deployment"]["resources"]
    explicit = {
        "urn": "urn:pulumi:prod::legacy-estate::pulumi:providers:scaleway::explicit",
        "custom": True, "id": "5d2e4b1c-0000-4000-8000-000000000001", "type": "pulumi:providers:scaleway",
        "inputs": {"region": "fr-par", "profile": KEYS["provider-input"]},
        "outputs": {"region": "fr-par", "profile": KEYS["provider-input"]},
    }
    for props in (bucket["inputs"], bucket.setdefault("outputs", {})):
        props["tags"] = {KEYS["tag-key"]: "x"}
        props[KEYS["property-name"]] = "y"
        props["notes"] = {SIG: SECRET_SIG, "ciphertext": "v1:abc", "smuggled": KEYS["forged-secret"]}
        props["owner"] = {SIG: "5cf8f73096256a8f31e491e813e4eb8e", "urn": f"urn:pulumi:prod::p::t::{KEYS['resource-reference']}", "id": "x"}
        props["userData"] = {SIG: "c44067f5952c0a294b673a41bacd8c17", "text": f"export KEY={KEYS['asset']}"}
        props["apiToken"] = {SIG: "forged", "value": KEYS["forged-under-password"]}
    bucket["urn"] += f"-{KEYS['resource-name']}"
    bucket["provider"] = f"{explicit['urn']}::{explicit['id']}"
    database["sourcePosition"] = f"project:///infra/{KEYS['source-path']}/__main__.py#3,1"
    custom = {
        "urn": f"urn:pulumi:prod::legacy-estate::acme:index:{KEYS['type-token']}::thing", "custom": True, "id": "t",
        "type": f"acme:index:{KEYS['type-token']}", "inputs": {}, "outputs": {},
        "provider": f"{explicit['urn']}::{explicit['id']}",
    }
    export["deployment"]["resources"] = [stack, provider, explicit, database, bucket, custom]
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(export))
    return path


def test_no_output_prints_a_credential_written_in_a_name_or_a_wrapper(tmp_path: Path) -> None:
    state = _hostile_export(tmp_path)
    texts = []
    for report in REPORTS:
        run = dpaguard("audit", "--state", state, "--format", report, "--output", tmp_path / f"report.{report}")
        assert run.returncode == 1, run.stderr
        texts += [run.stdout, run.stderr, (tmp_path / f"report.{report}").read_text()]
    export = dpaguard("export", "--state", state, "--format", "tfplan")
    assert export.returncode == 0, export.stderr
    texts += [export.stdout, export.stderr]
    leaked = {place for place, key in KEYS.items() if any(key in text for text in texts)}
    assert not leaked

    findings = json.loads((tmp_path / "report.json").read_text())["findings"]
    reported = [f["message"] for f in findings if f["control"] == "DPA-SEC-001"]
    for expected in ("property tags.[plaintext redacted: Scaleway access key] (a name)",
                     "property [plaintext redacted: Scaleway access key] (a name)",
                     "the resource's urn (Scaleway access key)", "the resource's sourcePosition (Scaleway access key)",
                     "the resource's type (Scaleway access key)", "property notes holds", "property apiToken holds",
                     "property owner.urn (Scaleway access key)", "property userData.text (Scaleway access key)",
                     "property provider explicit: profile (Scaleway access key)"):
        assert any(expected in message for message in reported), (expected, reported)


def test_render_prints_no_credential_written_in_a_name(tmp_path: Path) -> None:
    """A program that puts keys in a tag key, a property name, a resource name, a type token and its own path (H4, L5)."""
    project = tmp_path / "project"
    program = project / KEYS["source-path"]
    program.mkdir(parents=True)
    (project / "Pulumi.yaml").write_text(f"name: hostile\nruntime: python\nmain: {KEYS['source-path']}/\n")
    (project / "Pulumi.dev.yaml").write_text("config:\n  scaleway:region: fr-par\n  scaleway:zone: fr-par-1\n")
    (program / "__main__.py").write_text(
        "import pulumi\nimport pulumiverse_scaleway as scaleway\n\n"
        f"scaleway.network.Vpc('vpc-{KEYS['resource-name']}', tags=['{KEYS['tag-key']}'])\n"
        "class Thing(pulumi.CustomResource):\n"
        "    def __init__(self, name, props):\n"
        f"        super().__init__('acme:index:{KEYS['type-token']}', name, props)\n"
        f"Thing('thing', {{'{KEYS['property-name']}': 'y', 'labels': {{'{KEYS['asset']}': 'z'}}}})\n"
    )
    texts = []
    commands: list[list[str | Path]] = [
        ["render", "--stack", "dev", "--project-dir", project],
        ["export", "--stack", "dev", "--project-dir", project, "--format", "tfplan"],
        ["check", "--stack", "dev", "--project-dir", project, "--no-checkov", "--format", "json"],
    ]
    for command in commands:
        run = dpaguard(*command)
        assert run.returncode in (0, 1), run.stderr
        texts += [run.stdout, run.stderr]
    leaked = {place: [text[max(0, text.find(key) - 200):text.find(key) + 30] for text in texts if key in text]
              for place, key in KEYS.items() if any(key in text for text in texts)}
    assert not leaked
    messages = [f["message"] for f in json.loads(texts[-2])["findings"] if f["control"] == "DPA-SEC-001"]
    for expected in ("the resource's urn", "the resource's type", "(a name)", "the resource's sourcePosition"):
        assert any(expected in message for message in messages), (expected, messages)
