"""One run of the gate, stage after stage: sources -> evaluate (with waivers) -> checkov -> Result.

The CLI decides what to run and writes what comes out; this module only calls the stages in
order and joins their answers. `evaluate` is the one evaluation both the CLI and the policy pack
call (the engine's life, each stack's environment, the Result), so their reports agree by
construction. Stacks render concurrently: `render_stack` runs each program in
a process of its own, so a thread per stack is enough to keep both cores busy, and the checkov
scan (a subprocess too) runs alongside the renders.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

from dpaguard import __version__
from dpaguard.engine.interface import EngineError
from dpaguard.errors import DpaguardError, InputError, PolicyError, UsageError
from dpaguard.environment import environment_notice
from dpaguard.model import LEVELS, Decision, Deployment, Finding, Result, Stage, StackSummary
from dpaguard.policy import SHIPPED_POLICIES
from dpaguard.provenance import deployment_digest, now_utc, shown_path, tool_versions, utc_today
from dpaguard.source.pairing import load_states
from dpaguard.urn import short_stack_name

if TYPE_CHECKING:
    from dpaguard.engine.interface import Engine
    from dpaguard.findings import Evaluation
    from dpaguard.policy import Policy
    from dpaguard.ratchet import Baseline


# progress(stack, event, detail): event is "start", "done" (detail: "<n> resources, <s>s") or "failed";
# the checkov scan running alongside reports as the stack CHECKOV_TASK.
CHECKOV_TASK = "checkov"
Progress = Callable[[str, str, str], None]


@dataclass(frozen=True)
class RunOptions:
    """How to evaluate: the policies, the engine, the day waivers expire against, the run's identity."""

    policies_dir: Path
    engine: str | None = None  # None: the default engine (OPA, regopy where OPA cannot load)
    opa_url: str | None = None
    opa_timeout: float = 10.0
    today: dt.date = field(default_factory=utc_today)
    environment_override: str | None = None
    # control id -> mandatory|advisory|disabled, over the catalogue's level (the pack's config)
    enforcement_overrides: Mapping[str, str] = field(default_factory=dict)
    # normaliser settings over the stack's own (the pack's config: minBackupRetentionDays)
    stack_settings: Mapping[str, Any] = field(default_factory=dict)
    generated_at: str = field(default_factory=now_utc)
    git_commit: str | None = None
    git_dirty: bool | None = None  # the work tree differs from git_commit (None: not a git work tree)
    git_diff_sha256: str | None = None  # what differs, digested (see git_worktree)
    baseline: Baseline | None = None  # an earlier report the run is compared with (Article 5.1)
    dpa_sha256: str | None = None  # sha256 of the DPA text (dpa_document_sha256), None when not found


@dataclass(frozen=True)
class CheckovOptions:
    """Whether and how to run the checkov stage of `check`."""

    enabled: bool = True
    required: bool = False
    skip_checks: tuple[str, ...] = ()


def default_policies_dir(project_dir: Path) -> Path:
    """`<project>/policies` when it exists, else the policies shipped with dpaguard."""
    own = project_dir / "policies"
    return own if own.is_dir() else SHIPPED_POLICIES


def resolve_stacks(project_dir: Path, requested: Sequence[str], all_stacks: bool) -> list[str]:
    """The stacks to check: the ones named (each must exist), or every stack of the project."""
    from dpaguard.source.project import known_stacks, load_project

    project = load_project(project_dir)
    known = list(project.stacks)
    if all_stacks:
        if not known:
            raise InputError(f"{project.stack_config_dir}: no stack config files (stacks of {project.name}: {known_stacks(project)})")
        return known
    if not requested:
        if len(known) == 1:
            return known
        raise UsageError(
            f"name a stack with --stack or use --all-stacks (stacks of {project.name}: {known_stacks(project)})"
        )
    chosen: list[str] = []
    for stack in requested:
        if short_stack_name(stack) not in known:
            raise UsageError(f"unknown stack '{stack}' (stacks of {project.name}: {known_stacks(project)})")
        if stack not in chosen:
            chosen.append(stack)
    return chosen


