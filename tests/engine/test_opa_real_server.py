"""The OPA engine against the real `opa run --server` (OPA v1.22.4, `.tools/bin/opa`), push and bundle mode.

The decisions equal the in-process OPA engine's on the three stacks, every fixture, the violating
corpus, every control's own case and a 4,000-resource generated estate; the faults a team meets
(server down, server killed mid-run, a bundle of another revision, a bundle with a module added)
end in exit 2 and one line; and many repositories at two revisions share one server without a
wrong answer (push mode: side by side; bundle mode: the other revision refused).

Skipped, saying why, where the binary was not built (`.ci/real-tools`); failed on CI (CI=true).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from support import CLI_FIXTURES, POLICIES
from support.cli import assert_one_line_error, dpaguard, dpaguard_command, dpaguard_process
from support.equivalence_corpus import TODAY, corpus
from support.estates import vs_checkov_estate
from support.opa_server import RealOpa, foreign_module

from dpaguard.engine.opa import OpaEngine
from dpaguard.engine.opa_inprocess import OpaInProcessEngine
from dpaguard.engine.opa_revision import namespace
from dpaguard.model import Deployment
from dpaguard.normalise import normalise
from dpaguard.policy import load_policy

STATE = CLI_FIXTURES / "prod-drifted.json"
AUDIT = ("audit", "--state", str(STATE), "--format", "json", "--today", "2026-11-27", "--quiet")


def test_a_missing_binary_is_skipped_here_and_fails_on_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import support.opa_server as opa_server

    monkeypatch.setattr(opa_server, "OPA_BINARY", tmp_path / "opa")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="the real OPA is not built"):
        opa_server.require_opa()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="on CI it must be"):
        opa_server.require_opa()


@pytest.fixture(scope="module")
def in_process(policy: Any) -> Iterator[OpaInProcessEngine]:
    engine = OpaInProcessEngine(policy)
    yield engine
    engine.close()


def _cases(stacks: dict[str, Deployment], policy: Any) -> Iterator[tuple[str, Any]]:
    """(case id, facts): the equivalence corpus, every control's case, a 4,000-resource estate."""
    from support.control_cases import CASES

    for case, deployments, environment in corpus(stacks):
        yield case, normalise(deployments, policy.data, today=TODAY, environment_override=environment)
    for control, make in sorted(dict(CASES).items()):
        yield f"control-{control}", normalise(make()[0], policy.data, today=TODAY)
    yield "vs-checkov-4000", normalise([vs_checkov_estate(4000)], policy.data, today=TODAY)


@pytest.mark.parametrize("mode", ["push", "bundle"])
def test_decisions_equal_opa_in_process(
    mode: str, request: pytest.FixtureRequest, policy: Any, rendered_stacks: dict[str, Deployment],
    in_process: OpaInProcessEngine,
) -> None:
    server = request.getfixturevalue("real_opa" if mode == "push" else "real_opa_bundle")
    engine = OpaEngine(policy, url=server.url, timeout=120)
    compared = decided = 0
    controls: set[str] = set()
    for case, facts in _cases(rendered_stacks, policy):
        expected = in_process.decide(facts)
        assert engine.decide(facts) == expected, f"{case}: the real OPA server disagrees"
        compared += 1
        decided += len(expected)
        controls |= {d.control for d in expected}
    engine.close()
    # not vacuous: the whole corpus, thousands of decisions, most controls firing
    assert compared >= 60 and decided >= 3000 and len(controls) >= 40, (compared, decided, len(controls))
    held = server.policies
    if mode == "bundle":  # nothing pushed: the server holds the bundle's modules only
        assert sorted(held) == sorted(f"{server.bundle.name}/{rel}" for rel in policy.rego_modules)
    else:
        assert sum(pid.startswith(namespace(policy.sha256) + "/") for pid in held) == len(policy.rego_modules) + 2


# -- faults: exit 2 and one line -----------------------------------------------------------------


def test_server_down() -> None:
    with RealOpa() as server:
        url = server.url
    assert_one_line_error(dpaguard(*AUDIT, "--opa-url", url), f"OPA server {url}: GET /health: cannot connect")


