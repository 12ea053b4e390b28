"""The run's provenance read from a repository without trusting it: the commit without git, the difference by a contained git.

The hostile cases (a look-alike git directory, a planted `.git/config`) are in
tests/reliability/test_hostile_tree.py; these are the shapes a real repository takes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from pathlib import Path

import pytest

from dpaguard.gitstate import find_repository, git_commit, git_worktree


def _git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          check=True, capture_output=True, text=True, env=env).stdout


def _repo(path: Path, *init: str) -> Path:
    path.mkdir(parents=True)
    _git(path, "init", "-q", *init)
    (path / "notes.txt").write_text("first\n")
    (path / "infra").mkdir()
    (path / "infra" / "main.py").write_text("print('hi')\n")
    _git(path, "add", "-A")
    _git(path, "commit", "-qm", "one")
    return path


def test_the_commit_is_heads_from_a_subfolder_through_loose_and_packed_refs(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    head = _git(repo, "rev-parse", "HEAD").strip()
    assert git_commit(repo / "infra") == head
    _git(repo, "pack-refs", "--all")
    assert not any((repo / ".git" / "refs" / "heads").iterdir())
    assert git_commit(repo / "infra") == head
    _git(repo, "checkout", "-q", "--detach")
    assert git_commit(repo) == head


def test_a_linked_work_tree_is_its_own_head(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    _git(repo, "worktree", "add", "-q", "-b", "other", str(tmp_path / "other"))
    (tmp_path / "other" / "notes.txt").write_text("second\n")
    _git(tmp_path / "other", "commit", "-qam", "two")
    found = find_repository(tmp_path / "other" / "infra")
    assert found is not None and found.top == (tmp_path / "other").resolve() and found.common_dir == (repo / ".git").resolve()
    assert git_commit(tmp_path / "other") == _git(tmp_path / "other", "rev-parse", "HEAD").strip() != git_commit(repo)
    assert git_worktree(tmp_path / "other") == (False, None)


def test_no_commit_or_no_repository_is_none(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    assert find_repository(tmp_path / "plain") is None  # pytest's temporary folders are in no repository
    assert git_commit(tmp_path / "plain") is None and git_worktree(tmp_path / "plain") == (None, None)
    empty = tmp_path / "empty"
    empty.mkdir()
    _git(empty, "init", "-q")
    assert git_commit(empty) is None and git_worktree(empty) == (None, None)


@pytest.mark.parametrize("head", ["ref: refs/heads/../../../../etc/passwd\n", "ref: /etc/passwd\n", "not a ref\n",
                                  "ref: refs/heads/a\n"])
def test_a_head_that_names_no_commit_is_none(tmp_path: Path, head: str) -> None:
    repo = _repo(tmp_path / "repo")
    (repo / ".git" / "refs" / "heads" / "a").write_text("ref: refs/heads/a\n")  # a loop
    (repo / ".git" / "HEAD").write_text(head)
    assert git_commit(repo) is None and git_worktree(repo) == (None, None)


def test_a_symlinked_dot_git_is_not_followed(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / ".git").symlink_to(repo / ".git")
    assert find_repository(tmp_path / "project") is None


def test_a_sha256_repository_is_read_too(tmp_path: Path) -> None:
    try:
        repo = _repo(tmp_path / "repo", "--object-format=sha256")
    except subprocess.CalledProcessError:
        pytest.skip("this git cannot make a sha256 repository")
    head = _git(repo, "rev-parse", "HEAD").strip()
    assert len(head) == 64 and git_commit(repo) == head
    (repo / "notes.txt").write_text("second\n")
    dirty, digest = git_worktree(repo)
    assert dirty is True and digest == hashlib.sha256(_git(repo, "diff", "HEAD", "--binary").encode()).hexdigest()


def test_an_untracked_symlink_is_digested_by_its_target_never_read(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    (repo / "endless").symlink_to("/dev/zero")
    answer: list[tuple[bool | None, str | None]] = []
    worker = threading.Thread(target=lambda: answer.append(git_worktree(repo)), daemon=True)
    worker.start()
    worker.join(60)
    assert answer and answer[0][0] is True and answer[0][1]
    (repo / "endless").unlink()
    (repo / "endless").symlink_to("/dev/null")
    assert git_worktree(repo)[1] != answer[0][1]
