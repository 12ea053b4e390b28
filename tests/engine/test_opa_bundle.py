"""`--opa-url` against a server that holds dpaguard's bundle (`opa run --server --bundle dpa.tar.gz`).

The bundle is the real file `dpaguard bundle` writes; the stand-in activates it as OPA does (its
modules, its data.json, its manifest in `data.system.bundles`, writes under its roots refused), with
real OPA evaluating. So these tests prove the bundle complete: served alone, it gives the decisions
the push path gives, and the engine never pushes a module to it.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from support import CLI_FIXTURES, POLICIES
from support.cli import dpaguard as in_process
from support.opa_standin import OpaStandIn, read_bundle
from support.equivalence_corpus import TODAY, corpus

from dpaguard.engine.opa import OpaEngine
from dpaguard.engine.opa_revision import namespace
from dpaguard.errors import EngineError
from dpaguard.model import Deployment
from dpaguard.normalise import normalise
from dpaguard.policy import load_policy

STATE = CLI_FIXTURES / "prod-drifted.json"


def dpaguard(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return in_process(*args, timeout=300)


def write_bundle(policies: Path, output: Path) -> Path:
    run = dpaguard("bundle", "--policies", policies, "--output", output)
    assert run.returncode == 0, run.stderr
    return output


@pytest.fixture(scope="module")
def bundle_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`dpaguard bundle` of the project's policies, named as `opa run --bundle dpa.tar.gz` names it."""
    return write_bundle(POLICIES, tmp_path_factory.mktemp("bundle") / "dpa.tar.gz")


@pytest.fixture(scope="module")
def other_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The bundle of a changed copy of the policies (a waiver file edited): another revision."""
    folder = tmp_path_factory.mktemp("other")
    shutil.copytree(POLICIES, folder / "policies")
    with open(folder / "policies" / "waivers.yaml", "a", encoding="utf-8") as stream:
        stream.write("\n# reviewed again\n")
    return write_bundle(folder / "policies", folder / "dpa.tar.gz"), load_policy(folder / "policies").sha256


@pytest.fixture()
def bundled(bundle_file: Path) -> Iterator[OpaStandIn]:
    """A stand-in started as `opa run --server --bundle dpa.tar.gz`."""
    with OpaStandIn(bundle=bundle_file, hang_seconds=10) as server:
        yield server


@pytest.fixture(params=["standin", "real"])
def any_bundled(request: pytest.FixtureRequest) -> Any:
    """The stand-in serving the bundle, then the session's real `opa run --server --bundle dpa.tar.gz`."""
    if request.param == "standin":
        return request.getfixturevalue("bundled")
    return request.getfixturevalue("real_opa_bundle")


@pytest.fixture(params=["standin", "real"])
def bundled_and_pushed(request: pytest.FixtureRequest) -> Iterator[tuple[Any, Any]]:
    """A server serving the bundle and one for the push path: two stand-ins, then the session's two real servers."""
    if request.param == "standin":
        with OpaStandIn() as server:
            yield request.getfixturevalue("bundled"), server
    else:
        yield request.getfixturevalue("real_opa_bundle"), request.getfixturevalue("real_opa")


def bundle_name(server: Any) -> str:
    """The name the server gave its bundle (OPA: the path given to --bundle; the stand-in: the file name)."""
    (name,) = requests.get(f"{server.url}/v1/data/system/bundles", timeout=5).json()["result"]
    return str(name)


def test_the_bundle_is_activated_as_opa_does(any_bundled: Any, policy: Any) -> None:
    name = bundle_name(any_bundled)
    bundles = requests.get(f"{any_bundled.url}/v1/data/system/bundles", timeout=5).json()["result"]
    assert bundles == {name: {"manifest": {"revision": policy.sha256, "roots": ["dpaguard", "dpa"],
                                           "rego_version": 1}, "etag": ""}}
    assert name.endswith("dpa.tar.gz")
    ids = [p["id"] for p in requests.get(f"{any_bundled.url}/v1/policies", timeout=5).json()["result"]]
    assert sorted(ids) == sorted(f"{name}/{rel}" for rel in policy.rego_modules)
    data = requests.get(f"{any_bundled.url}/v1/data/dpa", timeout=5).json()["result"]
    assert data == json.loads(json.dumps(dict(policy.data)))


