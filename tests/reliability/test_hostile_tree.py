"""The pull request's tree is hostile: nothing in it chooses what checkov or git runs, or sees a secret (issue 24, C1 to C3).

In CI dpaguard runs on a pull request's tree with the CI's secrets in its environment. Each case
plants what an attacker would commit (or a program would write during an earlier render): a
`.checkov.yaml` loading external checks, a `.checkov-venv/bin/checkov`, a folder that looks like a
git directory, a `.git/config` with fsmonitor, hooks, filters and text conversions. Every planted
command writes a marker file (with its environment) and starts a process meant to outlive dpaguard;
the run must leave no marker and no such process, and no canary secret of dpaguard's environment
may appear anywhere. These use the real checkov and git.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from dpaguard.checkov import CheckovError, runner, scan
from support import CHECKOV_IN_VENV, CLI_FIXTURES, REPO, SOURCE_FIXTURES
from support.checkov_project import AWS_KEY_ID, require_checkov
from support.cli import dpaguard

# Each case renders a hostile program or runs the real checkov and git: the e2e tier.
pytestmark = pytest.mark.e2e

# Secrets of the CI job: none of their values may reach checkov, git, a hook or any output.
CANARIES = {
    "GITHUB_TOKEN": "ghp_CanaryGithubToken0c9f3e",
    "AWS_SECRET_ACCESS_KEY": "CanaryAwsSecretKey8b2e",
    "CKV_SKIP_CHECK": "CKV_SECRET_2",  # a setting of checkov's that would hide the planted key
}
TODAY = "2026-11-27"


@pytest.fixture()
def token() -> Iterator[str]:
    """A word the planted commands put in the command line of the process they leave behind; that process is ended after the test."""
    word = f"dpaguard-hostile-{uuid.uuid4().hex}"
    yield word
    for pid in _processes_with(word):
        try:
            os.killpg(pid, signal.SIGKILL)  # each started a session of its own: its `sleep` goes too
        except OSError:
            pass


def _processes_with(word: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        try:
            if name.isdigit() and word.encode() in Path(f"/proc/{name}/cmdline").read_bytes():
                found.append(int(name))
        except OSError:
            continue
    return found


def _hostile_command(marker: Path, word: str) -> str:
    """A shell script that records that it ran (with its environment) and leaves a process behind."""
    return (
        "#!/bin/sh\n"
        f"echo \"ran: $0 $*\" >> '{marker}'\n"
        f"env >> '{marker}'\n"
        f"setsid sh -c 'sleep 300; :' {word} >/dev/null 2>&1 < /dev/null &\n"
        "cat >/dev/null 2>&1\n"
        "exit 0\n"
    )


def _assert_nothing_ran(marker: Path, word: str, *outputs: str) -> None:
    assert not marker.exists(), marker.read_text()[:2000]
    assert not _processes_with(word)
    for output in outputs:
        for name, value in CANARIES.items():
            if name != "CKV_SKIP_CHECK":
                assert value not in output, name


def _project(tmp_path: Path) -> Path:
    """A small renderable Pulumi project holding a committed AWS key, which checkov must report."""
    project = tmp_path / "project"
    shutil.copytree(SOURCE_FIXTURES / "components", project)
    with open(project / "__main__.py", "a", encoding="utf-8") as handle:
        handle.write(f'AWS_KEY = "{AWS_KEY_ID}"\n')
    return project


def _check(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return dpaguard("check", "--project-dir", project, "--stack", "dev", "--today", TODAY, "--require-checkov",
                    "--format", "json", "--quiet", env={**CANARIES, **env})


def _aws_key_reported(run: subprocess.CompletedProcess[str]) -> bool:
    findings = json.loads(run.stdout)["findings"]
    return any(f["control"] == "DPA-SEC-101" and "CKV_SECRET_2" in f["message"] for f in findings)


# ---------------------------------------------------------------- checkov (C1, C2)


@pytest.mark.checkov
@pytest.mark.parametrize("name", [".checkov.yaml", ".checkov.yml"])
def test_a_checkov_config_in_the_tree_loads_no_external_check(tmp_path: Path, token: str, name: str) -> None:
    checkov = require_checkov()
    project = _project(tmp_path)
    marker = tmp_path / "external-check-ran"
    # checkov imports every module of an external checks folder (for the frameworks that take them, here
    # github_actions): this one records the environment it got, leaves a process behind and would silence the AWS key.
    (project / ".github" / "workflows").mkdir(parents=True)
    (project / ".github" / "workflows" / "ci.yml").write_text(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hello\n")
    (project / "ci" / "checks").mkdir(parents=True)
    (project / "ci" / "checks" / "__init__.py").write_text("")
    (project / "ci" / "checks" / "evil.py").write_text(
        "import os, subprocess\n"
        f"open({str(marker)!r}, 'a').write(repr(dict(os.environ)))\n"
        f"subprocess.Popen(['sh', '-c', 'sleep 300; :', {token!r}], start_new_session=True)\n"
    )
    (project / name).write_text("external-checks-dir:\n  - ci/checks\nskip-check:\n  - CKV_SECRET_2\n")
    run = _check(project, DPAGUARD_CHECKOV=str(checkov))
    assert run.returncode in (0, 1), run.stderr
    _assert_nothing_ran(marker, token, run.stdout, run.stderr)
    assert _aws_key_reported(run)


def test_checkov_gets_an_allow_listed_environment_and_dpaguards_config_only(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / ".checkov.yaml").write_text("skip-check:\n  - CKV_SECRET_2\n")
    seen = tmp_path / "seen.json"
    # A probe in checkov's place (named by DPAGUARD_CHECKOV, as the CI would name checkov): what does it get?
    probe = tmp_path / "probe-checkov"
    probe.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        "home = os.environ.get('HOME', '')\n"
        "config = sys.argv[sys.argv.index('--config-file') + 1] if '--config-file' in sys.argv else ''\n"
        f"json.dump({{'env': dict(os.environ), 'cwd': os.getcwd(), 'argv': sys.argv, 'home': home,\n"
        "           'home_files': os.listdir(home) if os.path.isdir(home) else [],\n"
        "           'cwd_files': os.listdir('.'), 'config': open(config).read() if config else None},\n"
        f"          open({str(seen)!r}, 'w'))\n"
        "print(json.dumps({'passed': 0, 'failed': 0, 'skipped': 0, 'parsing_errors': 0, 'resource_count': 0,"
        " 'checkov_version': '3.3.30'}))\n"
    )
    probe.chmod(0o755)
    # With an API key, checkov would also send the project's files to the Prisma Cloud platform.
    platform = {"BC_API_KEY": "CanaryBridgecrewKey41d7", "PRISMA_API_URL": "https://canary.invalid"}
    run = _check(project, DPAGUARD_CHECKOV=str(probe), **platform)
    assert run.returncode in (0, 1), run.stderr
    got = json.loads(seen.read_text())
    for name, value in {**CANARIES, **platform}.items():
        assert name not in got["env"] and value not in json.dumps(got["env"]), name
    assert not {k for k in got["env"] if k.startswith(("CKV_", "BC_", "PRISMA_"))} - {"BC_SKIP_MAPPING"}
    tree = str(project.resolve())
    for where in (got["cwd"], got["home"]):
        assert not (where + "/").startswith(tree + "/"), where
    assert not {".checkov.yaml", ".checkov.yml"} & set(got["home_files"] + got["cwd_files"])
    assert got["config"] is not None and json.loads(got["config"]) == {}
    assert "--external-checks-dir" not in got["argv"]
    files = [got["argv"][i + 1] for i, a in enumerate(got["argv"]) if a == "-f"]
    assert files and all(os.path.isabs(f) for f in files)


@pytest.mark.checkov
def test_a_checkov_venv_in_the_tree_is_never_run(tmp_path: Path, token: str) -> None:
    if not CHECKOV_IN_VENV.is_file():
        message = "checkov is not installed in dpaguard's own .checkov-venv (run `bash .ci/setup`)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    project = _project(tmp_path)
    marker = tmp_path / "tree-checkov-ran"
    fake = project / ".checkov-venv" / "bin" / "checkov"
    fake.parent.mkdir(parents=True)
    # What a pull request commits: a "checkov" that reports nothing, after helping itself to the secrets.
    fake.write_text(_hostile_command(marker, token).replace(
        "exit 0\n", "echo '{\"passed\": 0, \"failed\": 0, \"parsing_errors\": 0, \"checkov_version\": \"3.3.30\"}'\nexit 0\n"))
    fake.chmod(0o755)
    # No checkov on PATH and none named: dpaguard's own installation's .checkov-venv is the one it may use.
    run = dpaguard("check", "--project-dir", project, "--stack", "dev", "--today", TODAY, "--require-checkov",
                   "--format", "json", "--quiet", cwd=project,
                   env={**CANARIES, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "DPAGUARD_CHECKOV": ""})
    assert run.returncode in (0, 1), run.stderr
    _assert_nothing_ran(marker, token, run.stdout, run.stderr)
    assert _aws_key_reported(run)


# Where a pull request can put a "checkov": its own .checkov-venv, or a folder a relative PATH entry names
# (`bin`, or the empty entry, which is the working directory).
TREE_CHECKOVS = {"checkov-venv": (".checkov-venv/bin", "/usr/bin:/bin"), "relative-path-entry": ("bin", "bin:/usr/bin:/bin"),
                 "empty-path-entry": (".", ":/usr/bin:/bin"),
                 "path-entry-in-the-tree": ("node_modules/.bin", "{project}/node_modules/.bin:/usr/bin:/bin")}


@pytest.mark.parametrize("where", TREE_CHECKOVS)
def test_require_checkov_is_not_satisfied_by_a_checkov_in_the_tree(
    tmp_path: Path, token: str, monkeypatch: pytest.MonkeyPatch, where: str,
) -> None:
    folder, path = TREE_CHECKOVS[where]
    project = _project(tmp_path)
    marker = tmp_path / "tree-checkov-ran"
    fake = project / folder / "checkov"
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_text(_hostile_command(marker, token).replace(
        "exit 0\n", "echo '{\"passed\": 0, \"failed\": 0, \"parsing_errors\": 0, \"checkov_version\": \"3.3.30\"}'\nexit 0\n"))
    fake.chmod(0o755)
    # Nowhere else a checkov: not named, not on PATH, not in dpaguard's own installation.
    monkeypatch.delenv(runner.CHECKOV_ENV, raising=False)
    monkeypatch.setenv("PATH", path.format(project=project))
    monkeypatch.setattr(runner, "_REPO_ROOT", tmp_path / "dpaguard-installation")
    monkeypatch.chdir(project)
    with pytest.raises(CheckovError, match="checkov not found"):
        scan(project, None, required=True)
    _assert_nothing_ran(marker, token)


# ---------------------------------------------------------------- git (C3)


def _git(repo: Path, *args: str) -> bytes:
    """The test's own git, before anything hostile is planted."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          check=True, capture_output=True, env=env).stdout


