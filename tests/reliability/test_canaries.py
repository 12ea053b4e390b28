"""No secret leaks: canary values in every place a secret can live, every user-facing path run end to end.

A generated project holds a distinct canary in each place: secure config (a database password, the
DataPacket API key), the DataPacket API key in the environment, a plaintext password in the stack
config and one in the program, an AWS key that checkov finds in the program, and, in a stack export,
secret-wrapped inputs (ciphertext) and outputs (`--show-secrets` plaintext, nested too) and a
sensitive-named plaintext input. Then every command runs through the installed `dpaguard`:
render, check with every format written to files and stdout (checkov on), audit --state with every
format, export --format tfplan (of the stack and of the state), --evidence, and the error paths
(a program that crashes with the stack config's plaintext password in its exception message, a malformed stack export that holds
a canary). Every produced file, stdout and stderr is searched for each canary: as is, JSON-escaped,
base64 and hex encoded.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import CHECKOV_IN_VENV
from support.cli import dpaguard_command
from dpaguard.model import SECRET_SIG, SECRET_SIG_KEY

pytestmark = pytest.mark.e2e  # every command through the installed dpaguard, renders and checkov

DPAGUARD = Path(dpaguard_command()[0])
FORMATS = ("text", "json", "sarif", "junit", "markdown", "html")

# One canary per place a secret can live (each distinct, so a leak names its path).
CANARIES = {
    "secure config (database password)": "v1:CanarySecureDbPassword4f1a",
    "secure config (DataPacket API key)": "v1:CanarySecureDatapacketKey77c2",
    "DATAPACKET_API_KEY environment": "CanaryEnvDatapacketKey9e3b",
    "plaintext password in stack config": "CanaryPlainConfigPassword1d8e",
    "plaintext password in the program": "CanaryProgramPassword6a0f",
    "credential checkov finds": "AKIA" + "CANARYRELIAB1TY7",
    "secret input in a stack export (ciphertext)": "CanaryStateCiphertext2b5d",
    "secret output in a --show-secrets export (plaintext)": "CanaryStatePlaintext/é8c4e",
    "nested secret output (plaintext)": "CanaryNestedPlaintext3f9a",
    "sensitive-named plaintext input in a stack export": "CanaryStatePasswordInput5e71",
    "malformed stack export": "CanaryMalformedState8d2f",
}

PROGRAM = '''"""A small estate holding secrets in every way a program can."""
import os

import pulumi
import pulumiverse_scaleway as scaleway

config = pulumi.Config()
AWS_ACCESS_KEY_ID = "{aws}"  # a credential left in the code: checkov's secrets scan finds it
PASSWORD = "{program}"
scaleway.databases.Instance(
    "db", node_type="DB-DEV-S", engine="PostgreSQL-16", user_name="admin",
    password=config.require_secret("dbPassword"), region="nl-ams", backup_same_region=True,
)
scaleway.databases.Instance(
    "legacy-db", node_type="DB-DEV-S", engine="PostgreSQL-16", user_name="admin", password=PASSWORD,
)
if config.get_bool("crash"):
    raise RuntimeError(f"cannot reach the vault as admin (tried {crash} and {{config.get('adminPassword')}})")
scaleway.object.Bucket("calls", tags={{"env": "prod", "data-category": "call-recordings", "admin": config.require("adminPassword")}})
scaleway.instance.Server("bastion", type="DEV1-S", image="debian_bookworm",
                         user_data={{"apiKey": os.environ.get("DATAPACKET_API_KEY", "")}})
pulumi.export("dbPassword", config.require_secret("dbPassword"))
'''


def _stack_file(crash: bool) -> str:
    return (
        "config:\n"
        "  scaleway:region: fr-par\n"
        "  scaleway:zone: fr-par-1\n"
        "  scaleway:projectId: cd2b649f-8cc2-4cae-b5b5-57d05b71f365\n"
        "  dpaguard:environment: prod\n"
        f"  canary:crash: {'true' if crash else 'false'}\n"
        "  canary:dbPassword:\n"
        f"    secure: {CANARIES['secure config (database password)']}\n"
        "  datapacket:apiKey:\n"
        f"    secure: {CANARIES['secure config (DataPacket API key)']}\n"
        f"  canary:adminPassword: {CANARIES['plaintext password in stack config']}\n"
    )


def _secret(**value: object) -> dict[str, object]:
    return {SECRET_SIG_KEY: SECRET_SIG, **value}


def _state() -> dict[str, object]:
    provider = "urn:pulumi:prod::canary::pulumi:providers:scaleway::default_1_60_0"
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-11-27T00:00:00Z", "magic": "", "version": "v3.200.0"},
            "resources": [
                {"urn": "urn:pulumi:prod::canary::pulumi:pulumi:Stack::canary-prod", "custom": False, "type": "pulumi:pulumi:Stack",
                 "outputs": {"dbPassword": _secret(plaintext=json.dumps(CANARIES["secret output in a --show-secrets export (plaintext)"]))}},
                {"urn": provider, "custom": True, "id": "p1", "type": "pulumi:providers:scaleway",
                 "inputs": {"region": "fr-par", "zone": "fr-par-1", "secretKey": _secret(ciphertext=CANARIES["secret input in a stack export (ciphertext)"])}},
                {"urn": "urn:pulumi:prod::canary::scaleway:databases/instance:Instance::db", "custom": True, "id": "fr-par/db",
                 "type": "scaleway:databases/instance:Instance", "provider": f"{provider}::p1",
                 "inputs": {"password": _secret(ciphertext=CANARIES["secret input in a stack export (ciphertext)"]), "region": "nl-ams",
                            "userName": "admin", "initSettings": {"adminPassword": CANARIES["sensitive-named plaintext input in a stack export"]}},
                 "outputs": {"password": _secret(plaintext=json.dumps(CANARIES["secret output in a --show-secrets export (plaintext)"])),
                             "endpoint": _secret(plaintext=json.dumps({"conn": CANARIES["nested secret output (plaintext)"]})),
                             "region": "nl-ams"}},
            ],
        },
    }


@dataclass
class Run:
    """One command's outcome."""

    args: list[str]
    code: int
    stdout: str
    stderr: str


