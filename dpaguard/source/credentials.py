"""Scaleway and DataPacket credentials written in plaintext: in a program's files, and in rendered resource inputs.

checkov has no detector for them (its custom secret patterns need its commercial platform), so dpaguard
finds them itself. What is recognised, and why no more:

- a Scaleway access key: `SCW` and 17 upper-case letters or digits (Scaleway's own format), as a
  word of its own; a placeholder of one repeated character (`SCWXXXXXXXXXXXXXXXXX`) is not one;
- a Scaleway secret key: a UUID, but only where the text names it as a secret key just before it
  (`SCW_SECRET_KEY=`, `secret_key="`, `secretKey: `, `--secret-key `, at most four characters of
  quotes, spaces, `=` or `:` between). A bare UUID is every Scaleway resource, project and
  organisation id: flagging those would bury the report, so a secret key pasted with no such name
  beside it is not found;
- a DataPacket API key: DataPacket publishes no format for its keys, so a name rule: a name that
  says DataPacket and then API key, token or secret (`DATAPACKET_API_KEY=`, `datapacket:apiKey:`,
  `datapacket_token = "`), followed by a value of 20 or more letters, digits, `_` or `-` holding at
  least one digit (which leaves out `os.environ[...]`, `config.require_secret(...)` and names).

A value is never printed: a file finding gives a path, a line, a column and a kind; a rendered input
gets the value replaced by `[plaintext redacted: <kind>]` (see `redact_credentials`), so the secrets
control can report the property holding it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from dpaguard.model import PLAINTEXT_REDACTED, ControlId, Decision, SourceLocation, Urn
from dpaguard.urn import file_urn

if TYPE_CHECKING:  # the source stage does not import the policy loader at run time
    from dpaguard.policy import Policy

SCALEWAY_ACCESS_KEY = "Scaleway access key"
SCALEWAY_SECRET_KEY = "Scaleway secret key"
DATAPACKET_API_KEY = "DataPacket API key"

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (SCALEWAY_ACCESS_KEY, re.compile(r"(?<![A-Za-z0-9])(?P<value>SCW[A-Z0-9]{17})(?![A-Za-z0-9])")),
    (SCALEWAY_SECRET_KEY, re.compile(rf"(?i)secret[_-]?key[\s\"'`=:]{{1,4}}(?P<value>{_UUID})(?![0-9a-fA-F-])")),
    (DATAPACKET_API_KEY, re.compile(
        r"(?i)datapacket[\w:.-]{0,20}?(?:api[_-]?key|token|secret)[\s\"'`=:]{1,4}"
        r"(?P<value>(?=[A-Za-z_-]*[0-9])[A-Za-z0-9_-]{20,})(?![A-Za-z0-9_-])"
    )),
)
# A cheap test before the patterns: every credential above contains one of these (case-insensitive).
_HINT = re.compile(r"(?i)scw|secret|datapacket")
# What a rendered input's credential becomes: the plaintext marker, with the kind.
MARKER = re.compile(re.escape(PLAINTEXT_REDACTED[:-1]) + r"(?:: (?P<kind>[A-Za-z ]+))?\]")


@dataclass(frozen=True)
class Credential:
    """One credential in a text: its kind and where its value starts and ends (never the value)."""

    kind: str
    start: int
    end: int


def find_credentials(text: str) -> list[Credential]:
    """The credentials in `text`, in order of position."""
    if not _HINT.search(text):
        return []
    found: list[Credential] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            value = match.group("value")
            if kind == SCALEWAY_ACCESS_KEY and len(set(value[3:])) == 1:
                continue  # SCWXXXXXXXXXXXXXXXXX: the documentation's placeholder
            found.append(Credential(kind, match.start("value"), match.end("value")))
    return sorted(found, key=lambda c: c.start)


def redact_credentials(text: str) -> str:
    """`text` with the value of every credential replaced by `[plaintext redacted: <kind>]`."""
    credentials = find_credentials(text)
    if not credentials:
        return text
    parts, at = [], 0
    for credential in credentials:
        if credential.start < at:
            continue
        parts.append(text[at:credential.start])
        parts.append(f"{PLAINTEXT_REDACTED[:-1]}: {credential.kind}]")
        at = credential.end
    parts.append(text[at:])
    return "".join(parts)


def marked_kinds(text: str) -> list[str]:
    """The kinds named by the plaintext markers a redacted text holds (`[plaintext redacted]` alone: none)."""
    return [m.group("kind") for m in MARKER.finditer(text) if m.group("kind")]


# ------------------------------------------------------------------------------------------ files

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
