"""The checkov stage of `dpaguard check`: credentials and CI/container hygiene, as dpaguard findings.

checkov runs as a subprocess (see runner.py) over the project file, the Pulumi program, the stack
configs, the policies, the CI workflows and any Dockerfile. Each failed check becomes a Finding of
the control that policies/checkov/mapping.yaml names for it; the control itself (clause, severity,
enforcement, category `secrets` or `hygiene`) comes from the catalogue, policies/dpa/controls.yaml.

Each failed check is a decision about a file (`urn:dpaguard:file:<path>`, at its line); the findings
stage (dpaguard.findings) places it: in the stack config file of an evaluated stack, that stack's,
judged in its environment; anywhere else, the whole project's (stack `*`), judged as prod (the
repository deploys prod). No decision, message or notice holds the offending text.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import yaml

from dpaguard.checkov.runner import (
    CheckovError,
    CheckovResult,
    CheckovRun,
    _is_dockerfile,
    find_checkov,
    run_checkov,
    scan_targets,
)
from dpaguard.errors import DpaguardError, PolicyError
from dpaguard.inputs import MAX_CONFIG_BYTES, read_input_text
from dpaguard.model import Control, ControlId, Decision, SourceLocation, Urn
from dpaguard.policy import SHIPPED_POLICIES, Policy
from dpaguard.urn import PROJECT_STACK, file_urn
from dpaguard.yaml_dates import SafeLoader

MAPPING_FILE = Path("checkov") / "mapping.yaml"
NOT_FOUND_NOTICE = "checkov not found; secrets and hygiene checks skipped"

__all__ = [
    "CheckovError", "CheckovResult", "CheckovRun", "CheckovScan", "CheckMapping", "NOT_FOUND_NOTICE",
    "PROJECT_STACK", "find_checkov", "load_mapping", "scan", "to_decisions",
]


@dataclass(frozen=True)
class CheckovScan:
    """The stage's outcome: decisions, notices for the report, and whether checkov ran at all."""

    decisions: tuple[Decision, ...]
    notices: tuple[str, ...]
    ran: bool
    version: str = ""  # the checkov version that ran, from its report
    files: int = 0  # how many project files it scanned
    examined: Mapping[str, int] = field(default_factory=dict)  # control id -> files of the kind its checks read


@dataclass(frozen=True)
class CheckRule:
    """One line of the mapping: a checkov check id pattern, the control it is a finding of, its kind."""

    pattern: str
    control: ControlId
    kind: str


@dataclass(frozen=True)
class CheckMapping:
    """policies/checkov/mapping.yaml: which control each checkov check id is a finding of."""

    rules: tuple[CheckRule, ...]

    def rule_for(self, check_id: str) -> CheckRule | None:
        """The first rule whose pattern matches the check id."""
        return next((r for r in self.rules if fnmatch.fnmatchcase(check_id, r.pattern)), None)


def load_mapping(policies_dir: Path | None) -> CheckMapping:
    """Read `<policies>/checkov/mapping.yaml`, else the one shipped with dpaguard; PolicyError if malformed."""
    candidates = [policies_dir / MAPPING_FILE] if policies_dir is not None else []
    candidates.append(SHIPPED_POLICIES / MAPPING_FILE)
    file = next((c for c in candidates if c.is_file()), None)
    if file is None:
        raise PolicyError(f"{MAPPING_FILE}: checkov mapping not found in the policies")
    try:
        data = yaml.load(read_input_text(file, MAX_CONFIG_BYTES), Loader=SafeLoader) or {}  # noqa: S506 - a SafeLoader subclass
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise PolicyError(f"{file}: cannot read the checkov mapping: {' '.join(str(error).split())}") from None
    if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
        raise PolicyError(f"{file}: expected a `checks:` list")
    rules = []
    for entry in data["checks"]:
        if not isinstance(entry, dict) or "check" not in entry or "control" not in entry:
            raise PolicyError(f"{file}: each check needs `check` and `control`: {entry!r}")
        rules.append(CheckRule(str(entry["check"]), ControlId(str(entry["control"])), str(entry.get("kind", ""))))
    return CheckMapping(rules=tuple(rules))


def _catalogue_control(policy: Policy, control_id: str) -> Control | None:
    """The control's catalogue entry (policies/dpa/controls.yaml), None when the catalogue has none."""
    try:
        found = policy.control(control_id)
    except (KeyError, LookupError, DpaguardError):
        return None
    return found if isinstance(found, Control) else None