def _forms(canary: str) -> set[str]:
    """A canary as it could appear in an artifact: as is, JSON-escaped, base64, hex, or its start alone."""
    raw = canary.encode()
    return {
        canary,
        json.dumps(canary)[1:-1],
        json.dumps(canary, ensure_ascii=False)[1:-1],
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        canary.split(":", 1)[-1],  # a secure value without its `v1:` prefix
        re.sub(r"^v1:|[^A-Za-z0-9].*$", "", canary),  # its distinctive ASCII start: survives escaping twice, truncation
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Run], Path]:
    """Every user-facing path, run once over the canary project; (the runs, the folder of everything written)."""
    if not CHECKOV_IN_VENV.exists() and os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"checkov is missing ({CHECKOV_IN_VENV}): the credential canary cannot be checked")
    root = tmp_path_factory.mktemp("canaries")
    project, out = root / "project", root / "out"
    (project / "stacks").mkdir(parents=True)
    out.mkdir()
    (project / "Pulumi.yaml").write_text("name: canary\nruntime: python\nmain: infra/\nstackConfigDir: stacks\n")
    (project / "infra").mkdir()
    (project / "infra" / "__main__.py").write_text(
        PROGRAM.format(aws=CANARIES["credential checkov finds"], program=CANARIES["plaintext password in the program"], crash="an-old-token")
    )
    (project / "stacks" / "Pulumi.prod.yaml").write_text(_stack_file(crash=False))
    (project / "stacks" / "Pulumi.crash.yaml").write_text(_stack_file(crash=True))
    state = out / "prod-state.json"
    state.write_text(json.dumps(_state(), ensure_ascii=False))
    malformed = out / "malformed.json"
    malformed.write_text('{"version": 3, "deployment": {"resources": [{"urn": "' + CANARIES["malformed stack export"] + '", ')
    env = {**os.environ, "DATAPACKET_API_KEY": CANARIES["DATAPACKET_API_KEY environment"], "NO_COLOR": "1"}
    if CHECKOV_IN_VENV.exists():
        env["DPAGUARD_CHECKOV"] = str(CHECKOV_IN_VENV)

    def report_args(prefix: str) -> list[str]:
        args = ["--format", "text", "--output", "-"]
        for name in FORMATS:
            args += ["--format", name, "--output", str(out / f"{prefix}.{name}")]
        return args

    commands = [
        ["render", "--stack", "prod", "--project-dir", str(project), "--output", str(out / "render.json")],
        ["render", "--stack", "prod", "--project-dir", str(project)],
        ["check", "--stack", "prod", "--project-dir", str(project), *(["--require-checkov"] if CHECKOV_IN_VENV.exists() else ["--no-checkov"]),
         *report_args("check"), "--evidence", str(out / "evidence.jsonl")],
        ["check", "--all-stacks", "--project-dir", str(project), "--no-checkov", "--format", "json"],
        ["audit", "--state", str(state), *report_args("audit"), "--evidence", str(out / "evidence.jsonl")],
        ["audit", "--state", str(out / "render.json"), "--format", "sarif"],
        ["export", "--state", str(state), "--format", "tfplan", "--output", str(out / "state.tfplan.json")],
        ["export", "--stack", "prod", "--project-dir", str(project), "--output", str(out / "stack.tfplan.json")],
        ["evidence", "verify", str(out / "evidence.jsonl")],
        ["render", "--stack", "crash", "--project-dir", str(project)],
        ["check", "--stack", "crash", "--project-dir", str(project), "--no-checkov", "--format", "json", "--output", str(out / "crash.json")],
        ["audit", "--state", str(malformed), "--format", "json"],
        ["export", "--state", str(malformed)],
    ]
    done = []
    for args in commands:
        result = subprocess.run([str(DPAGUARD), *args], capture_output=True, text=True, env=env, cwd=root, timeout=180)
        done.append(Run(args, result.returncode, result.stdout, result.stderr))
    return done, out


