"""Concurrency and load: the same answers from many threads as from one, and from all stacks at once as one by one.

The Pulumi engine calls the policy pack's analyzer from a pool of gRPC threads (PULUMI_PARALLEL_ANALYZE),
and a CI job may evaluate many stacks in one run. Compared here:
- the embedded engine (one interpreter under a lock) and `pipeline.run_stages`, called from 16 threads over
  a set of deployments, against the same calls made one after the other;
- the policy pack's runtime (its Analyze and AnalyzeStack decisions, one engine per thread), the same way;
- `dpaguard check --all-stacks` on a generated project of 20 stacks (distinct Scaleway projects, some
  stacks with violations) against `dpaguard check --stack S` for each stack.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from support import CLI_FIXTURES, REPO, SOURCE_FIXTURES
from support.cli import dpaguard_command
from dpaguard.pipeline import run_stages
from dpaguard.model import UNKNOWN, Deployment
from dpaguard.source.state import load_state

pytestmark = pytest.mark.e2e  # renders the estate; 20 stacks

DPAGUARD = Path(dpaguard_command()[0])
TODAY = dt.date(2026, 11, 27)
THREADS = 16
STATES = [CLI_FIXTURES / "prod-drifted.json", CLI_FIXTURES / "dev.json", SOURCE_FIXTURES / "states/real-export.json"]


def _variant(deployment: Deployment, name: str, region: Any) -> Deployment:
    """The deployment with every explicit region replaced (abroad, unknown in preview), under another stack name."""
    resources = []
    for raw in deployment.resources:
        raw = copy.deepcopy(dict(raw))
        for part in ("inputs", "outputs"):
            if isinstance(raw.get(part), dict) and "region" in raw[part]:
                raw[part]["region"] = region
        resources.append(raw)
    return dataclasses.replace(deployment, resources=tuple(resources), origin=f"{deployment.origin}#{name}")


@pytest.fixture(scope="module")
def deployments() -> list[Deployment]:
    """The estate's prod stack rendered, the state fixtures of the other stages, and variants of each (abroad, unknown)."""
    from dpaguard.source.program import render_stack

    loaded = [render_stack(REPO, "prod"), *(load_state(path) for path in STATES)]
    return loaded + [_variant(d, "abroad", "nl-ams") for d in loaded] + [_variant(d, "preview", UNKNOWN) for d in loaded]


def _findings(evaluation: Any) -> list[tuple[Any, ...]]:
    return [(f.stack, f.control, f.urn, f.message, f.status, f.enforcement, f.waived) for f in evaluation.findings]


def test_the_embedded_engine_answers_16_threads_as_it_answers_one(deployments: list[Deployment], policy: Any, engine: Any) -> None:
    sequential = [_findings(run_stages([d], policy, engine, today=TODAY)) for d in deployments]
    assert all(sequential) and len({json.dumps(s) for s in sequential}) == len(deployments)  # distinct answers to tell apart
    tasks = [i % len(deployments) for i in range(8 * len(deployments))]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        concurrent = list(pool.map(lambda i: _findings(run_stages([deployments[i]], policy, engine, today=TODAY)), tasks))
    for index, answer in zip(tasks, concurrent):
        assert answer == sequential[index]


def test_the_policy_pack_answers_16_threads_as_it_answers_one(deployments: list[Deployment], policy: Any) -> None:
    from dpaguard.pack.context import StackContext
    from dpaguard.pack.runtime import PackRuntime, finding_key

    deployment = deployments[len(STATES) + 1]  # the estate's prod stack, moved abroad: findings on many resources
    resources = [dict(r) for r in deployment.resources]
    judged = [r["urn"] for r in resources if r.get("custom") and not str(r.get("type", "")).startswith("pulumi:")]
    assert len(judged) >= 10

    def runtime() -> Any:
        built = PackRuntime(policy, today=TODAY)
        built.configure_stack(StackContext(stack=deployment.stack, project=deployment.project, config=dict(deployment.config)))
        return built

    one = runtime()
    expected = {urn: sorted(map(finding_key, one.analyze(resources, urn))) for urn in judged}
    expected_stack = sorted(map(finding_key, one.analyze_stack(resources)))
    assert any(expected.values())

    shared = runtime()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        answers = list(pool.map(lambda urn: (urn, sorted(map(finding_key, shared.analyze(resources, urn)))), judged))
        stack_answers = list(pool.map(lambda _: sorted(map(finding_key, shared.analyze_stack(resources))), range(4)))
    for urn, answer in answers:
        assert answer == expected[urn], urn
    # AnalyzeStack reports what Analyze did not: whichever thread came first, the union is the same.
    assert sorted(set().union(*map(set, stack_answers), *(set(a) for _, a in answers))) == sorted(
        set(expected_stack).union(*(set(a) for a in expected.values()))
    )
    assert sorted(map(finding_key, shared.result().findings)) == sorted(map(finding_key, one.result().findings))


