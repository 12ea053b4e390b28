"""Reading stack exports (real ones and `dpaguard render` output) and writing them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support import SOURCE_FIXTURES
from support.source_helpers import Render

from dpaguard.errors import InputError
from dpaguard.model import PLAINTEXT_REDACTED, REDACTED, SECRET_SIG, SECRET_SIG_KEY
from dpaguard.source.state import load_state, to_export
from support.big_exports import MEASURE, big_export

REAL = SOURCE_FIXTURES / "states" / "real-export.json"
SECRET = {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": REDACTED}


def resource(deployment: Any, name: str) -> dict[str, Any]:
    (found,) = [r for r in deployment.resources if r["urn"].endswith(f"::{name}")]
    return dict(found)


def test_real_export_identity_comes_from_the_urns() -> None:
    deployment = load_state(REAL)
    assert (deployment.stack, deployment.project, deployment.source) == ("prod", "legacy-estate", "state")
    assert len(deployment.resources) == 4 and deployment.origin == str(REAL)
    assert deployment.config_file is None


def test_real_export_secrets_are_emptied_on_load() -> None:
    deployment = load_state(REAL)
    text = json.dumps([deployment.resources, deployment.config])
    assert "CANARY" not in text
    db = resource(deployment, "main-db")
    assert db["inputs"]["password"] == SECRET and db["outputs"]["password"] == SECRET
    bucket = resource(deployment, "exports")
    assert bucket["outputs"]["accessKey"] == PLAINTEXT_REDACTED
    assert bucket["inputs"]["region"] == "nl-ams"


def test_real_export_config_comes_from_the_default_providers() -> None:
    deployment = load_state(REAL)
    assert deployment.config == {
        "scaleway:region": "fr-par",
        "scaleway:zone": "fr-par-2",
        "scaleway:projectId": "7c0a8a5e-1111-2222-3333-444455556666",
        "scaleway:secretKey": REDACTED,
    }
    assert deployment.source_positions == {resource(deployment, "main-db")["urn"]: ("__main__.py", 12, 5)}


def test_bare_deployment_and_checkpoint_forms(tmp_path: Path) -> None:
    export = json.loads(REAL.read_text())
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(export["deployment"]))
    checkpoint = tmp_path / "checkpoint.json"
    checkpoint.write_text(json.dumps({"version": 3, "checkpoint": {"stack": "prod", "latest": export["deployment"]}}))
    expected = load_state(REAL).resources
    assert load_state(bare).resources == expected
    assert load_state(checkpoint).resources == expected


def test_render_output_round_trips(rendered: Render, tmp_path: Path) -> None:
    rendered_deployment = rendered("secrets")
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps(to_export(rendered_deployment)))
    loaded = load_state(path)
    assert loaded.resources == rendered_deployment.resources
    assert loaded.source == "program" and loaded.stack == "dev" and loaded.project == "secrets"
    assert loaded.config == rendered_deployment.config
    assert loaded.secret_config_keys == rendered_deployment.secret_config_keys
    assert loaded.config_file == rendered_deployment.config_file
    assert loaded.config_sha256 == rendered_deployment.config_sha256
    assert loaded.source_positions == rendered_deployment.source_positions


def test_export_shape(rendered: Render) -> None:
    export = to_export(rendered("components"))
    assert export["version"] == 3
    assert set(export) == {"version", "deployment", "dpaguard"}
    assert export["deployment"]["manifest"]["version"].endswith("(offline render)")
    assert export["dpaguard"]["source"] == "program" and export["dpaguard"]["configFile"] == "Pulumi.dev.yaml"
    json.dumps(export)  # plain JSON data only


def test_stack_config_file_replaces_the_provider_config(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.prod.yaml"
    stack_file.write_text("config:\n  dpaguard:environment: prod\n  legacy:dbPassword:\n    secure: v1:CANARY\n")
    deployment = load_state(REAL, stack_config=stack_file)
    assert deployment.config == {"dpaguard:environment": "prod", "legacy:dbPassword": REDACTED}
    assert deployment.secret_config_keys == {"legacy:dbPassword"}
    assert deployment.config_sha256 and len(deployment.config_sha256) == 64
    other = tmp_path / "Pulumi.dev.yaml"
    other.write_text("config: {}\n")
    with pytest.raises(InputError, match="is the config of stack 'dev', the state is of stack 'prod'"):
        load_state(REAL, stack_config=other)


def write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "state.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def minimal(urns: list[str], version: int = 3) -> dict[str, Any]:
    return {"version": version, "deployment": {"resources": [{"urn": u, "type": u.split("::")[2]} for u in urns]}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"version": 3,\n "deployment": {\n', "state.json:3: not valid JSON"),
        ("[1, 2]", "not a Pulumi stack export (expected a JSON object)"),
        ({"resources_": []}, "not a Pulumi stack export (no 'deployment' with 'resources')"),
        ({"version": 3, "deployment": {"resources": "x"}}, "'resources' is not a list"),
        (minimal(["urn:pulumi:dev::p::a:b:C::x"], version=4), "unsupported stack export version 4"),
        ({"version": 3, "deployment": {"resources": []}}, "holds no resources"),
        ({"version": 3, "deployment": {"resources": [{"type": "a:b:C"}]}}, "resource #0 is not a Pulumi resource"),
        (
            {"resources": [{"urn": "urn:pulumi:dev::p::a:b:C::x", "type": "a:b:C", "inputs": [1]}]},
            "resource #0 (urn:pulumi:dev::p::a:b:C::x): 'inputs' is not an object",
        ),
        (minimal(["urn:pulumi:dev::p::a:b:C::x", "urn:pulumi:prod::p::a:b:C::y"]), "resources from several stacks: dev (p), prod (p)"),
    ],
)
def test_unusable_files_fail_in_one_line(tmp_path: Path, content: Any, message: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(InputError) as caught:
        load_state(path)
    line = caught.value.one_line()
    assert "\n" not in line and str(path) in line
    assert message in line, line


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="state file not found"):
        load_state(tmp_path / "nope.json")


def test_size_limit_is_checked_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "not json at all " * 200)
    with pytest.raises(InputError, match=r"state file is 3.1 kB, above the 1.0 kB limit"):
        load_state(path, max_bytes=1024)
    monkeypatch.setenv("DPAGUARD_MAX_STATE_MB", "0.001")
    with pytest.raises(InputError) as caught:
        load_state(path)
    assert caught.value.one_line().endswith("(raise it with DPAGUARD_MAX_STATE_MB=<megabytes>)")


@pytest.mark.e2e  # writes and reads files of tens of megabytes
def test_large_files_are_streamed_with_the_same_result(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    big_export(path, 25_000, block_last=True)
    assert path.stat().st_size > 16 * 1024 * 1024  # above the streaming threshold
    deployment = load_state(path)
    assert len(deployment.resources) == 25_001 and deployment.source == "program"
    assert deployment.config == {"scaleway:region": "fr-par"}  # the environment never comes from the file
    last = deployment.resources[-1]
    assert last["inputs"]["password"] == SECRET and last["outputs"]["lifecycleRules"][0]["expiration"]["days"] == 365
    assert "CANARYBIG" not in json.dumps(deployment.resources[:50])


# VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork and exec, so a child of a large pytest
# process would report the parent's peak; the high-water mark of the child's own memory starts anew.


@pytest.mark.e2e  # a child process reads a large file
def test_peak_memory_of_a_large_file_stays_a_small_multiple_of_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    big_export(path, 60_000, block_last=False)
    size = path.stat().st_size
    run = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, check=True)
    count, peak = map(int, run.stdout.split())
    assert count == 60_001
    # json.load of this file peaks near 5x its size; the streamed, string-sharing reader stays under 3x + baseline
    assert peak < 3 * size + 120 * 1024 * 1024, (peak, size)


def test_both_sources_fail_with_a_source_error() -> None:
    from dpaguard.source.interface import SourceError
    from dpaguard.source.program import render_stack

    with pytest.raises(SourceError):
        load_state(REAL.with_name("missing.json"))
    with pytest.raises(SourceError):
        render_stack(SOURCE_FIXTURES / "deprecated", "missing")
