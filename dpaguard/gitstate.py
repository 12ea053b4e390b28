"""The commit a project is checked out at, and how its work tree differs from it: the run's provenance.

The work tree is a pull request's, so its repository is hostile too: a `.git/config` (committed in a
folder that looks like a git directory, or planted by a program during an earlier render) can name
commands git runs by itself: `core.fsmonitor`, hooks, `filter.<driver>.clean`, `diff.<driver>.textconv`,
`core.pager`, an `include.path` that brings any of them. So (SECURITY.md):

- the repository is decided here, not by git's discovery: the nearest `.git` (a folder, or a file
  `gitdir: ...` of a linked work tree) at or above the project directory. A folder that only looks
  like a git directory (`infra/{HEAD,config,objects,refs}`), which git itself would take for a bare
  repository, is never one;
- the commit is read without git: `HEAD`, the loose ref or `packed-refs`;
- the difference is computed by git, but never with the repository's own configuration, hooks or
  index: git gets a git directory of dpaguard's (a `HEAD` naming the commit, a config of its own,
  an index read from that commit), the repository's objects (which it only reads) and the work
  tree, with an allow-listed environment (no system, global or user config, an empty HOME), hooks,
  fsmonitor and external diff or text conversion off, submodules ignored; it is the `git` on PATH
  outside the work tree, and it runs contained (`dpaguard.contain`): nothing it starts outlives it,
  nothing of dpaguard's environment reaches it.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dpaguard import contain

GIT_TIMEOUT_S = 30.0
_OBJECT_NAME = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_REF_NAME = re.compile(r"refs/[A-Za-z0-9._/+@-]+")
# Refs a linked work tree keeps in its own git directory; the others are in the common one.
_PER_WORKTREE_REFS = ("refs/bisect/", "refs/worktree/", "refs/rewritten/")
_MAX_REF_BYTES = 4096
_MAX_PACKED_REFS_BYTES = 64 * 1024 * 1024
_MAX_EXCLUDE_BYTES = 1024 * 1024
# Overrides of settings that make git run a command or trust what it read, whatever config it finds
# (given as GIT_CONFIG_KEY_<n>/GIT_CONFIG_VALUE_<n>: the same as `git -c`).
_OVERRIDES = (
    ("core.fsmonitor", "false"), ("core.hooksPath", os.devnull), ("core.untrackedCache", "false"),
    ("core.splitIndex", "false"), ("core.pager", "cat"), ("core.attributesFile", os.devnull),
    ("core.excludesFile", os.devnull), ("protocol.allow", "never"), ("safe.directory", "*"),
    ("submodule.recurse", "false"),
)
# The index is read from the commit (none of the repository's), then the difference and the untracked
# files are written to the files named by $2 and $3. External diff and text conversion off, submodules
# not entered: they would run their own repository's configuration.
_SCRIPT = (
    'set -e\n'
    'git --no-pager read-tree "$1"\n'
    'git --no-pager diff HEAD --binary --no-ext-diff --no-textconv --ignore-submodules=all > "$2"\n'
    'git --no-pager ls-files --others --exclude-standard -z > "$3"\n'
)


@dataclass(frozen=True)
class Repository:
    """A work tree and its git directories (`git_dir` holds HEAD and the index, `common_dir` refs and objects)."""

    top: Path
    git_dir: Path
    common_dir: Path


def _read_small(path: Path, limit: int) -> str | None:
    """The text of a regular file (not a symlink, not a fifo) of at most `limit` bytes, else None."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > limit:
            return None
        return path.read_text(encoding="utf-8", errors="strict")
    except (OSError, UnicodeDecodeError):
        return None


def find_repository(directory: Path) -> Repository | None:
    """The repository whose work tree holds `directory`: the nearest `.git` folder or `gitdir:` file above it."""
    try:
        start = Path(directory).resolve()
    except (OSError, RuntimeError):
        return None
    for top in (start, *start.parents):
        dot_git = top / ".git"
        if dot_git.is_symlink():
            return None  # git would follow it anywhere; nothing we can vouch for
        if dot_git.is_dir():
            git_dir = dot_git
        elif dot_git.is_file():
            text = _read_small(dot_git, _MAX_REF_BYTES)
            if text is None or not text.startswith("gitdir: "):
                return None
            git_dir = (top / text[len("gitdir: "):].strip()).resolve()
        else:
            continue
        if not (git_dir / "HEAD").is_file():
            return None
        common = _read_small(git_dir / "commondir", _MAX_REF_BYTES)
        common_dir = (git_dir / common.strip()).resolve() if common and common.strip() else git_dir
        return Repository(top=top, git_dir=git_dir, common_dir=common_dir)
    return None


def _ref_value(repository: Repository, name: str) -> str | None:
    """The content of a ref: its loose file, else its line in `packed-refs`."""
    if not _REF_NAME.fullmatch(name) or ".." in name or "//" in name or name.endswith((".lock", "/")):
        return None
    holder = repository.git_dir if name.startswith(_PER_WORKTREE_REFS) else repository.common_dir
    loose = holder / name
    if loose.exists():
        return _read_small(loose, _MAX_REF_BYTES)
    packed = _read_small(repository.common_dir / "packed-refs", _MAX_PACKED_REFS_BYTES)
    for line in (packed or "").splitlines():
        fields = line.split(" ")
        if len(fields) == 2 and fields[1] == name and not line.startswith(("#", "^")):
            return fields[0]
    return None