def render_stacks(
    project_dir: Path, stacks: Sequence[str], *, timeout: float, progress: Progress | None = None,
    side_task: Callable[[], Any] | None = None, lookups: Sequence[Any] = (),
) -> tuple[list[Deployment], Any]:
    """Render every stack concurrently (and run `side_task` alongside); deployments in the order asked.

    `lookups`: the answers `--lookups` gives the programs' lookups (dpaguard.source.lookups).
    """
    from dpaguard.source.program import render_stack

    def tracked(task: str, work: Callable[[], Any], describe: Callable[[Any], str]) -> Any:
        started = time.monotonic()
        if progress:
            progress(task, "start", "")
        try:
            answer = work()
        except BaseException:
            if progress:
                progress(task, "failed", "")
            raise
        if progress:
            progress(task, "done", describe(answer) + f"{time.monotonic() - started:.1f}s")
        return answer

    def one(stack: str) -> Deployment:
        deployment: Deployment = tracked(
            stack,
            lambda: render_stack(project_dir, stack, timeout=timeout, lookups=lookups),
            lambda d: f"{len(d.resources)} resources, ",
        )
        return deployment

    def side() -> Any:
        assert side_task is not None
        return tracked(CHECKOV_TASK, side_task, lambda _: "")

    workers = max(1, min(len(stacks), 2 * (os.cpu_count() or 2))) + (1 if side_task else 0)
    from dpaguard import contain

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dpaguard-render") as pool:
            side_future: Future[Any] | None = pool.submit(side) if side_task else None
            futures = [pool.submit(one, stack) for stack in stacks]
            try:
                deployments = [future.result() for future in futures]
                side_answer = side_future.result() if side_future else None
            except BaseException:
                # A failed stack, SIGINT or SIGTERM: the other programs and checkov stop now, not at their
                # time limit, and so does one whose process was being started at this moment.
                for future in futures:
                    future.cancel()
                contain.stop_all()
                raise
    finally:
        contain.resume()  # the pool's threads have ended: an in-process caller may render again
    return deployments, side_answer


def load_policy(policies_dir: Path) -> Policy:
    """The policy set of `policies_dir` (catalogue, DPA tables, Rego, waivers); errors say "load policies"."""
    from dpaguard.policy import load_policy as load

    try:
        return load(policies_dir)
    except DpaguardError as error:
        raise error.wrap("load policies") from None


def open_engine(policy: Policy, options: RunOptions) -> Engine:
    """The policy engine the run's options ask for (close it when done, or use `engine_session`)."""
    from dpaguard.engine import create_engine

    return create_engine(policy, engine=options.engine, opa_url=options.opa_url, opa_timeout=options.opa_timeout)


@contextmanager
def engine_session(policy: Policy, options: RunOptions) -> Iterator[Engine]:
    """An engine for the length of a `with` block, closed however the block ends."""
    engine = open_engine(policy, options)
    try:
        yield engine
    finally:
        engine.close()


def evaluate(
    deployments: Sequence[Deployment], policy: Policy, options: RunOptions, *, engine: Engine | None = None,
    partial: bool = False, extra_decisions: Sequence[Decision] = (), notices: Sequence[str] = (),
    stages: Sequence[Stage] = (), checkov_version: str | None = None, files_examined: Mapping[str, int] | None = None,
) -> Result:
    """Evaluate every control over the deployments together and assemble the run's Result.

    With `engine` the caller keeps the engine's life (the pack reuses one per thread); without, one
    lives for this call. `partial`: the deployments hold only part of their stacks (the pack's Analyze).
    `extra_decisions`: the decisions of the checks outside the engine (checkov's, the credential scan's).
    """
    if engine is None:
        with engine_session(policy, options) as own:
            return evaluate(deployments, policy, options, engine=own, partial=partial, extra_decisions=extra_decisions,
                            notices=notices, stages=stages, checkov_version=checkov_version,
                            files_examined=files_examined)
    evaluation = run_stages(
        deployments, policy, engine, today=options.today, environment_override=options.environment_override,
        enforcement_overrides=options.enforcement_overrides, stack_settings=options.stack_settings,
        partial=partial,
    )
    from dpaguard.source.lookups import annotate_findings

    # a finding resting on a lookup that answered nothing offline says so (issue 21 §3)
    evaluation = dataclasses.replace(evaluation, findings=annotate_findings(evaluation.findings, deployments))
    names = policy.data.get("settings", {}).get("environment_names", {})
    said = (environment_notice(d.stack, d.config, names, options.environment_override) for d in deployments)
    # a project's notice (the interpreter its program ran under) is said once, not once per stack
    every = dict.fromkeys((*engine.notices, *(n for d in deployments for n in d.notices), *(n for n in said if n), *notices))
    return assemble(deployments, evaluation, policy, options, engine_name=engine.name,
                    notices=tuple(every), extra_decisions=extra_decisions, stages=stages,
                    checkov_version=checkov_version, files_examined=files_examined)


