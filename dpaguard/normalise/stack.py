"""A stack as facts: its environment, its `scaleway:*` defaults, its settings, and the plaintext secrets of its config.

A stack's environment comes from its name, its config or the command line (dpaguard/environment.py);
its settings (`dpaguard:*` config, or the pack's config over them) are whole numbers of days.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from dpaguard.engine.encoding import INT64_MAX
from dpaguard.environment import environment_of
from dpaguard.model import REDACTED, UNKNOWN, Deployment
from dpaguard.deployment.redact import holds_no_credential, is_sensitive_name

SETTING_KEYS = {
    "minBackupRetentionDays": "dpaguard:minBackupRetentionDays",
    "callRecordingRetentionDays": "dpaguard:callRecordingRetentionDays",
    "transcriptRetentionDays": "dpaguard:transcriptRetentionDays",
}


def days_setting(value: Any) -> int | None:
    """A number-of-days setting, or None when it is not a whole number from 0 to int64's largest (never wrapped)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()) and len(value.strip()) <= 19:
        value = int(value.strip())
    if isinstance(value, int) and 0 <= value <= INT64_MAX:
        return value
    return None


def scaleway_setting(config: Mapping[str, Any], name: str) -> Any:
    """A `scaleway:<name>` stack setting, also under its snake_case spelling (`scaleway:project_id`)."""
    value = config.get(f"scaleway:{name}")
    if value in (None, ""):
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
        value = config.get(f"scaleway:{snake}")
    return value


def stack_facts(
    deployment: Deployment, override: str | None, stack_settings: Mapping[str, Any], dpa_settings: Mapping[str, Any]
) -> dict[str, Any]:
    """The facts of one stack (its resources' are added by the normaliser)."""
    config = deployment.config
    environment, source = environment_of(deployment.stack, config, dpa_settings["environment_names"], override)
    settings: dict[str, Any] = {name: days_setting(config.get(key)) for name, key in SETTING_KEYS.items()}
    for name, value in stack_settings.items():
        if name in settings:
            settings[name] = days_setting(value)
    floor = int(dpa_settings["defaults"]["minBackupRetentionDays"])
    if settings["minBackupRetentionDays"] is None:
        configured = stack_settings.get("minBackupRetentionDays", config.get(SETTING_KEYS["minBackupRetentionDays"]))
        # A minimum that is set but unreadable (beyond int64, negative, text) is held to be larger than
        # any retention, so every database is reported rather than judged against a guess.
        settings["minBackupRetentionDays"] = floor if configured is None else INT64_MAX
    # The DPA's minimum is policy data (policies/dpa/settings.yaml): a stack's own setting, written in
    # the tree a pull request changes, may raise it and never lower it.
    settings["minBackupRetentionDays"] = max(floor, settings["minBackupRetentionDays"])
    plaintext_keys = sorted(
        key
        for key, value in config.items()
        if key not in deployment.secret_config_keys and value != REDACTED and not holds_no_credential(value)
        and is_sensitive_name(key.split(":", 1)[-1])
    )
    project = scaleway_setting(config, "projectId")
    return {
        "name": deployment.stack,
        "urn": deployment.stack_urn,
        "pulumi_project": deployment.project,
        "environment": environment,
        "environment_source": source,
        "scaleway_project": project if isinstance(project, str) and project else None,
        "default_region": scaleway_setting(config, "region"),
        "default_zone": config.get("scaleway:zone"),
        "settings": settings,
        "config_file": deployment.config_file,
        # key -> [line, column] in the stack config file (findings point there; the Rego never reads it)
        "config_positions": {key: list(at) for key, at in deployment.config_positions.items()},
        "plaintext_config_keys": plaintext_keys,
    }


def stack_reference(props: Mapping[str, Any], dpa_settings: Mapping[str, Any]) -> dict[str, Any]:
    """What a StackReference resource names: {target, environment} (the environment its stack name names)."""
    target = props.get("name")
    if not isinstance(target, str) or target == UNKNOWN:
        return {"target": None, "environment": "unknown"}
    short = target.rsplit("/", 1)[-1].lower()
    return {"target": target, "environment": dpa_settings["environment_names"].get(short, "unknown")}


ALERT_MANAGER = "scaleway:observability/alertManager:AlertManager"


def _alerts(props: Mapping[str, Any], unknown: str) -> bool:
    """An alert manager that names a contact point and enables alert rules (a value unknown until apply counts)."""
    points = props.get("contactPoints")
    contact = points == unknown or (isinstance(points, list) and any(
        isinstance(p, Mapping) and (p.get("email") == unknown or (isinstance(p.get("email"), str) and p["email"] != ""))
        for p in points))
    alert_ids = props.get("preconfiguredAlertIds")
    rules = (props.get("enableManagedAlerts") in (True, unknown) or alert_ids == unknown
             or (isinstance(alert_ids, list) and len(alert_ids) > 0))
    return contact and rules


def alerting(resources: Sequence[Mapping[str, Any]], unknown: str) -> bool:
    """Whether one of the stack's own Cockpit alert managers alerts someone (DPA-INC-001).

    A stack-wide fact computed here, not in Rego: the engines evaluate a stack's resources in parts,
    and "none of them does" cannot be judged on a part."""
    return any(r.get("type") == ALERT_MANAGER and not r.get("read") and _alerts(r.get("props") or {}, unknown)
               for r in resources)
