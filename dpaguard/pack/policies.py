"""The catalogue's controls as CrossGuard policies, named by control id.

A control that judges resources (its `applies_to` names resource types) is a
ResourceValidationPolicy: the engine asks it about each resource before the resource is created,
so `pulumi up` stops there. A control of the whole stack (`applies_to: [stack]`: sub-processor
notice, retention settings, config secrets, waivers, projects shared between stacks) is a
StackValidationPolicy, asked once with every resource at the end of the preview or update. A
resource-level finding that only shows with the whole stack (a reference to another resource)
is reported then too, under its own control: nothing the CLI finds is left out.

Policies here carry metadata only: decisions are made by the analyzer (analyzer.py) through the
same stages as the CLI, from the protobuf request, so their `validate` is never called.
"""

from __future__ import annotations

from typing import Any, Iterable, NoReturn

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from dpaguard.model import Control
from dpaguard.pack.context import PACK_CONFIG_SCHEMA

PACK_NAME = "dpaguard"
# The pack's own policy: carries the pack's config and reports a run it cannot place (fail closed).
PACK_POLICY = "dpaguard"
FRAMEWORK = PolicyComplianceFramework(name="GDPR DPA", reference="shared/dpa/data-processing-agreement.txt")
LEVEL = {
    "mandatory": EnforcementLevel.MANDATORY,
    "advisory": EnforcementLevel.ADVISORY,
    "disabled": EnforcementLevel.DISABLED,
}
SEVERITY = {"critical": Severity.CRITICAL, "high": Severity.HIGH, "medium": Severity.MEDIUM, "low": Severity.LOW}


def is_deploy_time(control: Control) -> bool:
    """Whether the engine's resources can decide a control (not the checkov controls of repository files)."""
    return any(kind != "file" for kind in control.applies_to) or not control.applies_to


def is_stack_control(control: Control) -> bool:
    """Whether a control judges the whole stack (a StackValidationPolicy) rather than each resource."""
    return "stack" in control.applies_to


def describe(control: Control) -> str:
    """A policy's description: the control's title and description, its DPA clause and severity."""
    text = control.title if control.description.startswith(control.title) else f"{control.title}: {control.description}"
    return f"{text.rstrip('.')}. (DPA {control.clause}; severity {control.severity})"


def _not_called(*_: Any) -> NoReturn:
    raise RuntimeError("dpaguard policies are decided by the dpaguard analyzer, not by pulumi_policy's validate")


def _policy_options(control: Control, enforcement: str) -> dict[str, Any]:
    """What CrossGuard shows of a control, the same for resource and stack policies."""
    return {
        "enforcement_level": LEVEL[enforcement],
        "display_name": control.title,
        "severity": SEVERITY.get(control.severity),
        "framework": FRAMEWORK,
        "tags": [control.category],
        "remediation_steps": control.help or None,
    }


class ControlResourcePolicy(ResourceValidationPolicy):
    """A resource-level control of the catalogue."""

    def __init__(self, control: Control, enforcement: str) -> None:
        super().__init__(control.id, describe(control), **_policy_options(control, enforcement))
        self.control = control

    def validate(self, args: Any, report_violation: Any) -> NoReturn:
        """Never called: the analyzer decides from the protobuf request."""
        _not_called(args, report_violation)


class ControlStackPolicy(StackValidationPolicy):
    """A control of the catalogue that needs the whole stack."""

    def __init__(self, control: Control, enforcement: str) -> None:
        super().__init__(control.id, describe(control), **_policy_options(control, enforcement))
        self.control = control

    def validate(self, args: Any, report_violation: Any) -> NoReturn:
        """Never called: the analyzer decides from the protobuf request."""
        _not_called(args, report_violation)


class PackPolicy(ResourceValidationPolicy):
    """The pack's own policy: its config is the pack's config; it reports a run without stack identity."""

    def __init__(self) -> None:
        super().__init__(
            PACK_POLICY,
            "dpaguard needs the stack's identity and config from the Pulumi engine (ConfigureStack); "
            "without them every resource is reported, never passed. Its config holds the pack's settings.",
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(properties=PACK_CONFIG_SCHEMA),
            display_name="dpaguard stack context and settings",
            severity=Severity.CRITICAL,
            framework=FRAMEWORK,
            tags=["fail-closed"],
        )

    def validate(self, args: Any, report_violation: Any) -> NoReturn:
        """Never called: the analyzer decides from the protobuf request."""
        _not_called(args, report_violation)


def control_policies(controls: Iterable[Control], environment: str = "prod") -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """One policy per control decidable at deploy time, at the control's enforcement level in `environment`.

    Controls about repository files (`applies_to: [file]`, found by checkov in `dpaguard check`) are
    left out: the engine sends resources, never files, so such a policy could only ever pass.
    """
    policies: list[ResourceValidationPolicy | StackValidationPolicy] = []
    for control in controls:
        if not is_deploy_time(control):
            continue
        level = control.enforcement_for(environment)
        policies.append(ControlStackPolicy(control, level) if is_stack_control(control) else ControlResourcePolicy(control, level))
    return policies