PROGRAM = '''"""A generated estate: one bucket, one network and one database per stack; stack config decides where."""
import pulumi
import pulumiverse_scaleway as scaleway

config = pulumi.Config("gen")
env = pulumi.Config("dpaguard").require("environment")
region = config.get("region") or "fr-par"
scaleway.network.Vpc("vpc", region=region, tags=[f"env:{env}"])
scaleway.object.Bucket("calls", region=region, tags={"env": env, "data-category": "call-recordings"})
scaleway.databases.Instance(
    "db", node_type="DB-DEV-S", engine="PostgreSQL-16", user_name="admin", password=config.require_secret("dbPassword"),
    backup_same_region=config.get_bool("backupSameRegion") is not False, tags=[f"env:{env}"],
)
'''


def _project(root: Path, stacks: int) -> list[str]:
    (root / "stacks").mkdir(parents=True)
    (root / "infra").mkdir()
    (root / "Pulumi.yaml").write_text("name: generated\nruntime: python\nmain: infra/\nstackConfigDir: stacks\n")
    (root / "infra" / "__main__.py").write_text(PROGRAM)
    names = []
    for index in range(stacks):
        name = f"s{index:02d}"
        environment = ("prod", "staging", "dev")[index % 3]
        abroad = index % 4 == 1
        (root / "stacks" / f"Pulumi.{name}.yaml").write_text(
            "config:\n"
            "  scaleway:region: fr-par\n"
            "  scaleway:zone: fr-par-1\n"
            f"  scaleway:projectId: 00000000-0000-4000-8000-{index:012d}\n"
            f"  dpaguard:environment: {environment}\n"
            "  dpaguard:callRecordingRetentionDays: 90\n"
            "  dpaguard:transcriptRetentionDays: 90\n"
            "  gen:dbPassword:\n    secure: v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBBBBBB\n"
            + ("  gen:region: nl-ams\n" if abroad else "")
            + ("  gen:backupSameRegion: false\n" if index % 5 == 2 else "")
        )
        names.append(name)
    return names


def _check(project: Path, *stack_args: str) -> list[tuple[str, ...]]:
    run = subprocess.run(
        [str(DPAGUARD), "check", *stack_args, "--project-dir", str(project), "--no-checkov", "--quiet", "--format", "json"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "NO_COLOR": "1"},
    )
    assert run.returncode in (0, 1), run.stderr
    report = json.loads(run.stdout)
    return sorted((f["stack"], f["control"], f["urn"], f["message"], f["status"], f["enforcement"]) for f in report["findings"])


@pytest.mark.slow
def test_check_all_stacks_on_20_stacks_finds_what_each_stack_alone_finds(tmp_path: Path) -> None:
    names = _project(tmp_path, 20)
    together = _check(tmp_path, "--all-stacks")
    assert {f[0] for f in together} == set(names)
    assert any(f[1] == "DPA-RES-001" for f in together) and any(f[1] == "DPA-RES-003" for f in together)
    cross_stack = {"DPA-SEG-003", "DPA-SEG-004", "DPA-SEG-005", "DPA-SEG-006"}  # a project, network, server or database shared
    assert not [f for f in together if f[1] in cross_stack]  # distinct Scaleway projects, nothing shared
    one_by_one = sorted(f for name in names for f in _check(tmp_path, "--stack", name))
    # Every control now judges one stack at a time (DPA-SUB-004, which judged the register against every
    # stack together, is retired: the inventory lists unused sub-processors): together is one by one.
    assert together == one_by_one