def test_writes_under_the_bundle_roots_are_refused(any_bundled: Any) -> None:
    url, name = any_bundled.url, bundle_name(any_bundled)
    ours = requests.put(f"{url}/v1/policies/x.rego", data=b"package dpaguard.main\n\nx := 1\n", timeout=5)
    assert ours.status_code == 400
    assert ours.json() == {"code": "invalid_parameter", "message": f'path dpaguard/main is owned by bundle "{name}"'}
    assert requests.put(f"{url}/v1/data/dpa", json={}, timeout=5).status_code == 400
    assert requests.put(f"{url}/v1/data", json={}, timeout=5).status_code == 400
    assert requests.delete(f"{url}/v1/policies/{name}/rego/main.rego", timeout=5).status_code == 400
    # outside the roots, the server is anyone's
    team = requests.put(f"{url}/v1/policies/team.rego", data=b"package team\n\nallow := true\n", timeout=5)
    assert team.status_code == 200
    requests.delete(f"{url}/v1/policies/team.rego", timeout=5)


def test_bundle_outside_its_roots_is_refused(tmp_path: Path, bundle_file: Path) -> None:
    # OPA refuses to activate a bundle whose data lies outside its roots: so does the stand-in
    with tarfile.open(bundle_file, "r:gz") as source, tarfile.open(tmp_path / "bad.tar.gz", "w:gz") as target:
        for info in source.getmembers():
            payload = source.extractfile(info)
            if info.name == ".manifest":
                body = json.dumps({"revision": "r", "roots": ["dpaguard"]}).encode()
                info.size = len(body)
                target.addfile(info, io.BytesIO(body))
            else:
                target.addfile(info, payload)
    with pytest.raises(ValueError, match="do not permit data at path '/dpa'"):
        read_bundle(tmp_path / "bad.tar.gz")


def test_same_decisions_as_the_push_path_without_pushing(
    bundled_and_pushed: tuple[Any, Any], policy: Any, rendered_stacks: dict[str, Deployment]
) -> None:
    any_bundled, any_pushed = bundled_and_pushed
    push = OpaEngine(policy, url=any_pushed.url, timeout=60)
    served = OpaEngine(policy, url=any_bundled.url, timeout=60)
    decisions = 0
    for case, deployments, environment in corpus(rendered_stacks):
        facts = normalise(deployments, policy.data, today=TODAY, environment_override=environment)
        expected = push.decide(facts)
        assert served.decide(facts) == expected, case
        decisions += len(expected)
    push.close()
    served.close()
    assert decisions > 50  # the comparison is not vacuous
    if not isinstance(any_bundled, OpaStandIn):  # the request log is the stand-in's
        return
    bundled = any_bundled
    assert not [r for r in bundled.requests if r.split()[0] in ("PUT", "DELETE", "PATCH")]
    queries = {r for r in bundled.requests if r.startswith("POST")}
    assert queries == {"POST /v1/data/dpaguard/main/decisions"}
    assert bundled.requests[:2] == ["GET /health", "GET /v1/data/system/bundles"]


def findings(stdout: str) -> tuple[list[Any], Any]:
    report = json.loads(stdout)
    return sorted(json.dumps(f, sort_keys=True) for f in report["findings"]), report["summary"]


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(("check", "--all-stacks", "--no-checkov"), marks=pytest.mark.e2e, id="check-all-stacks"),
        pytest.param(("check", "--stack", "prod", "--no-checkov", "--environment", "dev"), marks=pytest.mark.e2e,
                     id="check-prod-as-dev"),
        pytest.param(("audit", "--state", str(STATE)), id="audit-drifted"),
    ],
)
def test_cli_against_the_bundle_gives_the_push_paths_report(
    bundled_and_pushed: tuple[Any, Any], command: tuple[str, ...]
) -> None:
    any_bundled, any_pushed = bundled_and_pushed
    common = ("--format", "json", "--today", "2026-11-27", "--quiet")
    pushed = dpaguard(*command, *common, "--opa-url", any_pushed.url)
    served = dpaguard(*command, *common, "--opa-url", any_bundled.url)
    assert served.returncode == pushed.returncode in (0, 1), (served.stderr, pushed.stderr)
    assert findings(served.stdout) == findings(pushed.stdout)
    assert json.loads(served.stdout)["policy"]["sha256"] == json.loads(pushed.stdout)["policy"]["sha256"]
    if isinstance(any_bundled, OpaStandIn):
        assert not [r for r in any_bundled.requests if r.startswith(("PUT", "DELETE"))]
    if command[0] == "audit":
        assert findings(served.stdout)[0]  # the drifted prod has findings: the comparison is not vacuous


