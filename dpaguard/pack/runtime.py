"""The pack's decisions: the same stages as the CLI, with the state of one engine session, thread-safe.

The engine calls the analyzer from a pool of gRPC threads, concurrently. Everything shared (stack
context, config, what was already reported, the findings of the run) lives under one lock;
the evaluation itself runs outside it, each thread with its own policy engine (an embedded Rego
interpreter is not shared across threads), so answers do not depend on interleaving.

Analyze (one resource, before it is created) builds a deployment of that resource and its
provider and keeps the resource-level controls' findings for it. AnalyzeStack (every resource,
at the end) evaluates the whole stack and reports what the per-resource answers did not already
say: the stack-level controls, and anything seen only with the whole stack. The union of the two
is what `dpaguard check` decides for the same stack. Both evaluate through `pipeline.evaluate`, the
function the CLI calls, so the report (`result()`) is the document `dpaguard` writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from dpaguard import pipeline
from dpaguard.dpa_text import dpa_document_sha256
from dpaguard.model import Deployment, Finding, Result, Stage
from dpaguard.pack.context import PackConfig, StackContext
from dpaguard.pack.policies import PACK_POLICY, is_stack_control
from dpaguard.provenance import now_utc, utc_today
from dpaguard.environment import environment_of
from dpaguard.urn import parse_urn

MISSING_CONTEXT = (
    "stack identity unknown: the Pulumi engine did not call ConfigureStack, so dpaguard cannot tell "
    "the stack, its environment or its config; evaluated fail-closed as prod without config "
    "(use a Pulumi CLI that calls ConfigureStack on policy packs)"
)
ORIGIN = "pulumi engine (policy pack)"
# What ran, as the report's evidence says: the engine's resources stand where the CLI's render or state read stands.
STAGES = (Stage("pulumi-engine", True, "resources sent by the Pulumi engine to the policy pack"),
          Stage("checkov", False, "not run by the policy pack (repository files: dpaguard check)"))
NOT_WHOLE_STACK = "the engine has not sent the whole stack (AnalyzeStack) yet: stack-level controls not evaluated"

if TYPE_CHECKING:
    from dpaguard.engine.interface import Engine
    from dpaguard.policy import Policy

FindingKey = tuple[str, str, str, str, str]


def finding_key(finding: Finding) -> FindingKey:
    """What makes two findings the same report: control, URN, message, status, enforcement."""
    return (finding.control, finding.urn, finding.message, finding.status, finding.enforcement)


@dataclass
class _Run:
    """What one engine session has found so far."""

    resource_findings: dict[str, tuple[Finding, ...]] = field(default_factory=dict)  # URN -> Analyze findings
    reported: set[FindingKey] = field(default_factory=set)
    last: Result | None = None  # the latest evaluation's Result (Analyze's or AnalyzeStack's)
    whole_stack: Result | None = None  # AnalyzeStack's Result
    version: int = 0  # bumped whenever what the report shows changes


class PackRuntime:
    """Evaluates analyzer requests with dpaguard's stages; one per pack process."""

    def __init__(self, policy: Policy, *, today: dt.date | None = None) -> None:
        self.policy = policy
        self.controls = {c.id: c for c in policy.controls}
        self.stack_controls = frozenset(c.id for c in policy.controls if is_stack_control(c))
        self._today = today
        self._lock = threading.Lock()
        self._local = threading.local()
        self._context: StackContext | None = None
        self._config = PackConfig()
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
            levels: dict[str, str] = {cid: c.enforcement_for(environment) for cid, c in self.controls.items()}
            self._reported_levels = dict(levels)
            return levels

    def configure(self, levels: Mapping[str, str], config: PackConfig) -> None:
        """Record what Configure says: the pack's own config, and each policy's level as the engine reconciled it."""
        with self._lock:
            self._config = config
            self._configured = dict(levels)
            self._run = _Run()

    @property
    def context(self) -> StackContext | None:
        """The stack being analyzed, when the engine said."""
        with self._lock:
            return self._context

    def pack_policy_level(self) -> str:
        """The enforcement level of the pack's own policy (mandatory unless the user's config says otherwise)."""
        with self._lock:
            level = self._configured.get(PACK_POLICY, "mandatory")
        return "mandatory" if level == "remediate" else level

    # --- evaluation ----------------------------------------------------------------------------

    def _environment_locked(self) -> str:
        options = self._run_options_locked()
        context = self._context
        stack, config = (context.stack, context.config) if context is not None else ("", {})
        names = self.policy.data["settings"]["environment_names"]
        return environment_of(stack, config, names, options.environment_override)[0]

    def _enforcement_overrides_locked(self) -> dict[str, str]:
        # The engine echoes every policy's level in Configure, defaults included: a level that differs from
        # the one advertised is the user's (`enforcementLevel` or `all` in --policy-pack-config).
        overrides: dict[str, str] = {}
        for name, level in self._configured.items():
            if name in self.controls and self._reported_levels.get(name) not in (None, level):
                overrides[name] = "mandatory" if level == "remediate" else level
        overrides.update(self._config.enforcement)
        return overrides

    def _run_options_locked(self) -> pipeline.RunOptions:
        """The pack's config as the pipeline's run options: an unknown stack (no ConfigureStack) is evaluated as prod."""
        config = self._config
        return pipeline.RunOptions(
            policies_dir=Path(self.policy.root),
            opa_url=config.opa_url,
            opa_timeout=config.opa_timeout,
            today=self._today or utc_today(),
            environment_override=config.environment or (None if self._context is not None else "prod"),
            enforcement_overrides=self._enforcement_overrides_locked(),
            stack_settings=config.stack_settings(),
            # the DPA text the report's scope names, as the CLI finds it ($DPAGUARD_DPA, else beside the project)
            dpa_sha256=dpa_document_sha256(Path.cwd()),
        )

    def _engine(self, options: pipeline.RunOptions) -> Engine:
        """This thread's engine for the run's engine options (an embedded interpreter is not shared)."""
        key = (options.engine, options.opa_url, options.opa_timeout)
        cached = getattr(self._local, "engine", None)
        if cached is not None and cached[0] == key:
            engine: Engine = cached[1]
            return engine
        if cached is not None:
            cached[1].close()
        engine = pipeline.open_engine(self.policy, options)
        self._local.engine = (key, engine)
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

    def _evaluate(self, resources: Sequence[Mapping[str, Any]], *, partial: bool = False) -> Result:
        """Evaluate export resources as one stack through the CLI's evaluation.

        `partial`: the resources are only part of the stack (Analyze), so estate-wide facts are left out.
        """
        with self._lock:
            context = self._context
            options = self._run_options_locked()
        return pipeline.evaluate([self._deployment(resources, context)], self.policy, options,
                                 engine=self._engine(options), partial=partial, stages=STAGES)

    def analyze(self, resources: Sequence[Mapping[str, Any]], urn: str) -> tuple[Finding, ...]:
        """The resource-level findings of one resource (Analyze), remembered for the stack's answer and report."""
        result = self._evaluate(resources, partial=True)
        found = tuple(f for f in result.findings if f.urn == urn and f.control not in self.stack_controls)
        with self._lock:
            if found or urn not in self._run.resource_findings:
                self._run.version += 1
            self._run.resource_findings[urn] = found
            self._run.reported.update(finding_key(f) for f in found)
            self._run.last = result
        return found

    def analyze_stack(self, resources: Sequence[Mapping[str, Any]]) -> tuple[Finding, ...]:
        """The whole stack's findings that Analyze has not already reported (AnalyzeStack)."""
        result = self._evaluate(resources)
        with self._lock:
            fresh = tuple(f for f in result.findings if finding_key(f) not in self._run.reported)
            self._run.reported.update(finding_key(f) for f in fresh)
            self._run.whole_stack = self._run.last = result
            self._run.version += 1
        return fresh

    def report_version(self) -> tuple[int, int]:
        """Changes whenever the run's report would: (run identity, version within the run)."""
        with self._lock:
            return id(self._run), self._run.version

    # --- the run's report ----------------------------------------------------------------------

    def result(self) -> Result:
        """The run so far as the Result `dpaguard check` would build: what `--format json` renders.

        After AnalyzeStack it is that evaluation's Result, with the findings Analyze alone saw added;
        before, the latest Analyze's, with every resource's findings so far and nothing the whole stack decides.
        """
        with self._lock:
            context = self._context
            run = self._run
            findings: dict[FindingKey, Finding] = {}
            for found in run.resource_findings.values():
                for f in found:
                    findings.setdefault(finding_key(f), f)
            for f in run.whole_stack.findings if run.whole_stack else ():
                findings.setdefault(finding_key(f), f)
            base = run.whole_stack or run.last
            analyzed = len(run.resource_findings)
        if base is None:  # nothing analyzed yet: the stack as ConfigureStack named it, no findings
            with self._lock:
                options = self._run_options_locked()
            base = pipeline.evaluate([self._deployment((), context)], self.policy, options,
                                     engine=self._engine(options), stages=STAGES)
        extra: tuple[str, ...] = () if context else (MISSING_CONTEXT,)
        changes: dict[str, Any] = {}
        if run.whole_stack is None:
            extra += (NOT_WHOLE_STACK,)
            # What the whole stack decides (coverage, inventory, the deployment's digest) is not known yet.
            stacks = tuple(dataclasses.replace(s, resources=analyzed, deployment_sha256=None) for s in base.stacks)
            changes = {"stacks": stacks, "coverage": {}, "usage": ()}
        return dataclasses.replace(
            base, findings=tuple(sorted(findings.values(), key=Finding.sort_key)), notices=(*base.notices, *extra),
            generated_at=now_utc(), **changes,
        )


__all__ = ["PackRuntime", "MISSING_CONTEXT", "finding_key"]
