"""The domain model shared by every stage: deployments in, decisions, findings and a result out.

Data flows one way (docs/architecture.md):
    source -> Deployment -> normalise -> facts -> engine -> Decision -> findings -> Result -> reporters
Nothing downstream of a Deployment knows whether it came from a program or a state file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, NewType, get_args

from dpaguard import urn as pulumi_urn
from dpaguard.markers import PLAINTEXT_REDACTED, REDACTED, SECRET_SIG, SECRET_SIG_KEY, UNKNOWN

ControlId = NewType("ControlId", str)
Urn = NewType("Urn", str)

Environment = Literal["prod", "staging", "dev"]
Enforcement = Literal["mandatory", "advisory", "disabled"]
Severity = Literal["critical", "high", "medium", "low"]
ENVIRONMENTS: tuple[Environment, ...] = get_args(Environment)
LEVELS: tuple[Enforcement, ...] = get_args(Enforcement)
FailOn = Literal["mandatory", "advisory", "never"]
SourceKind = Literal["program", "state"]  # how a deployment was produced: rendered from the program, or read from state
DecisionStatus = Literal["violation", "undetermined"]
# How far the gate can show a DPA clause kept (policies/dpa/clauses.yaml).
ClauseStatus = Literal["verified-deployed", "verified-code", "declared", "organisational", "not-covered"]
CLAUSE_STATUSES: tuple[ClauseStatus, ...] = ("verified-deployed", "verified-code", "declared", "organisational", "not-covered")
# What a control's findings are about (Control.about): the program, or the DPA and its register.
CONTROL_SUBJECTS = ("program", "dpa")



@dataclass(frozen=True)
class Deployment:
    """One stack's resources in the shape of `pulumi stack export` (version 3), plus the stack's identity.

    `resources` are the export's resource objects unchanged (urn, type, custom, id, parent,
    provider, inputs, outputs, dependencies, sourcePosition ...). Secret values inside them are
    wrapped with SECRET_SIG_KEY and never hold plaintext once a source has produced them.
    `config` is the stack's config (`scaleway:region`, `dpaguard:environment`, ...) with every
    `secure:` value replaced by REDACTED; `secret_config_keys` names those keys.
    """

    stack: str
    project: str
    source: SourceKind
    resources: tuple[Mapping[str, Any], ...]
    config: Mapping[str, Any] = field(default_factory=dict)
    secret_config_keys: frozenset[str] = frozenset()
    origin: str = ""  # the project directory or the state file it came from
    config_file: str | None = None  # the stack config file, when one was read
    config_sha256: str | None = None
    # program source file, line and column of each resource's constructor, when known
    source_positions: Mapping[str, tuple[str, int, int]] = field(default_factory=dict)
    # what every report must say about how the deployment was produced (the interpreter a program ran with, lookups)
    notices: tuple[str, ...] = ()
    # line and column where the stack config file sets each key, when the file was read
    config_positions: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    # a stack export's own manifest: when the state was written and by which Pulumi (`time`, `version`)
    state_manifest: Mapping[str, str] = field(default_factory=dict)
    # a rendered stack: the interpreter its program ran under (`interpreter`, `python`) and the versions
    # of the Pulumi SDK and provider SDKs it ran with, read inside the program's own process
    runtime: Mapping[str, str] = field(default_factory=dict)
    # a rendered stack: URN -> input property -> the lookups it rests on that answered nothing offline
    unanswered_lookups: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    @property
    def stack_urn(self) -> str:
        """The URN of the stack's root `pulumi:pulumi:Stack` resource."""
        return pulumi_urn.stack_urn(self.stack, self.project)


@dataclass(frozen=True)
class Control:
    """One entry of the control catalogue (policies/dpa/controls.yaml)."""

    id: ControlId
    title: str
    description: str
    clause: str  # the DPA clause it enforces, e.g. "Appendix C §1.1"
    category: str  # residency, transit-encryption, segregation, backup, retention, subprocessor, access, secrets, hygiene
    severity: Severity
    enforcement: Mapping[str, Enforcement]  # per environment: prod, staging, dev
    applies_to: tuple[str, ...] = ()  # canonical type tokens it examines; ("*",) for all, ("stack",) for stack-level
    help: str = ""  # how to fix a violation
    # Of the types it applies to, those it judges only under a condition ("scaleway:*": zonal): a
    # regional bucket has no zone, so a zone or site control never judged it (examined.py).
    judges: Mapping[str, str] = field(default_factory=dict)
    # The evidence without which a stack-level control examined nothing (stack-config, waivers,
    # notification-dates): a check of absent evidence is "not examined", never passed.
    needs: str | None = None
    # What its findings are about: the program (the default), or the DPA and its register (`dpa`): facts
    # no program can change (an undated Appendix B entry), kept in the clause ledger, not among the findings.
    about: str = "program"

    def enforcement_for(self, environment: str) -> Enforcement:
        """The enforcement level in an environment; an unknown environment is treated as prod."""
        return self.enforcement.get(environment, self.enforcement.get("prod", "mandatory"))