def run_stages(
    deployments: Sequence[Deployment],
    policy: Policy,
    engine: Engine,
    *,
    today: dt.date,
    environment_override: str | None = None,
    enforcement_overrides: Mapping[str, str] | None = None,
    stack_settings: Mapping[str, Any] | None = None,
    partial: bool = False,
) -> Evaluation:
    """deployments -> facts (normalise) -> decisions (engine) -> findings and coverage: the stages, in order.

    `partial` marks deployments that hold only part of their stacks (see `normalise`).
    """
    from dpaguard.findings import findings_of
    from dpaguard.normalise import normalise
    from dpaguard.policy.waivers import check_governance

    for control_id, level in (enforcement_overrides or {}).items():
        policy.control(control_id)
        if level not in LEVELS:
            raise PolicyError(f"enforcement override for {control_id}: `{level}` is not mandatory, advisory or disabled")
    # Workers the engine needs start while the facts are normalised.
    engine.prepare(sum(len(d.resources) for d in deployments))
    facts = normalise(deployments, policy.data, today=today, environment_override=environment_override,
                      stack_settings=stack_settings, partial=partial)
    decisions = engine.decide(facts)
    if not isinstance(decisions, list):
        raise EngineError(f"{engine.name} engine returned {type(decisions).__name__}, not a list of decisions")
    evaluation = findings_of(facts, decisions, policy, today=today, enforcement_overrides=enforcement_overrides)
    # A prod waiver of a mandatory control that lacks what a DPO signs for is refused (exit 2), not a finding.
    check_governance(policy.waivers, policy.waiver_findings, policy.waiver_lines, policy.controls,
                     evaluation.environments, today=today, overrides=enforcement_overrides)
    return evaluation


def assemble(
    deployments: Sequence[Deployment], evaluation: Evaluation, policy: Policy, options: RunOptions, *,
    engine_name: str, notices: Sequence[str] = (), extra_decisions: Sequence[Decision] = (),
    stages: Sequence[Stage] = (), checkov_version: str | None = None, files_examined: Mapping[str, int] | None = None,
) -> Result:
    """The run's Result from an evaluation: each stack with the environment it was evaluated as, the inventory, the ratchet."""
    from dpaguard.inventory import register

    stacks = tuple(
        StackSummary(
            name=d.stack, project=d.project, environment=evaluation.environments[d.stack],
            source=d.source, resources=len(d.resources), origin=d.origin, config_file=d.config_file,
            config_sha256=d.config_sha256, deployment_sha256=deployment_digest(d),
            state_time=d.state_manifest.get("time"), state_version=d.state_manifest.get("version"),
        )
        for d in deployments
    )
    processors, sites = register(policy.data)
    found = tuple(evaluation.findings) + _findings(evaluation, extra_decisions)
    about_dpa = {c.id for c in policy.controls if c.about == "dpa"}
    result = Result(
        tool_version=__version__,
        policy_sha256=policy.sha256,
        stacks=stacks,
        controls=tuple(policy.controls),
        findings=tuple(f for f in found if f.control not in about_dpa),
        register_findings=tuple(f for f in found if f.control in about_dpa),
        coverage=_file_coverage(evaluation.coverage, policy.controls, stacks, files_examined or {}),
        generated_at=options.generated_at,
        git_commit=options.git_commit,
        today=options.today,
        notices=tuple(notices),
        engine=engine_name,
        clauses=tuple(policy.clauses),
        french=policy.french,
        usage=tuple(evaluation.usage),
        subprocessors=processors,
        hosting_sites=sites,
        stages=(*stages, Stage("rego", True, engine_name)),
        git_dirty=options.git_dirty,
        git_diff_sha256=options.git_diff_sha256,
        versions=tool_versions(checkov_version, deployments),
        examined=dict(evaluation.examined),
        dpa_sha256=options.dpa_sha256,
        waivers=tuple(policy.waivers),
    )
    return _with_ratchet(result, evaluation, policy, options)


