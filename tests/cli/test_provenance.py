"""Evidence that says what was evaluated, through the `dpaguard` command line: the commit and
whether the work tree was modified (with a digest of the modification), the deployments' digests,
the versions, and which stages ran, in the JSON, the HTML and the evidence log."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from support import CLI_FIXTURES, REPO
from support.cli import dpaguard
from support.html_elements import Elements

TODAY = "2026-11-27"


def _git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          check=True, capture_output=True).stdout


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A git work tree with one commit: the project whose commit an audit names."""
    path = tmp_path / "project"
    path.mkdir()
    (path / "Pulumi.yaml").write_text("name: dpa-estate\nruntime: python\n", encoding="utf-8")
    (path / "notes.txt").write_text("first\n", encoding="utf-8")
    _git(path, "init", "-q")
    _git(path, "add", "-A")
    _git(path, "commit", "-qm", "one")
    return path


def _audit(repo: Path, tmp_path: Path, *extra: str | Path) -> tuple[dict[str, Any], Elements, dict[str, Any]]:
    html, log = tmp_path / "r.html", tmp_path / "evidence.jsonl"
    log.unlink(missing_ok=True)
    run = dpaguard("audit", "--state", CLI_FIXTURES / "prod-drifted.json", "--project-dir", repo, "--today", TODAY,
                   "--format", "json", "--format", "html", "--output", "-", "--output", html, "--evidence", log,
                   "--quiet", *extra)
    assert run.returncode in (0, 1), run.stderr
    page = Elements()
    page.feed(html.read_text(encoding="utf-8"))
    entry = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])
    return json.loads(run.stdout), page, entry["run"]


def test_a_clean_work_tree_is_the_commit(repo: Path, tmp_path: Path) -> None:
    doc, page, run = _audit(repo, tmp_path)
    head = _git(repo, "rev-parse", "HEAD").decode().strip()
    assert doc["gitCommit"] == head and doc["evidence"]["gitDirty"] is False and doc["evidence"]["gitDiffSha256"] is None
    assert page.having("data-dirty")[0]["data-dirty"] == "false"
    assert (run["git_commit"], run["git_dirty"], run["git_diff_sha256"]) == (head, False, None)


def test_a_modified_work_tree_is_said_and_digested(repo: Path, tmp_path: Path) -> None:
    (repo / "notes.txt").write_text("second\n", encoding="utf-8")
    doc, page, run = _audit(repo, tmp_path)
    expected = hashlib.sha256(_git(repo, "diff", "HEAD", "--binary")).hexdigest()
    assert doc["evidence"]["gitDirty"] is True and doc["evidence"]["gitDiffSha256"] == expected
    marker = page.having("data-dirty")[0]
    assert marker["data-dirty"] == "true"
    assert expected in "".join(page.text)
    assert (run["git_dirty"], run["git_diff_sha256"]) == (True, expected)
    # An untracked file changes the digest, and so does its content.
    (repo / "new.txt").write_text("a\n", encoding="utf-8")
    with_new = _audit(repo, tmp_path)[0]["evidence"]["gitDiffSha256"]
    (repo / "new.txt").write_text("b\n", encoding="utf-8")
    with_other = _audit(repo, tmp_path)[0]["evidence"]["gitDiffSha256"]
    assert len({expected, with_new, with_other}) == 3
    # Back to the commit: clean again.
    (repo / "new.txt").unlink()
    _git(repo, "checkout", "--", "notes.txt")
    assert _audit(repo, tmp_path)[0]["evidence"]["gitDirty"] is False


def test_deployment_digests_and_versions(repo: Path, tmp_path: Path) -> None:
    doc, page, run = _audit(repo, tmp_path)
    digest = doc["stacks"][0]["deploymentSha256"]
    assert len(digest) == 64 and doc["evidence"]["deployments"] == {"prod": digest}
    assert run["stacks"][0]["deployment_sha256"] == digest
    assert _audit(repo, tmp_path)[0]["stacks"][0]["deploymentSha256"] == digest  # the same state, the same digest
    versions = doc["evidence"]["versions"]
    assert set(versions) == {"pulumi", "pulumiverse-scaleway", "checkov"}
    assert versions["pulumi"] and versions["pulumiverse-scaleway"] and versions["checkov"] is None  # audit runs no checkov
    assert run["versions"] == versions
    text = "".join(page.text)
    assert digest in text and f"pulumi {versions['pulumi']}" in text
    assert {s["name"]: s["ran"] for s in doc["evidence"]["stages"]} == {"state": True, "checkov": False, "rego": True,
                                                                        "baseline": False}


@pytest.mark.checkov
def test_no_checkov_makes_a_visibly_different_report(tmp_path: Path) -> None:
    pages = {}
    for name, extra in (("with", []), ("without", ["--no-checkov"])):
        html = tmp_path / f"{name}.html"
        run = dpaguard("check", "--stack", "dev", "--today", TODAY, "--format", "json", "--format", "html",
                       "--output", "-", "--output", html, "--quiet", *extra, cwd=REPO)
        assert run.returncode in (0, 1), run.stderr
        stage = {s["name"]: s for s in json.loads(run.stdout)["evidence"]["stages"]}["checkov"]
        page = Elements()
        page.feed(html.read_text(encoding="utf-8"))
        rows = {a["data-stage"]: a for a in page.having("data-stage", "tr")}
        pages[name] = (stage, rows["checkov"], "".join(page.text))
    assert pages["without"][0] == {"name": "checkov", "ran": False, "detail": "skipped (--no-checkov)"}
    assert pages["without"][1]["data-ran"] == "false" and "skipped (--no-checkov)" in pages["without"][2]
    assert pages["with"][0]["detail"] != "skipped (--no-checkov)"
    assert "skipped (--no-checkov)" not in pages["with"][2]


@pytest.mark.checkov
def test_checkov_version_and_what_its_controls_examined(tmp_path: Path) -> None:
    from dpaguard.checkov import find_checkov

    checkov = find_checkov()
    if checkov is None:
        pytest.skip("checkov is not installed (run `bash .ci/setup` or set DPAGUARD_CHECKOV)")
    run = dpaguard("check", "--stack", "dev", "--today", TODAY, "--require-checkov", "--format", "json", "--quiet",
                   env={"DPAGUARD_CHECKOV": str(checkov)})
    assert run.returncode in (0, 1), run.stderr
    doc = json.loads(run.stdout)
    version = doc["evidence"]["versions"]["checkov"]
    assert version and re.fullmatch(r"\d+\.\d+\.\d+", version)
    stage = {s["name"]: s for s in doc["evidence"]["stages"]}["checkov"]
    assert stage["ran"] is True and stage["detail"].startswith(f"checkov {version}, ")
    coverage = {c["control"]: c["resources"] for c in doc["coverage"] if c["stack"] == "dev"}
    assert coverage["DPA-SEC-101"] > 0  # the secrets checks read every scanned file
    # The repository has no Dockerfile: the Dockerfile control examined nothing. Dockerfile hygiene is not
    # patching (Article 5.1, not §7); §7 is never shown kept, since only a person attests the workstations.
    assert coverage["DPA-HYG-002"] == 0
    assert {c["id"]: c["status"] for c in doc["clauses"]}["Appendix C §7"] != "passed"