@dataclass(frozen=True)
class Clause:
    """One entry of the clause ledger (policies/dpa/clauses.yaml): a DPA clause and the evidence for it."""

    id: str  # "Article 8.2", "Appendix C §1.1"
    title: str
    quote: str  # a short exact passage of the DPA
    status: ClauseStatus
    controls: tuple[ControlId, ...] = ()
    title_fr: str = ""
    note: str = ""
    parts: tuple["ClausePart", ...] = ()  # the parts of its quoted promise; none: one part, its controls
    # Not a clause of the DPA (clauses.yaml `outside`): the gate's own integrity, or an inventory aid the
    # report shows apart from the clause grid, so that it never colours a clause. `quote` is empty.
    outside: bool = False
    attestation: "Attestation | None" = None  # the document that attests an organisational clause


@dataclass(frozen=True)
class Attestation:
    """The document a person keeps that attests an organisational clause (clauses.yaml `attested_by`)."""

    document: str  # what it is: "Staff confidentiality undertakings, HR register"
    owner: str  # who keeps it and answers for it
    date: str  # when it was last reviewed (YYYY-MM-DD)
    reference: str  # where to find it: a document id, a ticket, a path in the document system


# How a part of a clause's promise can be shown (clauses.yaml `parts`): checked on the deployment,
# on a value a person typed, in the repository's files; or only a person can attest it
# (organisational); or infrastructure could show it and no control does (not-covered).
PartEvidence = Literal["verified", "declared", "verified-code", "organisational", "not-covered"]
PART_EVIDENCE: tuple[PartEvidence, ...] = get_args(PartEvidence)


@dataclass(frozen=True)
class ClausePart:
    """One part of a clause's quoted promise and what shows it (clauses.yaml `parts`)."""

    what: str  # the part, in the ledger's words
    evidence: PartEvidence
    controls: tuple[ControlId, ...] = ()  # none for organisational and not-covered parts
    why: str = ""  # for a part no control shows: why


@dataclass(frozen=True)
class Translation:
    """The French of what the policy set shows a reader (policies/dpa/i18n/fr.yaml): whole texts and message templates."""

    texts: Mapping[str, str]  # English text (whitespace collapsed) -> the project's French
    templates: tuple[tuple[str, str], ...] = ()  # (English with %v, French with the same %v in the same order)
    # the English of the entries a source shows (texts, Rego messages), against which unused ones are found
    sourced: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Usage:
    """What a stack's resources use, counted: a sub-processor (Appendix B) or a hosting location (Appendix C §1)."""

    stack: str
    kind: Literal["subprocessor", "location"]
    name: str  # SCALEWAY; fr-par-1, fr-par (Scaleway zone or region), Paris (DataPacket location)
    resources: int
    country: str | None = None
    site: str | None = None  # the hosting site (datacenter) of a location, where the locations table names one


@dataclass(frozen=True)
class RegisteredProcessor:
    """A sub-processor as Appendix B lists it."""

    name: str
    service: str
    location: str  # ISO 3166 country code


@dataclass(frozen=True)
class Stage:
    """One stage of the run and whether it ran: render, state, rego, checkov, baseline."""

    name: str
    ran: bool
    detail: str = ""