def head_commit(repository: Repository) -> str | None:
    """The object name HEAD resolves to (through at most five symbolic refs), read without git."""
    value = _read_small(repository.git_dir / "HEAD", _MAX_REF_BYTES)
    for _ in range(5):
        if value is None:
            return None
        value = value.strip()
        if _OBJECT_NAME.fullmatch(value):
            return value
        if not value.startswith("ref: "):
            return None
        value = _ref_value(repository, value[len("ref: "):].strip())
    return None


def git_commit(directory: Path) -> str | None:
    """The commit checked out in `directory`, or None when it is not in a git work tree (or HEAD names none)."""
    repository = find_repository(directory)
    return head_commit(repository) if repository is not None else None


def _inside(path: Path, folder: Path) -> bool:
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return True
    return any(candidate == folder or folder in candidate.parents for candidate in (path, resolved))


def _git_env(shadow: Path, home: Path, repository: Repository) -> dict[str, str]:
    """git's environment: an allow-list, with every file git could read its settings from pointed at ours."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "TZ", "TMPDIR")}
    # git (and sh) from PATH's absolute entries outside the work tree: a `git` the tree holds is not git
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if os.path.isabs(p) and not _inside(Path(p), repository.top)
    ) or os.defpath
    env.update({
        "LC_ALL": "C", "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_ATTR_NOSYSTEM": "1",
        "GIT_DIR": str(shadow), "GIT_WORK_TREE": str(repository.top), "GIT_INDEX_FILE": str(shadow / "index"),
        "GIT_OBJECT_DIRECTORY": str(repository.common_dir / "objects"),
        "GIT_TERMINAL_PROMPT": "0", "GIT_NO_REPLACE_OBJECTS": "1", "GIT_NO_LAZY_FETCH": "1",
        "GIT_OPTIONAL_LOCKS": "0", "GIT_PROTOCOL_FROM_USER": "0", "GIT_CONFIG_COUNT": str(len(_OVERRIDES)),
    })
    for index, (key, value) in enumerate(_OVERRIDES):
        env[f"GIT_CONFIG_KEY_{index}"], env[f"GIT_CONFIG_VALUE_{index}"] = key, value
    return env


def _shadow_git_dir(shadow: Path, repository: Repository, commit: str) -> None:
    """A git directory of ours: HEAD at the commit, our config, the repository's excludes (plain patterns)."""
    (shadow / "refs").mkdir(parents=True)
    (shadow / "info").mkdir()
    (shadow / "HEAD").write_text(commit + "\n", encoding="ascii")
    config = "[core]\n\trepositoryformatversion = 0\n\tbare = false\n"
    if len(commit) == 64:
        config = "[core]\n\trepositoryformatversion = 1\n\tbare = false\n[extensions]\n\tobjectformat = sha256\n"
    (shadow / "config").write_text(config, encoding="ascii")
    excludes = _read_small(repository.common_dir / "info" / "exclude", _MAX_EXCLUDE_BYTES)
    if excludes:
        (shadow / "info" / "exclude").write_text(excludes, encoding="utf-8")


def _digest_file(digest: "hashlib._Hash", path: Path) -> None:
    """A file's bytes; a symlink's target (as git records it), never what it points to (a fifo, /dev/zero)."""
    try:
        if path.is_symlink():
            digest.update(b"\0symlink\0" + os.fsencode(os.readlink(path)))
            return
        if not path.is_file():
            digest.update(b"\0not a regular file")
            return
        with open(path, "rb") as handle:  # in chunks: an untracked state export may be large
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        digest.update(b"\0unreadable")


def git_worktree(directory: Path) -> tuple[bool | None, str | None]:
    """Whether the work tree differs from HEAD, and the sha256 of the difference.

    The digest covers `git diff HEAD --binary` (tracked changes) and each untracked, not ignored
    file: its path and bytes (a symlink: its target), in path order. (None, None) outside a git work
    tree, or when git cannot tell.
    """
    repository = find_repository(directory)
    commit = head_commit(repository) if repository is not None else None
    if repository is None or commit is None:
        return None, None
    with tempfile.TemporaryDirectory(prefix="dpaguard-git-") as work:
        shadow, home = Path(work) / "git", Path(work) / "home"
        home.mkdir()
        _shadow_git_dir(shadow, repository, commit)
        diff_file, untracked_file = Path(work) / "diff", Path(work) / "untracked"
        # One contained run for the three steps (each launch starts a Python).
        command = ["sh", "-c", _SCRIPT, "dpaguard-git", commit, str(diff_file), str(untracked_file)]
        try:
            answer = contain.run(command, cwd=home, env=_git_env(shadow, home, repository), timeout=GIT_TIMEOUT_S,
                                 isolate=True)
            diff = diff_file.read_bytes() if answer.returncode == 0 else None
            untracked = untracked_file.read_bytes() if answer.returncode == 0 else None
        except (OSError, subprocess.SubprocessError):
            diff = untracked = None
    if diff is None or untracked is None:
        return None, None
    names = sorted(n for n in untracked.split(b"\0") if n)
    if not diff.strip() and not names:
        return False, None
    digest = hashlib.sha256()
    digest.update(diff)
    for name in names:
        digest.update(b"\0untracked\0" + name + b"\0")
        _digest_file(digest, repository.top / os.fsdecode(name))
    return True, digest.hexdigest()
