"""The policy pack under the real `pulumi` CLI (v3.276.0), offline, on a scratch copy of the house estate.

The CLI, its engine, the Python language host (v3.68.0, the newest the Go module proxy serves), the
program, the SDKs, the DataPacket dynamic provider and the pack are real; the Scaleway provider is
a DOUBLE (tests/doubles/pulumi-resource-scaleway: the real one cannot be built here). The oracle
for what the pack must say is `dpaguard check` on the same scratch copy.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from support import POLICIES
from support.cli import dpaguard
from support.real_tools import real_tool
from support.pulumi_cli import PACK_LAUNCHER, SECRET_VALUES, PulumiProject, scratch_estate, stack_resources

STACKS = ("dev", "staging", "prod")
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

# A change a pull request could make: a bucket of call recordings in Amsterdam (Appendix C §1).
VIOLATING_BUCKET = '''
import pulumiverse_scaleway as _scaleway

_scaleway.object.Bucket(
    "recordings-archive",
    name="ringover-dpa-recordings-archive",
    region="nl-ams",
    tags={"data-category": "call-recordings"},
)
'''


def offline_findings(project: PulumiProject, stack: str) -> dict[str, Any]:
    """`dpaguard check` of the scratch copy's stack (no checkov): the oracle."""
    run = dpaguard("check", "--stack", stack, "--project-dir", project.root, "--no-checkov", "--format", "json")
    assert run.returncode in (0, 1), run.stderr
    document: dict[str, Any] = json.loads(run.stdout)
    return document


def mandatory_controls(document: dict[str, Any]) -> set[str]:
    """The controls with a blocking finding in a dpaguard JSON report."""
    return {f["control"] for f in document["findings"] if f.get("enforcement") == "mandatory" and not f.get("waived")}


def all_controls(document: dict[str, Any]) -> set[str]:
    """Every control with a finding in a dpaguard JSON report."""
    return {f["control"] for f in document["findings"]}


def assert_no_secret(*texts: str) -> None:
    """None of the scratch stacks' secret values appears."""
    for text in texts:
        for value in SECRET_VALUES.values():
            assert value not in text


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> PulumiProject:
    """The house estate's three stacks in a file backend."""
    project = scratch_estate(tmp_path_factory.mktemp("real-cli") / "estate")
    for stack in STACKS:
        project.init_stack(stack)
    return project


@pytest.fixture(scope="module")
def previews(estate: PulumiProject) -> Iterator[dict[str, tuple[Any, dict[str, Any], dict[str, Any]]]]:
    """Each stack previewed once with the pack: (process, the pack's JSON report, the resources it was handed)."""
    runs: dict[str, tuple[Any, dict[str, Any], dict[str, Any]]] = {}
    for stack in STACKS:
        report, resources = estate.root / f"report.{stack}.json", estate.root / f"resources.{stack}.json"
        run = estate.preview(stack, env={"DPAGUARD_REPORT": str(report), "DPAGUARD_PACK_RESOURCES": str(resources)})
        runs[stack] = (run, json.loads(report.read_text(encoding="utf-8")) if report.exists() else {},
                       json.loads(resources.read_text(encoding="utf-8")) if resources.exists() else {})
    yield runs


@pytest.fixture()
def violating(tmp_path: Path) -> PulumiProject:
    """The estate's prod stack with a bucket in Amsterdam added to the program."""
    project = scratch_estate(tmp_path / "estate")
    project.add_program_lines(VIOLATING_BUCKET)
    project.init_stack("prod")
    return project


@pytest.mark.parametrize("stack", STACKS)
def test_compliant_stack_previews_with_the_same_findings_as_check(
        estate: PulumiProject, previews: dict[str, tuple[Any, dict[str, Any], dict[str, Any]]], stack: str) -> None:
    run, report, _ = previews[stack]
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "dpaguard@v" in output  # the pack ran: the CLI lists it under Policies
    assert "[mandatory]" not in output
    assert "Traceback" not in output
    offline = offline_findings(estate, stack)
    assert mandatory_controls(offline) == set()
    assert report["summary"]["mandatory"] == 0
    # The same controls speak, in the CLI's own output and in the pack's report, as in `dpaguard check`.
    assert all_controls(report) == all_controls(offline)
    for control in all_controls(offline):
        assert "[advisory] [severity: " in output and control in output
    assert_no_secret(output, json.dumps(report))


def test_violating_change_fails_the_preview_with_control_and_message(violating: PulumiProject) -> None:
    expected = offline_findings(violating, "prod")
    blocking = mandatory_controls(expected)
    assert blocking, "the oracle must find the Amsterdam bucket"
    run = violating.preview("prod")
    output = run.stdout + run.stderr
    assert run.returncode != 0, output[-4000:]
    about_bucket = [f for f in expected["findings"]
                    if f["control"] in blocking and "recordings-archive" in (f.get("urn") or "")]
    assert about_bucket, expected["findings"]
    assert "[mandatory] [severity: " in output
    for finding in about_bucket:
        assert finding["control"] in output
        assert finding["message"] in output
    assert_no_secret(output)