@dataclass(frozen=True)
class Decision:
    """What a check says about one resource, a whole stack or a repository file, for one control.

    Every check decides: the policy engines on the facts' resources and stacks, and outside them the
    checks of the repository's files (checkov, the credential scan), the ratchet and the waivers' own
    problems, which say where they saw it. `dpaguard.findings` alone turns decisions into findings:
    the stack, the environment judged in, the enforcement and the waiver are its to decide.
    """

    control: ControlId
    urn: Urn  # a resource's, a stack's, or a repository file's (`urn:dpaguard:file:<path>`, dpaguard.urn.file_urn)
    message: str
    status: DecisionStatus = "violation"
    # where the check saw it (a file's line); None: where the facts place the resource or stack
    location: SourceLocation | None = None
    # the stack config key a stack-level decision is about: its line in the stack config file
    config_key: str | None = None
    # a file decision's kind and name as reports show them (`checkov:yaml`, the path); None: `file`, the path
    type: str | None = None
    name: str | None = None
    # a file no stack owns is judged as prod; a decision about one environment's level names it (the ratchet's)
    environment: str | None = None


@dataclass(frozen=True)
class Waiver:
    """A reviewer's acceptance of a finding: control, URN pattern (fnmatch) and stack, until an expiry date.

    A waiver of a control mandatory in prod that reaches a prod stack also names when it was approved,
    a reference (ticket or document) and may name compensating measures (policy/waivers.py: governance).
    """

    control: ControlId
    urn_pattern: str
    stack: str
    reason: str
    approver: str
    expires: dt.date
    approved: dt.date | None = None  # the approval date
    reference: str = ""  # the ticket or document that records the approval
    compensating: str = ""  # what keeps the risk down while the waiver lasts

    def to_json(self) -> dict[str, str | None]:
        """The waiver as it appears in JSON output."""
        return {
            "control": self.control,
            "urn": self.urn_pattern,
            "stack": self.stack,
            "reason": self.reason,
            "approver": self.approver,
            "expires": self.expires.isoformat(),
            "approved": self.approved.isoformat() if self.approved else None,
            "reference": self.reference or None,
            "compensating": self.compensating or None,
        }


@dataclass(frozen=True)
class SourceLocation:
    """Where a finding points in the repository: a program source line, else the stack file."""

    path: str
    line: int = 1
    column: int = 1


@dataclass(frozen=True)
class Finding:
    """A decision joined with its control's catalogue entry, the stack's environment and any waiver."""

    control: ControlId
    category: str
    clause: str
    severity: Severity
    enforcement: Literal["mandatory", "advisory"]
    stack: str
    urn: Urn
    type: str
    name: str
    message: str
    status: DecisionStatus = "violation"
    waived: bool = False
    waiver: Waiver | None = None
    location: SourceLocation | None = None
    # A finding on a group (every resource of a provider package in a stack, DPA-SUB-001): the URNs of
    # its resources; `urn` is then the group's provider. Empty for a finding on one resource or stack.
    resources: tuple[str, ...] = ()

    @classmethod
    def of(cls, control: Control, **fields: Any) -> Finding:
        """A finding of `control`, with the catalogue's category, clause and severity."""
        return cls(control=control.id, category=control.category, clause=control.clause, severity=control.severity, **fields)

    def sort_key(self) -> tuple[str, str, str, str]:
        """Deterministic order: stack, control, URN, message."""
        return (self.stack, self.control, self.urn, self.message)


@dataclass(frozen=True)
class StackSummary:
    """One evaluated stack as reports show it."""

    name: str
    project: str
    environment: str
    source: SourceKind
    resources: int
    origin: str = ""
    config_file: str | None = None
    config_sha256: str | None = None
    deployment_sha256: str | None = None  # sha256 of the deployment as evaluated (canonical JSON of its resources)
    state_time: str | None = None  # a stack export's manifest time: when the state was written
    state_version: str | None = None  # the Pulumi version the export's manifest names


# What changed since the baseline report (--baseline): findings, waivers, the clause ledger, the catalogue.
ChangeKind = Literal["new", "fixed", "regressed", "waiver-added", "waiver-removed", "waiver-expired", "waiver-changed",
                     "clause-added", "clause-removed", "clause-changed", "control-added", "control-removed",
                     "control-changed", "subprocessor-added", "subprocessor-removed"]
CHANGE_KINDS: tuple[ChangeKind, ...] = get_args(ChangeKind)


@dataclass(frozen=True)
class Change:
    """One change since the baseline: its kind, what it is about (a control or clause id), where, before and after."""

    kind: ChangeKind
    subject: str  # a control id (findings, waivers, the catalogue) or a clause id (the ledger)
    stack: str = ""
    urn: str = ""
    before: str = ""  # as the baseline had it
    after: str = ""  # as this run has it