def test_server_killed_mid_run(policy: Any) -> None:
    ours = f"{namespace(policy.sha256)}/"
    with RealOpa() as server:
        run = subprocess.Popen([*dpaguard_command(), *AUDIT, "--opa-url", server.url], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        # killed as the first of the run's modules arrives: a dozen more pushes, its checks and its query to go
        deadline = time.monotonic() + 60
        while not any(pid.startswith(ours) for pid in server.policies):
            assert run.poll() is None and time.monotonic() < deadline, run.communicate()
            time.sleep(0.005)
        server.kill()
        out, err = run.communicate(timeout=120)
    done = subprocess.CompletedProcess(run.args, run.returncode, out, err)
    assert_one_line_error(done, f"OPA server {server.url}: ")
    assert "cannot connect" in err or "no answer" in err or "request failed" in err, err


def _other_policies(root: Path) -> Path:
    """A copy of the policies at another revision, with other decisions: DPA-ACC-003 says it otherwise."""
    shutil.copytree(POLICIES, root / "policies")
    access = root / "policies" / "rego" / "access.rego"
    text = access.read_text(encoding="utf-8")
    assert "Redis cluster has a public endpoint and no ACL" in text
    access.write_text(text.replace("Redis cluster has a public endpoint and no ACL", "Redis cluster open to all"), encoding="utf-8")
    french = root / "policies" / "dpa" / "i18n" / "fr.yaml"  # its French follows the message, or the set does not load
    french.write_text(french.read_text(encoding="utf-8").replace(
        "Redis cluster has a public endpoint and no ACL", "Redis cluster open to all"), encoding="utf-8")
    return root / "policies"


@pytest.fixture(scope="module")
def other_policies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _other_policies(tmp_path_factory.mktemp("other"))


def _bundle(policies: Path, output: Path) -> Path:
    written = dpaguard("bundle", "--policies", policies, "--output", output)
    assert written.returncode == 0, written.stderr
    return output


def test_bundle_of_another_revision(tmp_path: Path, other_policies: Path, policy: Any) -> None:
    other = load_policy(other_policies).sha256
    with RealOpa(bundle=_bundle(other_policies, tmp_path / "dpa.tar.gz")) as server:
        run = dpaguard(*AUDIT, "--opa-url", server.url)
    assert_one_line_error(run, f"holds policy revision {other}, but the local policies are {policy.sha256}")


def test_bundle_with_a_module_added(tmp_path: Path, real_bundle_file: Path) -> None:
    # issue 24 H1: the right revision, every module intact, and one more in a dpaguard package
    added = tmp_path / "dpa.tar.gz"
    body = foreign_module().encode()
    with tarfile.open(real_bundle_file, "r:gz") as original, tarfile.open(added, "w:gz") as copy:
        for info in original.getmembers():
            copy.addfile(info, original.extractfile(info))
        extra = tarfile.TarInfo("rego/ci/override.rego")
        extra.size = len(body)
        copy.addfile(extra, io.BytesIO(body))
    with RealOpa(bundle=added) as server:
        run = dpaguard(*AUDIT, "--opa-url", server.url)
    assert_one_line_error(run, 'module "')
    assert 'rego/ci/override.rego" in package "dpaguard.transit_encryption" is not one of the local' in run.stderr


def test_a_push_into_the_bundle_is_refused_by_opa(real_opa_bundle: RealOpa) -> None:
    refused = real_opa_bundle.put_policy("pr/override.rego", foreign_module())
    assert refused.status_code == 400 and "is owned by bundle" in refused.json()["message"]


# -- many repositories, one server ---------------------------------------------------------------


def _findings(stdout: str) -> list[tuple[str, str, str, str]]:
    return sorted((f["control"], f["urn"], f["status"], f["message"]) for f in json.loads(stdout)["findings"])


def _audits(url: str, revisions: list[Path]) -> list[subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(len(revisions)) as pool:
        # Separate processes, as separate repositories and CI runners are (the in-process CLI runs one at a time).
        return list(pool.map(lambda p: dpaguard_process(*AUDIT, "--policies", p, "--opa-url", url, timeout=300), revisions))


@pytest.fixture(scope="module")
def expected(other_policies: Path) -> dict[Path, list[tuple[str, str, str, str]]]:
    """Each revision's findings from the in-process engine (the CLI in process): the answers the server must give."""
    from dpaguard.cli import main

    found = {}
    for policies in (POLICIES, other_policies):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            assert main([*AUDIT, "--policies", str(policies)]) == 1, err.getvalue()
        found[policies] = _findings(out.getvalue())
    assert found[POLICIES] != found[other_policies]  # the two revisions decide differently
    return found


def test_two_revisions_share_a_pushed_server(other_policies: Path, expected: dict[Path, Any]) -> None:
    clients = [POLICIES, other_policies, other_policies]
    with RealOpa() as server:
        for policies, run in zip(clients, _audits(server.url, clients)):
            assert run.returncode == 1, run.stderr
            assert _findings(run.stdout) == expected[policies]
        # healthy for the next client, which gets its own revision's answer
        assert server.healthy()
        (again,) = _audits(server.url, [POLICIES])
        assert _findings(again.stdout) == expected[POLICIES]
        # both revisions side by side, neither in package dpaguard
        namespaces = {pid.split("/", 1)[0] for pid in server.policies}
        assert namespaces == {namespace(load_policy(p).sha256) for p in (POLICIES, other_policies)}


def test_a_bundle_server_refuses_the_other_revision(
    real_opa_bundle: RealOpa, other_policies: Path, expected: dict[Path, Any]
) -> None:
    clients = [POLICIES, other_policies, POLICIES]
    for policies, run in zip(clients, _audits(real_opa_bundle.url, clients)):
        if policies == POLICIES:
            assert run.returncode == 1, run.stderr
            assert _findings(run.stdout) == expected[policies]
        else:
            assert_one_line_error(run, "but the local policies are")
    assert real_opa_bundle.healthy()
    assert requests.get(f"{real_opa_bundle.url}/v1/data/system/bundles", timeout=5).json()["result"]
