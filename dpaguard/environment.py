"""Which environment a stack is: the one rule every stage uses (normaliser, checkov, policy pack).

The override (`--environment`, the pack's `environment`), else the stack config's
`dpaguard:environment`, else what `policies/dpa/settings.yaml` `environment_names` says of the
stack's name, else prod: an environment nobody can name is held to production's rules.
"""

from __future__ import annotations

from typing import Any, Literal, Mapping

from dpaguard.model import ENVIRONMENTS, Environment
from dpaguard.urn import short_stack_name

ENVIRONMENT_KEY = "dpaguard:environment"
EnvironmentSource = Literal["override", "config", "stack name", "assumed"]


def environment_of(
    stack: str, config: Mapping[str, Any], names: Mapping[str, str], override: str | None = None,
) -> tuple[Environment, EnvironmentSource]:
    """(environment, where it came from) of the stack `stack` with stack config `config`."""
    if override is not None:
        for environment in ENVIRONMENTS:
            if override == environment:
                return environment, "override"
        raise ValueError(f"environment override {override!r} is not one of {', '.join(ENVIRONMENTS)}")
    configured = config.get(ENVIRONMENT_KEY)
    for environment in ENVIRONMENTS:
        if configured == environment:
            return environment, "config"
    named = names.get(short_stack_name(stack).lower())
    for environment in ENVIRONMENTS:
        if named == environment:
            return environment, "stack name"
    return "prod", "assumed"


def environment_notice(stack: str, config: Mapping[str, Any], names: Mapping[str, str], override: str | None = None) -> str | None:
    """What a report says of a stack judged by a name other than prod, staging or dev: the environment it was judged as."""
    environment, origin = environment_of(stack, config, names, override)
    short = short_stack_name(stack)
    where = (f"set {ENVIRONMENT_KEY} (prod, staging or dev) in its stack config, Pulumi.{short}.yaml "
             "(audit: --stack-config), or pass --environment")
    if origin == "assumed":
        return (f"stack {stack}: judged as prod, the strictest environment: its name is none of the "
                f"environment_names of policies/dpa/settings.yaml; {where}")
    if origin == "stack name" and short.lower() not in ENVIRONMENTS:
        return f"stack {stack}: judged as {environment} (its name, by environment_names in policies/dpa/settings.yaml); {where}"
    return None