@dataclass(frozen=True)
class Changes:
    """The changes since an earlier report, and which report that was."""

    baseline: str  # the baseline file, as reports may show it (no absolute path)
    generated_at: str | None
    git_commit: str | None
    items: tuple[Change, ...] = ()
    waivers_recorded: bool = True  # the baseline listed its waivers (reports before issue 22 did not)


@dataclass(frozen=True)
class Result:
    """Everything one run found: the input of every reporter and of the exit code."""

    tool_version: str
    policy_sha256: str
    stacks: tuple[StackSummary, ...]
    controls: tuple[Control, ...]
    findings: tuple[Finding, ...]
    # (control id, stack name) -> number of resources the control examined in that stack
    coverage: Mapping[tuple[str, str], int] = field(default_factory=dict)
    generated_at: str = ""  # ISO 8601 UTC
    git_commit: str | None = None
    notices: tuple[str, ...] = ()  # things the user must know (a stage skipped, ...)
    engine: str = ""  # the engine that answered: opa, regopy or opa-server
    today: dt.date | None = None  # the date waivers were judged against (--today, else the UTC date)
    clauses: tuple[Clause, ...] = ()  # the clause ledger the report is organised by
    usage: tuple[Usage, ...] = ()  # sub-processors and locations each stack uses (the inventory)
    subprocessors: tuple[RegisteredProcessor, ...] = ()  # Appendix B
    hosting_sites: tuple[tuple[str, str], ...] = ()  # Appendix C §1.2: (hosting company, location)
    stages: tuple[Stage, ...] = ()  # which stages ran (checkov or not, a baseline or not)
    git_dirty: bool | None = None  # the work tree differed from the commit (None: not a git work tree)
    git_diff_sha256: str | None = None  # sha256 of `git diff HEAD` and the untracked files, when dirty
    versions: Mapping[str, str | None] = field(default_factory=dict)  # pulumi, pulumiverse-scaleway, checkov ...
    # (control id, stack name) -> the URNs the control judged there (dpaguard.examined); empty when
    # not computed (a hand-built Result): counts then come from `coverage`
    examined: Mapping[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    dpa_sha256: str | None = None  # sha256 of the DPA text the ledger quotes, when it was found (DPAGUARD_DPA)
    french: Translation | None = None  # the policy set's French, for a report in French (policies/dpa/i18n/fr.yaml)
    waivers: tuple[Waiver, ...] = ()  # every well-formed waiver of the policy set, in force or not
    changes: Changes | None = None  # what changed since --baseline; None without one
    # Findings of controls about the DPA and its register (Control.about "dpa"): shown in the clause
    # ledger (and the inventory), never among the program's findings, the summary or the exit code.
    register_findings: tuple[Finding, ...] = ()

    def unwaived(self, enforcement: str) -> tuple[Finding, ...]:
        """Findings at one enforcement level that no waiver covers."""
        return tuple(f for f in self.findings if f.enforcement == enforcement and not f.waived)

    def exit_code(self, fail_on: FailOn = "mandatory") -> int:
        """0 when nothing at or above `fail_on` is unwaived, else 1 (2 is for errors, set by the CLI)."""
        if fail_on == "never":
            return 0
        levels = ("mandatory",) if fail_on == "mandatory" else ("mandatory", "advisory")
        return 1 if any(self.unwaived(level) for level in levels) else 0

    def summary(self) -> dict[str, int]:
        """The counts of the JSON `summary` block."""
        return {
            "resources": sum(s.resources for s in self.stacks),
            "controls": len(self.controls),
            "mandatory": len(self.unwaived("mandatory")),
            "advisory": len(self.unwaived("advisory")),
            "waived": sum(1 for f in self.findings if f.waived),
        }


__all__ = [  # the markers are the model's vocabulary too (dpaguard.markers holds them)
    "PLAINTEXT_REDACTED", "REDACTED", "SECRET_SIG", "SECRET_SIG_KEY", "UNKNOWN",
    "ControlId", "Urn", "Environment", "Enforcement", "Severity", "ENVIRONMENTS", "LEVELS", "FailOn", "SourceKind", "DecisionStatus", "ClauseStatus",
    "CLAUSE_STATUSES", "Deployment", "Control", "Clause", "ClausePart", "Attestation", "PartEvidence", "PART_EVIDENCE", "Usage", "RegisteredProcessor", "Stage", "Decision",
    "Waiver", "SourceLocation", "Finding", "StackSummary", "Result", "ChangeKind", "CHANGE_KINDS", "Change", "Changes",
]
