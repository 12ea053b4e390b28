"""The pack's decisions: the same stages as the CLI, with the state of one engine session, thread-safe.

The engine calls the analyzer from a pool of gRPC threads, concurrently. Everything shared (stack
context, settings, what was already reported, the findings of the run) lives under one lock;
the evaluation itself runs outside it, each thread with its own policy engine (an embedded Rego
interpreter is not shared across threads), so answers do not depend on interleaving.

Analyze (one resource, before it is created) builds a deployment of that resource and its
provider and keeps the resource-level controls' findings for it. AnalyzeStack (every resource,
at the end) evaluates the whole stack and reports what the per-resource answers did not already
say: the stack-level controls, and anything seen only with the whole stack. The union of the two
is what `dpaguard check` decides for the same stack.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from dpaguard import __version__
from dpaguard.model import Deployment, Finding, Result, StackSummary
from dpaguard.pack.context import PackSettings, StackContext
from dpaguard.pack.policies import SETTINGS_POLICY, is_stack_control
from dpaguard.source.state import parse_urn

MISSING_CONTEXT = (
    "stack identity unknown: the Pulumi engine did not call ConfigureStack, so dpaguard cannot tell "
    "the stack, its environment or its config; evaluated fail-closed as prod without config "
    "(use a Pulumi CLI that calls ConfigureStack on policy packs)"
)
ORIGIN = "pulumi engine (policy pack)"

FindingKey = tuple[str, str, str, str, str]


def finding_key(finding: Finding) -> FindingKey:
    """What makes two findings the same report: control, URN, message, status, enforcement."""
    return (finding.control, finding.urn, finding.message, finding.status, finding.enforcement)


@dataclass
class _Run:
    """What one engine session has found so far."""

    resource_findings: dict[str, tuple[Finding, ...]] = field(default_factory=dict)  # URN -> Analyze findings
    reported: set[FindingKey] = field(default_factory=set)
    stack_findings: tuple[Finding, ...] | None = None
    stack_coverage: Mapping[tuple[str, str], int] = field(default_factory=dict)
    stack_resources: int = 0
    version: int = 0  # bumped whenever what the report shows changes


class PackRuntime:
    """Evaluates analyzer requests with dpaguard's stages; one per pack process."""

    def __init__(self, policy: Any, *, today: dt.date | None = None) -> None:
        self.policy = policy
        self.controls = {c.id: c for c in policy.controls}
        self.stack_controls = frozenset(c.id for c in policy.controls if is_stack_control(c))
        self._today = today
        self._lock = threading.Lock()
        self._local = threading.local()
        # The engine that answered last and what every report must say of it (a fallback).
        self._engine_said: tuple[str, tuple[str, ...]] = ("", ())
        self._context: StackContext | None = None
        self._settings = PackSettings()
        self._configured: dict[str, str] = {}
        self._reported_levels: dict[str, str] = {}
        self._run = _Run()

    # --- what the engine tells the pack ---------------------------------------------------------

    def configure_stack(self, context: StackContext) -> None:
        """Record the stack being analyzed (ConfigureStack); a new stack starts a new run."""
        with self._lock:
            self._context = context
            self._run = _Run()

    def advertised_levels(self) -> dict[str, str]:
        """The enforcement level of each control for GetAnalyzerInfo: the catalogue's, in the stack's environment."""
        with self._lock:
            environment = self._environment_locked()
            levels = {cid: c.enforcement_for(environment) for cid, c in self.controls.items()}
            self._reported_levels = dict(levels)
            return levels

    def configure(self, levels: Mapping[str, str], settings: PackSettings) -> None:
        """Record the pack config (Configure): settings, and each policy's level as the engine reconciled it."""
        with self._lock:
            self._settings = settings
            self._configured = dict(levels)
            self._run = _Run()

    @property
    def settings(self) -> PackSettings:
        """The pack's current settings."""
        with self._lock:
            return self._settings

    @property
    def context(self) -> StackContext | None:
        """The stack being analyzed, when the engine said."""
        with self._lock:
            return self._context

    def settings_level(self) -> str:
        """The enforcement level of the pack's own policy (mandatory unless the user's config says otherwise)."""
        with self._lock:
            level = self._configured.get(SETTINGS_POLICY, "mandatory")
        return "mandatory" if level == "remediate" else level

    # --- evaluation ----------------------------------------------------------------------------

    def _environment_locked(self) -> str:
        from dpaguard.normalise import environment_of

        if self._context is None:
            return self._settings.environment or "prod"
        # The CLI's rule: the override, else `dpaguard:environment`, else the stack's name, else prod.
        names = self.policy.data["settings"]["environment_names"]
        return environment_of(self._deployment((), self._context), names, self._settings.environment)[0]

    def _enforcement_overrides_locked(self) -> dict[str, str]:
        # The engine echoes every policy's level in Configure, defaults included: a level that differs from
        # the one advertised is the user's (`enforcementLevel` or `all` in --policy-pack-config).
        overrides: dict[str, str] = {}
        for name, level in self._configured.items():
            if name in self.controls and self._reported_levels.get(name) not in (None, level):
                overrides[name] = "mandatory" if level == "remediate" else level
        overrides.update(self._settings.enforcement)
        return overrides

    def _engine(self, settings: PackSettings) -> Any:
        from dpaguard.engine import create_engine

        key = (settings.opa_url, settings.opa_timeout)
        cached = getattr(self._local, "engine", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        if cached is not None:
            cached[1].close()
        engine = create_engine(self.policy, opa_url=settings.opa_url, opa_timeout=settings.opa_timeout)
        self._local.engine = (key, engine)
        with self._lock:
            self._engine_said = (engine.name, tuple(engine.notices))
        return engine

    def _deployment(self, resources: Sequence[Mapping[str, Any]], context: StackContext | None) -> Deployment:
        if context is not None:
            stack, project, config, secret_keys = context.stack, context.project, context.config, context.secret_keys
        else:
            parsed = next((p for p in (parse_urn(str(r.get("urn"))) for r in resources) if p), None)
            stack, project = (parsed[0], parsed[1]) if parsed else ("unknown", "unknown")
            config, secret_keys = {}, frozenset()
        return Deployment(
            stack=stack,
            project=project,
            source="program",
            resources=tuple(resources),
            config=config,
            secret_config_keys=secret_keys,
            origin=ORIGIN,
        )

    def evaluate(self, resources: Sequence[Mapping[str, Any]], *, partial: bool = False) -> tuple[Deployment, Any]:
        """Evaluate export resources as one stack, like the CLI: (the deployment, the Evaluation).

        `partial`: the resources are only part of the stack (Analyze), so estate-wide facts are left out.
        """
        from dpaguard.findings import evaluate

        with self._lock:
            context = self._context
            settings = self._settings
            environment_override = settings.environment or (None if context is not None else "prod")
            overrides = self._enforcement_overrides_locked()
        deployment = self._deployment(resources, context)
        evaluation = evaluate(
            [deployment],
            self.policy,
            self._engine(settings),
            today=self._today or dt.date.today(),
            environment_override=environment_override,
            enforcement_overrides=overrides,
            settings_overrides=settings.settings_overrides(),
            partial=partial,
        )
        return deployment, evaluation

    def analyze(self, resources: Sequence[Mapping[str, Any]], urn: str) -> tuple[Finding, ...]:
        """The resource-level findings of one resource (Analyze), remembered for the stack's answer and report."""
        _, evaluation = self.evaluate(resources, partial=True)
        found = tuple(
            f for f in evaluation.findings if f.urn == urn and f.control not in self.stack_controls
        )
        with self._lock:
            if found or urn not in self._run.resource_findings:
                self._run.version += 1
            self._run.resource_findings[urn] = found
            self._run.reported.update(finding_key(f) for f in found)
        return found

    def analyze_stack(self, resources: Sequence[Mapping[str, Any]]) -> tuple[Finding, ...]:
        """The whole stack's findings that Analyze has not already reported (AnalyzeStack)."""
        deployment, evaluation = self.evaluate(resources)
        with self._lock:
            fresh = tuple(f for f in evaluation.findings if finding_key(f) not in self._run.reported)
            self._run.reported.update(finding_key(f) for f in fresh)
            self._run.stack_findings = tuple(evaluation.findings)
            self._run.stack_coverage = dict(evaluation.coverage)
            self._run.stack_resources = len(deployment.resources)
            self._run.version += 1
        return fresh

    def report_version(self) -> tuple[int, int]:
        """Changes whenever the run's report would: (run identity, version within the run)."""
        with self._lock:
            return id(self._run), self._run.version

    # --- the run's report ----------------------------------------------------------------------

    def result(self) -> Result:
        """The run so far as the Result `dpaguard check` would build: what `--format json` renders."""
        with self._lock:
            context = self._context
            environment = self._environment_locked()
            run = self._run
            findings: dict[FindingKey, Finding] = {}
            for found in run.resource_findings.values():
                for f in found:
                    findings.setdefault(finding_key(f), f)
            for f in run.stack_findings or ():
                findings.setdefault(finding_key(f), f)
            resources = run.stack_resources or len(run.resource_findings)
            coverage = dict(run.stack_coverage)
        stack = context.stack if context else next((f.stack for f in findings.values()), "unknown")
        project = context.project if context else "unknown"
        notices: tuple[str, ...] = () if context else (MISSING_CONTEXT,)
        if run.stack_findings is None:
            notices += ("the engine has not sent the whole stack (AnalyzeStack) yet: stack-level controls not evaluated",)
        with self._lock:
            engine_name, engine_notices = self._engine_said
        notices = (*engine_notices, *notices)
        return Result(
            tool_version=__version__,
            policy_sha256=self.policy.sha256,
            stacks=(
                StackSummary(
                    name=stack,
                    project=project,
                    environment=environment,
                    source="program",
                    resources=resources,
                    origin=ORIGIN,
                ),
            ),
            controls=tuple(self.policy.controls),
            findings=tuple(sorted(findings.values(), key=Finding.sort_key)),
            coverage=coverage,
            generated_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
            notices=notices,
            engine=engine_name,
        )


__all__ = ["PackRuntime", "MISSING_CONTEXT", "finding_key"]
