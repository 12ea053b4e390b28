"""What the Pulumi engine tells the pack about the run: the stack (ConfigureStack) and the pack's config (Configure).

`ConfigureStack` is the only channel this pack trusts for the stack's identity and config: the
current engine always calls it before analyzing a stack (`NewPolicyAnalyzer` in
sdk/go/common/resource/plugin/analyzer_plugin.go), with the stack, project, organization,
dry-run flag, tags, every config value as a string (secrets decrypted) and the list of secret
keys. Secret values are replaced by REDACTED the moment they arrive. Without it the pack fails
closed (see analyzer.py).

The pack's own settings travel as the config of its `dpaguard` policy (`--policy-pack-config`):
environment override, minimum backup retention, OPA server, and per-control enforcement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from dpaguard.contain import is_time_limit
from dpaguard.engine import OPA_URL_FORM, is_opa_url
from dpaguard.model import ENVIRONMENTS, LEVELS, REDACTED
from dpaguard.deployment.redact import redact_config
from dpaguard.urn import short_stack_name


class PackConfigError(ValueError):
    """The pack's config (`--policy-pack-config`) holds a value the pack cannot use."""


def config_value(text: str) -> Any:
    """A config value from its string form: numbers, booleans, objects and arrays as `pulumi` typed them."""
    stripped = text.strip()
    if stripped[:1] in ("{", "[") or stripped in ("true", "false") or _looks_numeric(stripped):
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    return text


def _looks_numeric(text: str) -> bool:
    if not text or text[0] not in "-0123456789":
        return False
    # "007" and "+1" stay strings, as JSON (and YAML 1.2) read them.
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class StackContext:
    """The stack being analyzed, as ConfigureStack described it, secrets already redacted."""

    stack: str
    project: str
    organization: str = ""
    dry_run: bool = True
    config: Mapping[str, Any] = field(default_factory=dict)
    secret_keys: frozenset[str] = frozenset()
    tags: Mapping[str, str] = field(default_factory=dict)


def stack_context(request: Any) -> StackContext:
    """A ConfigureStack request as a StackContext; secret values never leave this function."""
    secret_keys = frozenset(str(k) for k in request.config_secret_keys)
    typed: dict[str, Any] = {}
    for key, text in request.config.items():
        typed[key] = REDACTED if key in secret_keys else config_value(text)
    return StackContext(
        stack=short_stack_name(request.stack),
        project=request.project,
        organization=request.organization,
        dry_run=bool(request.dry_run),
        config=redact_config(typed, secret_keys),
        secret_keys=secret_keys,
        tags=dict(request.tags),
    )


@dataclass(frozen=True)
class PackConfig:
    """The pack's own settings: the properties of its `dpaguard` policy in `--policy-pack-config`."""

    environment: str | None = None
    min_backup_retention_days: int | None = None
    opa_url: str | None = None
    opa_timeout: float = 10.0
    enforcement: Mapping[str, str] = field(default_factory=dict)  # control id -> mandatory|advisory|disabled

    def stack_settings(self) -> dict[str, Any]:
        """The stack settings this config overrides (normaliser setting names)."""
        return {} if self.min_backup_retention_days is None else {"minBackupRetentionDays": self.min_backup_retention_days}


# The JSON schema of the `dpaguard` policy's config, as `pulumi` validates `--policy-pack-config`.
PACK_CONFIG_SCHEMA: dict[str, dict[str, Any]] = {
    "environment": {
        "type": "string",
        "enum": list(ENVIRONMENTS),
        "description": "Evaluate as this environment instead of the stack's dpaguard:environment.",
    },
    "minBackupRetentionDays": {
        "type": "integer",
        "minimum": 1,
        "description": "Minimum backup retention in days, instead of the stack's dpaguard:minBackupRetentionDays (never below the DPA's).",
    },
    "opaUrl": {
        "type": "string",
        "description": "Evaluate the Rego policies on this OPA server instead of the embedded engine.",
    },
    "opaTimeoutSeconds": {
        "type": "number",
        "exclusiveMinimum": 0,
        "description": "How long to wait for the OPA server before failing the run.",
    },
    "enforcement": {
        "type": "object",
        "additionalProperties": {"type": "string", "enum": list(LEVELS)},
        "description": "Enforcement level per control id, over the catalogue's level for the environment.",
    },
}


def pack_config(properties: Mapping[str, Any], control_ids: frozenset[str]) -> PackConfig:
    """The `dpaguard` policy's config properties as PackConfig; PackConfigError names the bad key."""
    environment = properties.get("environment")
    if environment is not None and environment not in ENVIRONMENTS:
        raise PackConfigError(f"environment must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}")
    retention = properties.get("minBackupRetentionDays")
    if retention is not None:
        if isinstance(retention, bool) or not isinstance(retention, (int, float)) or retention != int(retention) or retention < 1:
            raise PackConfigError(f"minBackupRetentionDays must be a whole number of days >= 1, not {retention!r}")
        retention = int(retention)
    opa_url = properties.get("opaUrl")
    if opa_url is not None and not is_opa_url(opa_url):
        # The value is not repeated: a URL may hold a password.
        raise PackConfigError(f"opaUrl must be {OPA_URL_FORM}")
    timeout = properties.get("opaTimeoutSeconds", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not is_time_limit(timeout):
        raise PackConfigError(f"opaTimeoutSeconds must be a positive number, not {timeout!r}")
    raw_enforcement = properties.get("enforcement") or {}
    if not isinstance(raw_enforcement, Mapping):
        raise PackConfigError("enforcement must map control ids to mandatory, advisory or disabled")
    enforcement: dict[str, str] = {}
    for control, level in raw_enforcement.items():
        if control not in control_ids:
            raise PackConfigError(f"enforcement names {control!r}, which is no control of the catalogue")
        if level not in LEVELS:
            raise PackConfigError(f"enforcement of {control} must be one of {', '.join(LEVELS)}, not {level!r}")
        enforcement[str(control)] = str(level)
    return PackConfig(
        environment=environment,
        min_backup_retention_days=retention,
        opa_url=opa_url or None,
        opa_timeout=float(timeout),
        enforcement=enforcement,
    )