def test_revision_mismatch_exits_2_naming_both_digests(other_bundle: tuple[Path, str], policy: Any) -> None:
    path, revision = other_bundle
    with OpaStandIn(bundle=path) as server:
        run = dpaguard("audit", "--state", STATE, "--format", "json", "--quiet", "--opa-url", server.url)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("dpaguard: ")
    assert revision in run.stderr and policy.sha256 in run.stderr
    assert server.url in run.stderr and "dpaguard bundle" in run.stderr
    assert "Traceback" not in run.stderr
    assert not [r for r in server.requests if r.startswith(("PUT", "DELETE", "POST"))]  # refused before any query


def test_bundle_replaced_between_queries_fails_closed(
    bundled: OpaStandIn, other_bundle: tuple[Path, str], policy: Any, rendered_stacks: dict[str, Deployment]
) -> None:
    engine = OpaEngine(policy, url=bundled.url, timeout=30)
    facts = normalise([rendered_stacks["prod"]], policy.data, today=TODAY)
    engine.decide(facts)
    # the server's bundle is replaced (a newer bundle was deployed): the provenance of the next
    # answer names its revision, and the engine refuses it rather than report for other policies
    bundled.activate(read_bundle(other_bundle[0], name="dpa.tar.gz"))
    with pytest.raises(EngineError) as caught:
        engine.decide(facts)
    line = caught.value.one_line()
    assert other_bundle[1] in line and policy.sha256 in line
    engine.close()


def test_provenance_is_checked(bundled: OpaStandIn, policy: Any) -> None:
    # a server that answers without provenance (a proxy that strips it) cannot prove the revision
    engine = OpaEngine(policy, url=bundled.url, timeout=30)
    original = bundled.provenance
    bundled.provenance = lambda: {"version": "1.20.2"}  # type: ignore[method-assign]
    try:
        with pytest.raises(EngineError, match=r"does not name the revision of bundle \"dpa.tar.gz\" \(\?provenance=true\)"):
            engine.decide(normalise([], policy.data, today=TODAY))
    finally:
        bundled.provenance = original  # type: ignore[method-assign]
        engine.close()


def test_another_teams_bundle_leaves_the_push_path(tmp_path: Path, policy: Any) -> None:
    # a bundle whose roots do not cover dpaguard (another team's policies on a shared OPA)
    team = tmp_path / "team.tar.gz"
    with tarfile.open(team, "w:gz") as archive:
        for name, body in ((".manifest", b'{"revision": "t1", "roots": ["team"]}'),
                           ("team/authz.rego", b"package team.authz\n\nallow := true\n")):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    with OpaStandIn(bundle=team) as server:
        engine = OpaEngine(policy, url=server.url, timeout=60)
        assert engine.decide(normalise([], policy.data, today=TODAY)) == []
        engine.close()
        assert any(r.startswith(f"PUT /v1/policies/{namespace(policy.sha256)}/") for r in server.requests)
        assert "team.tar.gz/team/authz.rego" in server.policies


def rewritten(source: Path, target: Path, change: dict[str, bytes]) -> Path:
    """A copy of a bundle with some entries' bytes replaced (its manifest, revision included, kept)."""
    with tarfile.open(source, "r:gz") as original, tarfile.open(target, "w:gz") as copy:
        for info in original.getmembers():
            stream = original.extractfile(info)
            assert stream is not None
            body = change.get(info.name, stream.read())
            info.size = len(body)
            copy.addfile(info, io.BytesIO(body))
    return target


@pytest.mark.parametrize("entry", ["rego/main.rego", "data.json"])
def test_a_bundle_edited_after_it_was_written_is_refused(tmp_path: Path, bundle_file: Path, policy: Any,
                                                         entry: str) -> None:
    # the revision still claims the local policies, but the content OPA evaluates is other
    with tarfile.open(bundle_file, "r:gz") as original:
        stream = original.extractfile(entry)
        assert stream is not None
        body = stream.read()
    if entry == "data.json":
        document = json.loads(body)
        document["dpa"]["locations"] = {**document["dpa"]["locations"], "edited": True}
        edited = json.dumps(document).encode()
    else:
        edited = body + b"\n# edited by hand\n"
    forged = rewritten(bundle_file, tmp_path / "dpa.tar.gz", {entry: edited})
    with OpaStandIn(bundle=forged) as server:
        run = dpaguard("audit", "--state", STATE, "--format", "json", "--quiet", "--opa-url", server.url)
    assert run.returncode == 2 and run.stdout == "" and run.stderr.count("\n") == 1, run.stderr
    assert "a bundle changed after dpaguard bundle wrote it" in run.stderr and policy.sha256 in run.stderr
    assert ("rego/main.rego" if entry != "data.json" else "data.dpa") in run.stderr
    assert not [r for r in server.requests if r.startswith(("PUT", "DELETE", "POST"))]