def _repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Pulumi.yaml").write_text("name: dpa-estate\nruntime: python\n", encoding="utf-8")
    (repo / "notes.txt").write_text("first\n", encoding="utf-8")
    _git(repo, "init", "-q")
    return repo


def _audit(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return dpaguard("audit", "--state", CLI_FIXTURES / "prod-drifted.json", "--project-dir", project, "--today", TODAY,
                    "--format", "json", "--quiet", cwd=project, env={**CANARIES, **env})


def test_a_folder_that_looks_like_a_git_directory_runs_nothing(tmp_path: Path, token: str) -> None:
    repo = _repository(tmp_path)
    marker = tmp_path / "fsmonitor-ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(_hostile_command(marker, token))
    hook.chmod(0o755)
    # Committed: infra/{HEAD,config,objects/,refs/}, which git takes for a repository of its own.
    infra = repo / "infra"
    for folder in ("objects/info", "refs/heads"):
        (infra / folder).mkdir(parents=True)
        (infra / folder / "keep").write_text("")
    (infra / "HEAD").write_text("ref: refs/heads/main\n")
    (infra / "config").write_text(f"[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = .\n\tfsmonitor = {hook}\n")
    (infra / "Pulumi.yaml").write_text("name: dpa-estate\nruntime: python\n", encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "one")
    head = _git(repo, "rev-parse", "HEAD").decode().strip()
    run = _audit(infra)
    assert run.returncode in (0, 1), run.stderr
    _assert_nothing_ran(marker, token, run.stdout, run.stderr)
    document = json.loads(run.stdout)
    # The provenance is the real repository's, not the look-alike's.
    assert document["gitCommit"] == head and document["evidence"]["gitDirty"] is False


def test_a_git_config_planted_in_the_repository_runs_nothing(tmp_path: Path, token: str) -> None:
    repo = _repository(tmp_path)
    (repo / ".gitattributes").write_text("* filter=evil diff=evil\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "one")
    head = _git(repo, "rev-parse", "HEAD").decode().strip()
    (repo / "notes.txt").write_text("second\n", encoding="utf-8")
    expected = hashlib.sha256(_git(repo, "diff", "HEAD", "--binary")).hexdigest()
    marker = tmp_path / "git-config-ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(_hostile_command(marker, token))
    hook.chmod(0o755)
    hooks = repo / ".git" / "evil-hooks"
    hooks.mkdir()
    for name in ("post-index-change", "pre-commit", "post-checkout", "reference-transaction", "fsmonitor-watchman"):
        shutil.copy(hook, hooks / name)
    (repo / ".git" / "more-config").write_text(f"[core]\n\tfsmonitor = {hook}\n")
    # What a program could append to .git/config during a render, for the next run.
    with open(repo / ".git" / "config", "a", encoding="utf-8") as handle:
        handle.write(
            f"[core]\n\tfsmonitor = {hook}\n\thooksPath = {hooks}\n\tpager = {hook}\n\tuntrackedCache = true\n"
            f"[include]\n\tpath = more-config\n"
            f"[filter \"evil\"]\n\tclean = {hook}\n\tsmudge = {hook}\n\tprocess = {hook}\n"
            f"[diff \"evil\"]\n\ttextconv = {hook}\n\tcommand = {hook}\n"
            f"[diff]\n\texternal = {hook}\n"
        )
    run = _audit(repo)
    assert run.returncode in (0, 1), run.stderr
    _assert_nothing_ran(marker, token, run.stdout, run.stderr)
    document = json.loads(run.stdout)
    assert document["gitCommit"] == head
    assert document["evidence"]["gitDirty"] is True and document["evidence"]["gitDiffSha256"] == expected


@pytest.mark.parametrize("environment", [".checkov-venv", ".venv"])
def test_setup_refuses_an_environment_committed_in_the_checkout(tmp_path: Path, token: str, environment: str) -> None:
    checkout = tmp_path / "checkout"
    (checkout / ".ci").mkdir(parents=True)
    shutil.copy(REPO / ".ci" / "setup", checkout / ".ci" / "setup")
    marker = tmp_path / "committed-environment-ran"
    for tool in ("checkov", "python", "pip"):
        fake = checkout / environment / "bin" / tool
        fake.parent.mkdir(parents=True, exist_ok=True)
        fake.write_text(_hostile_command(marker, token))
        fake.chmod(0o755)
    _git(checkout, "init", "-q")
    _git(checkout, "add", "-A")
    _git(checkout, "commit", "-qm", "a pull request's environment")
    # PYTHON=false: past the guard, nothing would be built either (the test installs nothing).
    run = subprocess.run(["bash", ".ci/setup"], cwd=checkout, capture_output=True, text=True, timeout=60,
                         env={**os.environ, **CANARIES, "PYTHON": "false"}, stdin=subprocess.DEVNULL)
    assert run.returncode == 1
    assert "setup: .venv or .checkov-venv is committed in this checkout" in run.stderr
    _assert_nothing_ran(marker, token, run.stdout, run.stderr)


def test_a_git_in_the_tree_on_path_is_never_run(tmp_path: Path, token: str) -> None:
    repo = _repository(tmp_path)
    marker = tmp_path / "tree-git-ran"
    fake = repo / "node_modules" / ".bin" / "git"
    fake.parent.mkdir(parents=True)
    fake.write_text(_hostile_command(marker, token))
    fake.chmod(0o755)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "a git of its own")
    head = _git(repo, "rev-parse", "HEAD").decode().strip()
    (repo / "notes.txt").write_text("second\n", encoding="utf-8")
    # A CI that puts the checkout's tool folder first on PATH.
    run = _audit(repo, PATH=f"{fake.parent}:{os.environ.get('PATH', os.defpath)}")
    assert run.returncode in (0, 1), run.stderr
    _assert_nothing_ran(marker, token, run.stdout, run.stderr)
    document = json.loads(run.stdout)
    assert document["gitCommit"] == head and document["evidence"]["gitDirty"] is True