def _findings(evaluation: Evaluation, decisions: Sequence[Decision]) -> tuple[Finding, ...]:
    """The findings of decisions taken outside the engine, made as the engine's are (dpaguard.findings)."""
    return tuple(sorted(evaluation.judge.findings(decisions), key=Finding.sort_key))


def _file_coverage(
    coverage: Mapping[tuple[str, str], int], controls: Sequence[Any], stacks: Sequence[StackSummary],
    files: Mapping[str, int],
) -> dict[tuple[str, str], int]:
    """Coverage with the checkov-derived controls (applies_to "file") examining the files checkov read for them.

    Every stack is deployed from the repository checkov read, so each stack's file controls examined
    those files (a Dockerfile control, the Dockerfiles: none, nothing examined); without a scan they
    examined nothing, and their clauses are "not examined".
    """
    answer = dict(coverage)
    for control in controls:
        if "file" in control.applies_to and str(control.id) in files:
            for stack in stacks:
                answer[(str(control.id), stack.name)] = files[str(control.id)]
    return answer


def _with_register_removals(result: Result, evaluation: Evaluation, policy: Policy, options: RunOptions) -> Result:
    """The result with DPA-SUB-007's register findings: sub-processors removed from Appendix B (Article 4.3)."""
    from dpaguard.normalise.calendar import working_days_between
    from dpaguard.ratchet import REMOVAL, removals

    if not any(c.id == REMOVAL for c in result.controls):
        return result
    register = policy.data["subprocessors"]
    decided = removals(options.baseline, result, register.get("removed", ()),
                       notice_days=int(policy.data["settings"]["subprocessor_notice_working_days"]),
                       working_days=working_days_between)
    # what it judged: each recorded removal, and with a baseline each entry of the register it had
    baseline_register = options.baseline.register if options.baseline is not None else None
    examined = len(register.get("removed", ())) + len(baseline_register or ())
    coverage = dict(result.coverage)
    for stack in result.stacks:
        coverage[(REMOVAL, stack.name)] = examined
    return dataclasses.replace(result, coverage=coverage,
                               register_findings=result.register_findings + tuple(evaluation.judge.findings(decided)))


def _with_ratchet(result: Result, evaluation: Evaluation, policy: Policy, options: RunOptions) -> Result:
    """The result with the findings of DPA-RAT-001 against the baseline; without one it examined nothing."""
    from dpaguard.ratchet import RATCHET, ratchet

    result = _with_register_removals(result, evaluation, policy, options)

    if not any(c.id == RATCHET for c in result.controls):
        return result
    coverage = dict(result.coverage)
    if options.baseline is None:
        for stack in result.stacks:
            coverage[(RATCHET, stack.name)] = 0
        return dataclasses.replace(result, coverage=coverage,
                                   stages=(*result.stages, Stage("baseline", False, "no --baseline")))
    from dpaguard.ratchet import changes

    decided, compared = ratchet(options.baseline, result, result.controls, retired=policy.retired)
    coverage.update(compared)
    shown = shown_path(options.baseline.path) or ""
    return dataclasses.replace(
        result, findings=result.findings + tuple(evaluation.judge.findings(decided)), coverage=coverage,
        stages=(*result.stages, Stage("baseline", True, shown)),
        changes=changes(options.baseline, result, shown),
    )


@dataclass(frozen=True)
class TreeCapture:
    """What `check` reads from the project's files, read before any program runs (issue 24, M1)."""

    credentials: tuple[list[Any], int]  # credentials.scan_files: the credentials found, the files read


def capture_tree(project_dir: Path) -> TreeCapture:
    """Read what the run needs from the project's files before its programs start.

    A program sees the tree read-only (dpaguard.contain), so this is a second line: where the program
    ran without the namespaces (DPAGUARD_ALLOW_UNCONTAINED), it still cannot delete a key file before the
    scan reads it. The git state (run_options) and the policies with their waivers (load_policy) are read
    before the render too; checkov reads the tree alongside the renders, through the view they cannot write.
    """
    from dpaguard.source import credentials

    return TreeCapture(credentials=credentials.scan_files(project_dir))