def _policy_or_shipped(policy: Policy | None, policies_dir: Path | None) -> Policy:
    """The given policy, else the one in `policies_dir`, else the one shipped with dpaguard."""
    if policy is not None:
        return policy
    from dpaguard.policy import load_policy

    if policies_dir is not None and (policies_dir / "dpa" / "controls.yaml").is_file():
        return load_policy(policies_dir)
    return load_policy(SHIPPED_POLICIES)


def to_decisions(run: CheckovRun, mapping: CheckMapping, policy: Policy | None = None, *,
                 missing: set[str] | None = None) -> tuple[Decision, ...]:
    """Failed checks -> decisions of our controls about the files they failed in, at file and line.

    A mapped control the catalogue does not define is a PolicyError, unless `missing` is given:
    then its id is added there and the decision left out (the caller reports it as a notice).
    """
    policy = _policy_or_shipped(policy, None)
    decisions = []
    for result in run.results:
        rule = mapping.rule_for(result.check_id)
        if rule is None:
            continue
        control = _catalogue_control(policy, rule.control)
        if control is None:
            if missing is None:
                raise PolicyError(f"checkov mapping: control {rule.control} is not in the catalogue (policies/dpa/controls.yaml)")
            missing.add(rule.control)
            continue
        where = f" in {result.resource}" if result.resource else ""
        kind = f"{rule.kind}: " if rule.kind and control.category == "secrets" else ""
        message = f"{result.check_id} {kind}{result.check_name or 'failed'}{where} at {result.path}:{result.line}"
        if control.category == "secrets":
            message += " (value not shown)"
        decisions.append(Decision(
            control.id, Urn(file_urn(result.path)), message, location=SourceLocation(path=result.path, line=result.line),
            type=f"checkov:{result.framework or 'file'}", name=result.path,
        ))
    return tuple(decisions)


def scan(project_dir: Path, policy: Policy | None, *, skip_checks: Sequence[str] = (), required: bool = False) -> CheckovScan:
    """Run checkov over the project's files and return its failed checks as decisions.

    A missing checkov gives a notice (or, with `required`, a CheckovError); a checkov that fails
    for another reason is always a CheckovError.
    """
    project_dir = Path(project_dir)
    checkov = find_checkov(project_dir)
    if checkov is None:
        if required:
            raise CheckovError(
                "checkov not found (--require-checkov)",
                hint="install it with `bash .ci/setup`, or set DPAGUARD_CHECKOV to its path",
            )
        return CheckovScan(decisions=(), notices=(NOT_FOUND_NOTICE,), ran=False)
    from dpaguard.source.project import load_project

    try:
        project = load_project(project_dir)
        main_dir, config_dir = project.program or project.main_dir, project.stack_config_dir
    except DpaguardError:
        main_dir, config_dir = project_dir, project_dir
    policies_root = getattr(policy, "root", None)
    policies_dir = Path(policies_root) if policies_root else project_dir / "policies"
    files = scan_targets(project_dir, main_dir, config_dir, policies_dir)
    notices: list[str] = []
    if not files:
        return CheckovScan(decisions=(), notices=("checkov: no project files to scan",), ran=False)
    try:
        run = run_checkov(checkov, files, project_dir, skip_checks)
    except DpaguardError as error:
        raise error.wrap("checkov")
    if run.parsing_errors:
        notices.append(f"checkov could not parse {run.parsing_errors} file(s); they were not checked")
    missing: set[str] = set()
    decisions = to_decisions(run, load_mapping(policies_dir), _policy_or_shipped(policy, policies_dir), missing=missing)
    if missing:
        notices.append(
            f"checkov findings of {', '.join(sorted(missing))} not reported: not in the catalogue "
            "(append the checkov-derived controls of dpaguard's policies/dpa/controls.yaml to yours)"
        )
    return CheckovScan(decisions=decisions, notices=tuple(notices), ran=True, version=run.version, files=len(files),
                       examined=examined_files(files, load_mapping(policies_dir)))


def examined_files(files: Sequence[Path], mapping: CheckMapping) -> dict[str, int]:
    """Per control of the mapping, how many scanned files its checks read: secrets checks read every file,
    GitHub Actions checks the workflows, Dockerfile checks the Dockerfiles (the report's coverage)."""
    workflows = sum(1 for p in files if ".github/workflows/" in p.as_posix())
    dockerfiles = sum(1 for p in files if _is_dockerfile(p.name))
    answer: dict[str, int] = {}
    for rule in mapping.rules:
        pattern = rule.pattern.upper()
        count = (len(files) if "SECRET" in pattern else workflows if "GHA" in pattern
                 else dockerfiles if "DOCKER" in pattern else workflows + dockerfiles)
        answer[str(rule.control)] = max(answer.get(str(rule.control), 0), count)
    return answer
