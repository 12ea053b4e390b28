"""Pulumi's URN grammar, the type tokens of the resources the engine itself makes, and its source positions.

    urn:pulumi:<stack>::<project>::<qualified type>::<name>

The root resource of every stack is `pulumi:pulumi:Stack`, named `<project>-<stack>`; a provider's
type is `pulumi:providers:<package>`. The standard library only, on purpose: `source/_runner.py`
imports this inside the program's own process, which may be another interpreter.
"""

from __future__ import annotations

import re

URN_PREFIX = "urn:pulumi:"
STACK_TYPE = "pulumi:pulumi:Stack"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"
# What a check of the repository's files decides on: `urn:dpaguard:file:<project-relative path>`. A
# file no one stack owns belongs to the project as a whole, the stack `*` (dpaguard.findings).
FILE_URN_PREFIX = "urn:dpaguard:file:"
PROJECT_STACK = "*"


# `project:///infra/estate/database.py#26,9`: the file (project-relative), the line, the column (optional).
_SOURCE_POSITION = re.compile(r"project://(?P<path>.*)#(?P<line>[0-9]+)(?:,(?P<column>[0-9]+))?")


def source_position(value: object) -> tuple[str, int, int] | None:
    """A resource's `sourcePosition` as (project-relative path, line, column); None when it is not one."""
    match = _SOURCE_POSITION.fullmatch(value) if isinstance(value, str) else None
    path = match.group("path").lstrip("/") if match else ""
    if not match or not path:
        return None
    return path, int(match.group("line")), int(match.group("column") or 1)


def urn(stack: str, project: str, qualified_type: str, name: str) -> str:
    """The URN of a resource of `qualified_type` (its parents' types joined by `$`) named `name`."""
    return f"{URN_PREFIX}{stack}::{project}::{qualified_type}::{name}"


def stack_urn(stack: str, project: str) -> str:
    """The URN of a stack's root `pulumi:pulumi:Stack` resource."""
    return urn(stack, project, STACK_TYPE, f"{project}-{stack}")


def file_urn(path: str) -> str:
    """The URN a decision about a repository file names: `urn:dpaguard:file:<path>`."""
    return f"{FILE_URN_PREFIX}{path}"


def provider_type(package: str) -> str:
    """The type token of a provider of `package`: `pulumi:providers:scaleway`."""
    return f"{PROVIDER_TYPE_PREFIX}{package}"


def is_provider_type(type_token: str) -> bool:
    """Whether a type token is a provider's."""
    return type_token.startswith(PROVIDER_TYPE_PREFIX)


def parse_urn(text: object) -> tuple[str, str, str, str] | None:
    """`urn:pulumi:<stack>::<project>::<qualified type>::<name>` -> (stack, project, qualified type, name)."""
    if not isinstance(text, str) or not text.startswith(URN_PREFIX):
        return None
    parts = text[len(URN_PREFIX):].split("::", 3)
    if len(parts) != 4:
        return None
    return parts[0], parts[1], parts[2], parts[3]


def name_of(urn: str) -> str:
    """The last part of a URN, after its last `::`: the resource's name (the text itself when it has no `::`)."""
    return urn.rsplit("::", 1)[-1]


def provider_urn_of(reference: object) -> str:
    """The provider URN of a resource's `provider` reference (`<provider URN>::<provider id>`), "" without one.

    A malformed reference (no `::`) is taken whole: it still names a provider, one the deployment
    does not hold, never the default one (the normaliser then places the resource nowhere: fail closed).
    """
    return reference.rsplit("::", 1)[0] if isinstance(reference, str) else ""


def is_default_provider(provider_urn: str) -> bool:
    """Whether a provider URN names one the engine made from the stack config (`default`, `default_1_2_3`)."""
    return name_of(provider_urn).startswith("default")


def short_stack_name(stack: str) -> str:
    """`org/project/prod` -> `prod`: the config file is named after the stack's own name."""
    return stack.rsplit("/", 1)[-1]
