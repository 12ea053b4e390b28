"""Scaleway and DataPacket credentials written in plaintext: found in any text, and cut out of it.

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

A value is never printed: a rendered input gets it replaced by `[plaintext redacted: <kind>]`
(`redact_credentials`), so the secrets control can report the property holding it; the scan of a
program's files (dpaguard/source/credentials.py) gives a path, a line, a column and a kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dpaguard.model import PLAINTEXT_REDACTED

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