def _artifacts(runs: list[Run], out: Path) -> dict[str, str]:
    texts = {}
    for index, run in enumerate(runs):
        texts[f"stdout of dpaguard {' '.join(run.args[:2])} (#{index})"] = run.stdout
        texts[f"stderr of dpaguard {' '.join(run.args[:2])} (#{index})"] = run.stderr
    for path in sorted(out.iterdir()):
        if path.name not in ("prod-state.json", "malformed.json"):  # the inputs themselves
            texts[path.name] = path.read_bytes().decode("utf-8", errors="replace")
    return texts


def test_every_path_ran_as_expected(runs: tuple[list[Run], Path]) -> None:
    done, out = runs
    codes = {" ".join(r.args[:3]): r.code for r in done}
    by_args = {i: r for i, r in enumerate(done)}
    assert by_args[0].code == 0 and json.loads((out / "render.json").read_text())["deployment"]["resources"]
    assert by_args[2].code == 1, by_args[2].stderr  # the canary estate violates residency: findings, not an error
    check = json.loads((out / "check.json").read_text())
    controls = {f["control"] for f in check["findings"]}
    assert {"DPA-RES-001"} <= controls, controls
    if CHECKOV_IN_VENV.exists():
        assert any(c.startswith("DPA-SEC-10") for c in controls), f"checkov did not report the credential: {sorted(controls)}"
    assert by_args[4].code == 1 and json.loads((out / "audit.json").read_text())["findings"]
    assert by_args[6].code == 0 and (out / "state.tfplan.json").stat().st_size > 0
    assert by_args[8].code == 0, by_args[8].stdout + by_args[8].stderr
    for index in (9, 10, 11, 12):  # the crashing program, the malformed export: exit 2, one line
        assert by_args[index].code == 2, (by_args[index].args, by_args[index].stderr)
        assert len(by_args[index].stderr.strip().splitlines()) == 1, by_args[index].stderr
    del codes


def test_no_canary_in_any_output(runs: tuple[list[Run], Path]) -> None:
    done, out = runs
    artifacts = _artifacts(done, out)
    leaks = [
        f"{place} in {name}"
        for name, text in artifacts.items()
        for place, canary in CANARIES.items()
        if any(form in text for form in _forms(canary))
    ]
    assert not leaks, leaks
    print(f"reliability: {len(CANARIES)} canaries, {len(artifacts)} artifacts (files, stdout, stderr) searched, 0 leaks")
    assert len(artifacts) >= 30


def test_the_search_finds_a_planted_canary(runs: tuple[list[Run], Path]) -> None:
    """The grep itself works: the inputs hold canaries in the forms searched for."""
    _, out = runs
    state = (out / "prod-state.json").read_text()
    assert any(form in state for form in _forms(CANARIES["secret output in a --show-secrets export (plaintext)"]))
    encoded = base64.b64encode(CANARIES["plaintext password in the program"].encode()).decode()
    assert any(form in f"x{encoded}y" for form in _forms(CANARIES["plaintext password in the program"]))


