"""The facts: what the normaliser makes of deployments, and what the engines and the findings stage read.

`{"stacks": [...], "resources": [...], "index": {...}, "context": {...}}`, the Rego input before
the engine shapes it (dpaguard/engine/shaping.py). The types below are the schema, declared once:
the normaliser builds each fact (dpaguard/normalise), every later stage reads them through these
types, and tests/normalise/test_facts_schema.py holds the normaliser's output to them on every
fixture estate. Facts never hold a secret value (REDACTED, PLAINTEXT_REDACTED in their place).

A resource fact leaves out what is empty, false or null (`NotRequired` below; see
engine.encoding.OMITTED_WHEN_EMPTY): most resources hold no secret, no plaintext, nothing shared.
"""

# No `from __future__ import annotations`: Python 3.11 reads NotRequired only from evaluated annotations.
from typing import Any, Literal, NotRequired, TypedDict

from dpaguard.model import Environment

Status = Literal["known", "unknown", "missing"]  # unknown: only known after apply (preview)


class Locality(TypedDict):
    """Where a resource is, as its own properties, its provider or the stack config place it."""

    scope: Literal["region", "zone", "none"]  # none: the type takes no region or zone
    region: str | None
    zone: str | None
    status: Status
    source: Literal["resource", "provider", "stack", "id", "parent resource", "none"]  # "parent resource": settings.yaml placed_by_parent


class ProjectFact(TypedDict):
    """The Scaleway project a resource is created in (`expected`: the type takes one)."""

    expected: bool
    value: str | None
    status: Status
    source: Literal["resource", "provider", "stack", "none"]


class EnvTag(TypedDict):
    """A resource's environment tag; `environment` is None when its value names none."""

    key: str
    value: str
    environment: str | None


class ForeignOwner(TypedDict):
    """A network, database or server of another environment that a resource owns too or uses."""

    kind: str  # settings.yaml shared_resources: network, database, server
    stack: str
    environment: str
    urn: str


class InboundRule(TypedDict):
    """A security-group inbound rule with its defaults made explicit (no ip: every ip; no port: every port)."""

    action: Literal["accept", "drop"]
    protocol: str
    port_from: int
    port_to: int
    source: str
    internet: bool
    unparseable: bool


class Malformed(TypedDict):
    """A property value of the wrong type for the controls that read it (properties.yaml types), left out of `props`."""

    path: str
    expected: str
    found: str
    controls: list[str]


class UnknownRead(TypedDict):
    """A part of a property a control reads that is unknown until apply (preview): its controls are undetermined."""

    path: str  # the property, or the item or field of it properties.yaml describes (`acls[0].ip`)
    controls: list[str]


class StackReference(TypedDict):
    """The stack a StackReference reads, and the environment its name says (`unknown` when none)."""

    target: str | None
    environment: str


class ResourceFacts(TypedDict):
    """One resource (the stack, its providers and component resources are not resources here)."""

    urn: str  # a recorded view's ends in RECORDED_SUFFIX (normalise)
    id: str | None
    index: int  # its position in `resources`
    stack: str
    environment: Environment  # its stack's
    type: str  # canonical type token (a deprecated `scaleway:index/...` token mapped to its module)
    package: str  # the provider package of the type token
    locality: Locality
    project: ProjectFact
    tags: dict[str, str]  # from the list form `env:prod` or a map
    props: dict[str, Any]  # inputs over outputs, redacted; only what rules read (dpaguard/engine/rego_props.py)
    raw_type: NotRequired[str]  # the token as written, when deprecated
    deprecated_type: NotRequired[bool]
    subprocessor: NotRequired[str]  # its Appendix B entry
    country: NotRequired[str]  # ISO code of its place, or "unknown"
    outside_scope: NotRequired[bool]  # a type its sub-processor's registered service does not cover
    place: NotRequired[str]  # another cloud's region as its provider names it (settings other_cloud_regions)
    taggable: NotRequired[bool]
    tags_unknown: NotRequired[bool]  # the tags are only known after apply
    data_category: NotRequired[str]  # Appendix A category the tags declare
    backup_copy: NotRequired[bool]  # the tags say it holds backups (settings.yaml backup_tag, DPA-BAK-008)
    env_tag: NotRequired[EnvTag]
    secret_paths: NotRequired[list[str]]
    plaintext_paths: NotRequired[list[str]]  # sensitive values held in plaintext
    unknown_paths: NotRequired[list[str]]
    malformed: NotRequired[list[Malformed]]
    unknown: NotRequired[list[UnknownRead]]
    foreign: NotRequired[list[ForeignOwner]]
    inbound_rules: NotRequired[list[InboundRule]]  # security groups
    media_encryption: NotRequired[str]  # what a security group declares of the media it admits (DPA-TLS-009)
    stack_reference: NotRequired[StackReference]
    linked: NotRequired[dict[str, bool]]  # properties.yaml links: whether a resource of another type names it
    location: NotRequired[list[Any]]  # [path, line, column] of the program line that declared it
    recorded_of: NotRequired[str]  # on the recorded view of a resource whose outputs disagree with its inputs
    read: NotRequired[bool]  # read with `.get()` (another stack's): only its place, provider and sharing are judged


class PackageGroup(TypedDict):
    """A stack's resources of one provider package (one DPA-SUB-001 finding each); texts comma-separated."""

    package: str
    urn: str  # the provider resource they use, or the default provider's URN
    count: int
    regions: str
    services: str


class LateSubprocessor(TypedDict):
    """An Appendix B entry a stack uses, added with fewer working days of notice than the DPA gives."""

    name: str
    working_days: int


class StackSettings(TypedDict):
    """The stack's own settings (`dpaguard:*` config, or the pack's config over them; normalise.stack.SETTING_KEYS)."""

    minBackupRetentionDays: int  # never None: an unreadable minimum is held larger than any retention
    callRecordingRetentionDays: int | None  # None: not set, or not a whole number of days
    transcriptRetentionDays: int | None


class StackFacts(TypedDict):
    """One stack: its identity, environment, config facts and the sub-processors its resources use."""

    name: str
    urn: str
    pulumi_project: str
    environment: Environment
    environment_source: str  # what decided the environment (config, stack name, override, default)
    scaleway_project: str | None
    default_region: Any  # `scaleway:region` as configured: judged by Rego, so kept as written
    default_zone: Any
    settings: StackSettings
    config_file: str | None
    config_positions: dict[str, list[int]]  # key -> [line, column] in the stack file (findings; not the Rego)
    plaintext_config_keys: list[str]
    packages: list[PackageGroup]
    subprocessors: list[str]
    late_subprocessors: list[LateSubprocessor]
    undated_subprocessors: list[str]  # used, with no dates in the register
    alerting: bool  # one of its own Cockpit alert managers alerts a contact point (DPA-INC-001; stack-wide, so computed here)


class FactsContext(TypedDict):
    """What every rule may read beside the stacks and resources."""

    today: str  # ISO date waivers and notices are judged against
    unknown: str  # the marker of a value unknown during preview
    internet: dict[str, bool]  # every address or range seen -> whether it is "the internet"
    subprocessor_notice: dict[str, int | None]  # Appendix B entry -> working days of notice (None: no dates)


class Facts(TypedDict):
    """The normaliser's output, which the engines and the findings stage read."""

    stacks: list[StackFacts]
    resources: list[ResourceFacts]
    index: dict[str, Any]  # positions of resources grouped by the values rules test (normalise.build_index)
    context: FactsContext
