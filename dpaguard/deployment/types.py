"""Type tokens: the deprecated `scaleway:index/...` tokens mapped to current module tokens, and what each type accepts.

Both are read from the installed pulumiverse_scaleway package itself, once: each current class
declares `pulumi.Alias(type_="scaleway:index/...")` to its deprecated token in its options, and its
constructor registers its own token and names the inputs it takes (region, zone, project_id, tags).
"""

from __future__ import annotations

import functools
import importlib.util
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from dpaguard.markers import PLAINTEXT_REDACTED

_REGISTER = re.compile(r"super\(\w+, __self__\)\.__init__\(\s*'(?P<token>scaleway:[^']+)'")
_ALIAS = re.compile(r'pulumi\.Alias\(type_="(?P<token>scaleway:index/[^"]+)"\)')
# An argument line of the generated constructors, "                 region: pulumi.Input[...]": found as
# text, since a line-anchored regex over the package's 14 MB took 0.08 s of every run.
_INPUTS = ("region", "zone", "project_id", "tags")

DYNAMIC_PREFIX = "pulumi-python:dynamic/"
DATAPACKET_SERVER = "pulumi-python:dynamic/datapacket:Server"


@dataclass(frozen=True)
class TypeInfo:
    """What one Scaleway resource type takes as input."""

    region: bool
    zone: bool
    project: bool
    tags: bool


@dataclass(frozen=True)
class ScalewayTypes:
    """The provider package's own registrations: deprecated -> current tokens, and each type's inputs."""

    current: dict[str, str]
    info: dict[str, TypeInfo]


@functools.lru_cache(maxsize=1)
def scaleway_types() -> ScalewayTypes:
    """Scan the installed pulumiverse_scaleway package (cached for the process)."""
    # Located, not imported: importing the package would run (and warn about) every deprecated class.
    spec = importlib.util.find_spec("pulumiverse_scaleway")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a declared dependency
        return ScalewayTypes({}, {})
    root = Path(list(spec.submodule_search_locations)[0])
    current: dict[str, str] = {}
    info: dict[str, TypeInfo] = {}
    for path in root.rglob("*.py"):
        if path.name.startswith("_"):
            continue
        text = path.read_text(encoding="utf-8")
        registered = _REGISTER.search(text)
        if not registered:
            continue
        token = registered.group("token")
        inputs = {name for name in _INPUTS if f" {name}: pulumi.Input" in text}
        info[token] = TypeInfo("region" in inputs, "zone" in inputs, "project_id" in inputs, "tags" in inputs)
        if not token.startswith("scaleway:index/"):
            for alias in _ALIAS.finditer(text):
                current[alias.group("token")] = token
    for old, new in current.items():
        info.setdefault(old, info[new])
    return ScalewayTypes(current, info)


def canonical_type(token: str) -> str:
    """The current module token of a type (deprecated `scaleway:index/...` tokens mapped), else the token itself."""
    return scaleway_types().current.get(token, token)


def type_info(token: str) -> TypeInfo | None:
    """What a Scaleway type takes as input; None for types the package does not register."""
    return scaleway_types().info.get(token)


# Characters no Pulumi type token holds that a reader does not see: format characters (U+200B, U+2060,
# U+FEFF), controls, separators and unassigned or private code points, combining marks, and the
# letters and symbols that render blank (Hangul fillers, the braille blank).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")


_REDACTION_MARKER = re.compile(re.escape(PLAINTEXT_REDACTED[:-1]) + r"(?:: [A-Za-z ]+)?\]")


@functools.lru_cache(maxsize=4096)  # a pure function of the token, asked for each resource; estates hold few types
def type_token_problem(token: str) -> str | None:
    """Why a type token cannot be taken as written (an invisible character, another Unicode form), or None.

    `scaleway:object/bucket:Bucket` followed by U+200B is a type no control examines, and would pass
    every control while reading like a bucket: such a token is refused, never mapped to the one it
    resembles (the provider would not know it either). The reason names the code point, not the token.
    """
    # A credential written in a type token was replaced by its marker when the deployment was read
    # (`[plaintext redacted: <kind>]`, spaces included): the marker is dpaguard's, not the token's.
    for char in _REDACTION_MARKER.sub("", token):
        if char in _BLANK or unicodedata.category(char) in _INVISIBLE_CATEGORIES:
            name = unicodedata.name(char, "unnamed")
            return f"holds U+{ord(char):04X} ({name}), a character no type token holds"
    if unicodedata.normalize("NFKC", token) != token:
        return "is not in Unicode normal form NFKC (a compatibility or decomposed character reads like another)"
    return None
