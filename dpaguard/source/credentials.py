"""Scaleway and DataPacket credentials written in plaintext in a program's files: each a finding of DPA-SEC-104.

What a credential is, and its redaction in rendered inputs, is the floor's
(dpaguard/deployment/credentials.py). A value is never printed: a file finding gives a path, a
line, a column and a kind.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from dpaguard.deployment.credentials import find_credentials, redact_credentials
from dpaguard.model import ControlId, Decision, SourceLocation, Urn
from dpaguard.urn import file_urn

if TYPE_CHECKING:  # the source stage does not import the policy loader at run time
    from dpaguard.policy import Policy

# Folders that are not the program: tools' caches, dependencies and virtual environments (any folder
# holding a `pyvenv.cfg` is one, whatever its name), and, as for checkov, tests (whose made-up keys
# would otherwise fail the gate of every repository that tests its own detection).
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", ".checkov-venv", "node_modules", "__pycache__", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".hypothesis", ".tox", ".nox", ".terraform", "site-packages", ".eggs",
    "tests", "test",
})
# The files a program's credentials are written in: its code, its config and environment files.
TEXT_SUFFIXES = frozenset({
    ".py", ".pyi", ".yaml", ".yml", ".json", ".toml", ".cfg", ".ini", ".conf", ".env", ".sh", ".bash", ".txt",
    ".tf", ".tfvars", ".properties", ".j2", ".tpl", ".tmpl", ".cloud-init", ".md",
})
TEXT_NAMES = frozenset({"dockerfile", "containerfile", ".env", ".envrc", "makefile"})
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_FILES = 20_000


@dataclass(frozen=True)
class FileCredential:
    """A credential written in a file of the project: path (project-relative, POSIX), line, column, kind."""

    path: str
    line: int
    column: int
    kind: str


def _is_text(name: str) -> bool:
    lower = name.lower()
    return (lower in TEXT_NAMES or lower.startswith(".env.") or Path(lower).suffix in TEXT_SUFFIXES)


def project_files(root: Path) -> Iterator[Path]:
    """The project's text files, sorted: no virtual environment, dependency or cache folder, no symlink out of it."""
    count = 0
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not os.path.isfile(os.path.join(current, d, "pyvenv.cfg"))
                         and not os.path.islink(os.path.join(current, d)))
        for name in sorted(files):
            path = Path(current) / name
            if not _is_text(name) or path.is_symlink():
                continue
            try:
                if not 0 < path.stat().st_size <= MAX_FILE_BYTES:
                    continue
            except OSError:
                continue
            count += 1
            if count > MAX_FILES:
                return
            yield path


def scan_files(root: Path) -> tuple[list[FileCredential], int]:
    """The credentials written in the project's files, and how many files were read."""
    found: list[FileCredential] = []
    read = 0
    for path in project_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        read += 1
        relative = redact_credentials(path.relative_to(root).as_posix())  # a key in a folder's name is printed as a location
        for credential in find_credentials(text):
            line = text.count("\n", 0, credential.start) + 1
            column = credential.start - (text.rfind("\n", 0, credential.start) + 1) + 1
            found.append(FileCredential(relative, line, column, credential.kind))
    return found, read


# ------------------------------------------------------------------------------------- findings

CONTROL = "DPA-SEC-104"


def file_decisions(
    project_dir: Path, policy: Policy, scanned: tuple[list[FileCredential], int] | None = None,
) -> tuple[tuple[Decision, ...], int]:
    """DPA-SEC-104 decisions for the credentials written in the project's files, and how many files were read.

    Each is a decision about its file, at its line and column; the findings stage places it (a stack's
    config file is that stack's, judged in its environment; any other file the project's, judged as prod).
    `scanned`: the project's files as `scan_files` read them before the programs ran (`check` does so,
    so that a program cannot delete a key file before the scan); else they are read now.
    """
    try:
        policy.control(CONTROL)
    except (KeyError, LookupError):
        return (), 0
    found, read = scanned if scanned is not None else scan_files(Path(project_dir))
    decisions = tuple(
        Decision(
            ControlId(CONTROL), Urn(file_urn(credential.path)),
            f"{credential.kind} written in plaintext at {credential.path}:{credential.line}:{credential.column} (value not shown)",
            location=SourceLocation(path=credential.path, line=credential.line, column=credential.column),
            type="dpaguard:credentials", name=credential.path,
        )
        for credential in found
    )
    return decisions, read