def test_advisory_level_warns_and_lets_the_preview_pass(violating: PulumiProject) -> None:
    blocking = mandatory_controls(offline_findings(violating, "prod"))
    config = violating.root / "policy-config.json"
    config.write_text(json.dumps({control: {"enforcementLevel": "advisory"} for control in blocking}), encoding="utf-8")
    run = violating.preview("prod", "--policy-pack-config", str(config))
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "[mandatory]" not in output
    for control in blocking:
        assert control in output
    assert "[advisory]" in output


def test_up_of_a_violating_change_is_blocked_before_anything_is_created(violating: PulumiProject) -> None:
    created = violating.root / "double-created.log"
    run = violating.run("up", "--yes", "--stack", "prod", "--policy-pack", str(PACK_LAUNCHER),
                        env={"DPAGUARD_DOUBLE_LOG": str(created)})
    output = run.stdout + run.stderr
    assert run.returncode != 0, output[-4000:]
    assert "[mandatory]" in output
    assert not created.exists(), created.read_text(encoding="utf-8")  # the provider double was never asked to create
    assert violating.resource_count("prod") == 0


def _unknown_somewhere(real: Any, offline: Any) -> bool:
    """Whether the two differ only where the real preview holds an unknown."""
    if real == UNKNOWN:
        return True
    if isinstance(real, dict) and isinstance(offline, dict):
        return set(real) == set(offline) and all(
            real[k] == offline[k] or _unknown_somewhere(real[k], offline[k]) for k in real)
    if isinstance(real, list) and isinstance(offline, list):
        return len(real) == len(offline) and all(
            a == b or _unknown_somewhere(a, b) for a, b in zip(real, offline))
    return False


def fidelity(real: dict[str, dict[str, Any]], offline: dict[str, dict[str, Any]]) -> dict[str, int]:
    """How the inputs the real engine hands the pack compare with the offline render's, per resource."""
    counts = {"compared": 0, "identical": 0, "unknown-in-preview": 0, "component": 0, "provider": 0, "other": 0}
    for urn in sorted(set(real) & set(offline)):
        counts["compared"] += 1
        a, b = real[urn].get("inputs") or {}, offline[urn].get("inputs") or {}
        if a == b:
            counts["identical"] += 1
        elif real[urn]["type"].startswith("pulumi:providers:"):
            counts["provider"] += 1
        elif not real[urn].get("custom", True) or real[urn]["type"] == "pulumi:pulumi:Stack":
            counts["component"] += 1
        elif _unknown_somewhere(a, b):
            counts["unknown-in-preview"] += 1
        else:
            counts["other"] += 1
    return counts


def test_offline_render_matches_what_the_real_engine_hands_the_pack(
        estate: PulumiProject, previews: dict[str, tuple[Any, dict[str, Any], dict[str, Any]]], tmp_path: Path) -> None:
    total: dict[str, int] = {}
    for stack in STACKS:
        _, _, handed = previews[stack]
        rendered = tmp_path / f"render.{stack}.json"
        render = dpaguard("render", "--stack", stack, "--project-dir", estate.root, "--output", rendered)
        assert render.returncode == 0, render.stderr
        real = stack_resources(handed)
        offline = stack_resources(json.loads(rendered.read_text(encoding="utf-8")))
        assert set(real) == set(offline), (sorted(set(real) ^ set(offline)))[:10]
        for key, value in fidelity(real, offline).items():
            total[key] = total.get(key, 0) + value
    print(f"fidelity: {total}")
    # Every custom resource (providers included) gets the inputs the real engine hands the pack; only
    # components and stacks differ, whose inputs the engine fills with their registered outputs
    # (docs/pack.md, "Fidelity of the offline render").
    assert total["other"] == total["unknown-in-preview"] == total["provider"] == 0, total
    assert total["compared"] == sum(v for k, v in total.items() if k != "compared")


def test_the_pack_runs_from_its_own_venv_made_from_its_requirements(estate: PulumiProject, tmp_path: Path) -> None:
    # What `pulumi install` does for a pack (PulumiPolicy.yaml: virtualenv venv): a venv in the pack's
    # folder from its requirements.txt. Offline, from the wheels `.ci/real-tools` downloaded.
    wheels = real_tool("pulumi").parents[1] / "wheels"
    if not wheels.is_dir():
        real_tool("wheels")  # skips, or fails under CI=true, with the command that makes them
    pack = tmp_path / "policies"
    shutil.copytree(POLICIES, pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([python, "-m", "venv", str(pack / "venv")], check=True, timeout=300)
    installed = subprocess.run(
        [str(pack / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index",
         "--find-links", str(wheels), "-r", "requirements.txt"],
        cwd=POLICIES, capture_output=True, text=True, timeout=900,  # `..` there is this repository
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    report = tmp_path / "report.json"
    run = estate.run("preview", "--stack", "prod", "--policy-pack", str(pack / PACK_LAUNCHER.name),
                     env={"DPAGUARD_REPORT": str(report)})
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "dpaguard@v" in output and "[mandatory]" not in output
    document = json.loads(report.read_text(encoding="utf-8"))
    # The pack's venv has no OPA bindings wheel (installed past its Python declaration by .ci/setup
    # only), so it decides with regopy, and says so: proof that it ran from its own venv.
    assert "regopy" in json.dumps(document["tool"]) + json.dumps(document["evidence"]), document["tool"]