def run_check(
    project_dir: Path, stacks: Sequence[str], options: RunOptions, checkov: CheckovOptions, *,
    timeout: float = 120.0, progress: Progress | None = None, lookups: Sequence[Any] = (),
) -> Result:
    """`dpaguard check`: render the stacks (checkov alongside), evaluate them together (`lookups`: `--lookups`)."""
    policy_ready: Future[Policy] = Future()
    if _within(options.policies_dir, project_dir):
        # The project's own policies and waivers are read before any of its programs runs (issue 24, M1).
        policy_ready.set_result(load_policy(options.policies_dir))
    scan: Callable[[], Any] | None = None
    if checkov.enabled:
        from dpaguard.checkov import scan as checkov_scan

        def scan() -> Any:
            return checkov_scan(project_dir, policy_ready.result(), skip_checks=checkov.skip_checks,
                                required=checkov.required)

    tree = capture_tree(project_dir)
    from dpaguard import contain

    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dpaguard-renders") as pool:
            rendering = pool.submit(render_stacks, project_dir, stacks, timeout=timeout, progress=progress, side_task=scan,
                                    lookups=lookups)
            try:
                if not policy_ready.done():
                    _prepare_alongside(policy_ready, options.policies_dir)
                deployments, scanned = rendering.result()
            except BaseException:
                # SIGINT or SIGTERM reach this thread, not the renders': their programs stop now, not at
                # their time limit, since the pool's exit waits for the renders.
                contain.stop_all()
                raise
    finally:
        contain.resume()  # whichever thread stopped the commands, an in-process caller may render again
    from dpaguard.source import bytecode

    bytecode.start_queued()  # the programs' bytecode compiles beside the rest of the run (the CLI waits for it)
    policy = policy_ready.result()
    extra: tuple[Decision, ...] = ()
    notices: tuple[str, ...] = ()
    stages = [Stage("render", True, f"{len(deployments)} stack(s) rendered offline from the program")]
    version: str | None = None
    files: Mapping[str, int] = {}
    if scanned is not None:
        extra, notices = tuple(scanned.decisions), tuple(scanned.notices)
        version = getattr(scanned, "version", "") or None
        files = dict(getattr(scanned, "examined", {})) if scanned.ran else {}
        detail = (f"checkov {version}" if version else "checkov") + f", {getattr(scanned, 'files', 0)} file(s) scanned"
        stages.append(Stage("checkov", bool(scanned.ran), detail if scanned.ran else "; ".join(scanned.notices)))
    else:
        stages.append(Stage("checkov", False, "skipped (--no-checkov)"))
    from dpaguard.source import credentials

    written, read = credentials.file_decisions(project_dir, policy, scanned=tree.credentials)
    extra, files = (*extra, *written), {**files, credentials.CONTROL: read}
    stages.append(Stage("credentials", True, f"{read} project file(s) read for Scaleway and DataPacket credentials"))
    return evaluate(deployments, policy, options, extra_decisions=extra, notices=notices, stages=stages,
                    checkov_version=version, files_examined=files)


def _within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _policy_and_types(policies_dir: Path) -> Policy:
    """The policy of `policies_dir`, and the provider's type scan the normaliser needs, cached."""
    policy = load_policy(policies_dir)
    from dpaguard.deployment.types import scaleway_types

    scaleway_types()
    return policy


def _prepare_alongside(policy_ready: Future[Policy], policies_dir: Path) -> None:
    """Load dpaguard's shipped policies, which no program can change, while the programs run (issue 21 §7).

    The renders wait on their child processes, so on two cores the policy's parsing and compiling and
    the provider's type scan the normaliser needs cost no time of their own. A policy that cannot load
    fails the checkov scan waiting for it too (the caller stops the programs).
    """
    try:
        policy_ready.set_result(_policy_and_types(policies_dir))
    except BaseException as error:
        if not policy_ready.done():
            policy_ready.set_exception(error)
        raise


def run_audit(states: Sequence[Path], stack_configs: Sequence[Path], options: RunOptions) -> Result:
    """`dpaguard audit`: read the stack exports, evaluate them together.

    The policy loads in a thread while the exports are read: OPA's compile runs without the GIL, on the
    other core. An export that cannot be read is still the error said, as when the policy loaded after it.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dpaguard-policy") as pool:
        loading = pool.submit(_policy_and_types, options.policies_dir)
        deployments = load_states(states, stack_configs)
        policy = loading.result()
    stages = (Stage("state", True, f"{len(deployments)} stack export(s) read"),
              Stage("checkov", False, "not run by audit (repository files: dpaguard check)"))
    return evaluate(deployments, policy, options, stages=stages)
