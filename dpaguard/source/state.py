"""Stack exports: read a `pulumi stack export` file (or `dpaguard render` output) into a Deployment, and write one.

Accepted forms, as Pulumi itself accepts them: `{"version": 3, "deployment": {...}}` (stack export),
a bare deployment `{"manifest": ..., "resources": [...]}`, and a checkpoint
`{"version": 3, "checkpoint": {"latest": {...}}}`. Secrets are emptied and sensitive-named plaintext
redacted as each resource is read. Files above a size limit are refused before parsing; large files
are parsed incrementally, one resource at a time, with repeated strings shared, so a 200 MB export
needs a few hundred MB of memory rather than several times its size.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from dpaguard import __version__, clock
from dpaguard.inputs import MAX_CONFIG_BYTES, read_input_text
from dpaguard.source.interface import SourceError
from dpaguard.model import REDACTED, Deployment, SourceKind
from dpaguard.deployment import redact
from dpaguard.deployment.credentials import redact_credentials
from dpaguard.source import export_reader
from dpaguard.source.export_reader import MAX_STATE_ENV, human_size, max_state_bytes, spool
from dpaguard.source.project import (
    Project,
    StackConfig,
    find_project_file,
    load_project,
    config_key_positions,
    load_stack_config,
)
from dpaguard.urn import PROVIDER_TYPE_PREFIX, is_provider_type, parse_urn, short_stack_name, source_position

SUPPORTED_VERSIONS = (3,)
# Below this size the whole file is parsed at once (faster, and errors carry a line number).
_STREAM_ABOVE_BYTES = 16 * 1024 * 1024
# The stack config key of the environment a stack is checked as, and the package of dpaguard's own settings.
DPAGUARD_PACKAGE = "dpaguard"
_SHARED_STRING_MAX = 256


class _Compactor:
    """Copies parsed JSON, credentials cut out of every string, sharing one object per distinct short string (keys, URNs, tokens, regions)."""

    def __init__(self) -> None:
        self.strings: dict[str, str] = {}
        self.redacted: dict[str, str] = {}  # a string as read -> its redacted, shared copy

    def share(self, text: str) -> str:
        """The one shared copy of a short string (long ones are rarely repeated)."""
        return self.strings.setdefault(text, text) if len(text) <= _SHARED_STRING_MAX else text

    def redact(self, text: str) -> str:
        """The shared copy of `text` with its credentials cut out (redact_credentials), each short string's answer kept."""
        answer = self.redacted.get(text)
        if answer is None:
            answer = self.share(redact_credentials(text))
            if len(text) <= _SHARED_STRING_MAX:
                self.redacted[text] = answer
        return answer

    def clean(self, value: Any) -> Any:
        """A copy of any JSON value with every string, keys included, redacted and shared (see redact)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(str(k)): self.clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.clean(v) for v in value]
        return value


# The resource fields downstream stages read, with the JSON type a real export gives them.
_FIELD_TYPES: dict[str, type] = {
    "custom": bool, "id": str, "parent": str, "provider": str, "dependencies": list,
    "inputs": dict, "outputs": dict, "propertyDependencies": dict, "sourcePosition": str,
}
_KIND_NAMES = {bool: "a boolean", str: "a string", list: "a list", dict: "an object"}


def _clean_resource(raw: Any, index: int, path: Path, compact: "_Compactor") -> dict[str, Any]:
    """One resource of an export, type-checked, redacted, its strings shared."""
    share = compact.share
    if not isinstance(raw, dict) or not isinstance(raw.get("urn"), str) or not isinstance(raw.get("type"), str):
        raise SourceError(f"{path}: resource #{index} is not a Pulumi resource (needs 'urn' and 'type')")
    if parse_urn(raw["urn"]) is None:
        raise SourceError(f"{path}: resource #{index} has a malformed URN")
    for key, kind in _FIELD_TYPES.items():
        if raw.get(key) is not None and not isinstance(raw[key], kind):
            raise SourceError(f"{path}: resource #{index} ({raw['urn']}): '{key}' is not {_KIND_NAMES[kind]}")
    resource: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("inputs", "outputs") and value is not None:
            resource[share(key)] = redact.redact_properties(value, compact.redact)
        else:
            # A credential in the URN (a resource's name), the type token, the id or the source position
            # is cut out like one in a value: every output prints these.
            resource[compact.redact(key)] = compact.clean(value)
    return resource


def _config_from_stack_file(stack_file: Path) -> tuple[StackConfig, Project | None]:
    """A stack config file, with its project's declarations when its Pulumi.yaml can be found above it."""
    directory = stack_file.resolve().parent
    for candidate in (directory, *list(directory.parents)[:3]):
        try:
            find_project_file(candidate)
        except SourceError:
            continue
        project = load_project(candidate)
        if project.stack_config_dir == directory:
            name = stack_file.name[len("Pulumi."):-len(".yaml")]
            return load_stack_config(project, name), project
    if not stack_file.is_file():
        raise SourceError(f"{stack_file}: stack config file not found")
    name = stack_file.name[len("Pulumi."):-len(".yaml")] if stack_file.name.startswith("Pulumi.") else stack_file.stem
    bare = Project(
        name="", root=directory, file=stack_file, main_dir=directory, stack_config_dir=directory, stacks=(name,)
    )
    renamed = directory / f"Pulumi.{name}.yaml"
    if renamed.resolve() != stack_file.resolve():
        raise SourceError(f"{stack_file}: a stack config file is named Pulumi.<stack>.yaml")
    return load_stack_config(bare, name), None


def _provider_resource(resource: Mapping[str, Any]) -> bool:
    """Whether a resource is one a provider manages: it names a provider, or its type is a Scaleway or dynamic one."""
    from dpaguard.deployment.types import canonical_type, type_info

    kind = str(resource["type"])
    if resource.get("provider") or kind.startswith("pulumi-python:dynamic"):
        return True
    return kind.startswith("scaleway:") and type_info(canonical_type(kind)) is not None


def load_state(path: Path | str, *, stack_config: Path | str | None = None, max_bytes: int | None = None) -> Deployment:
    """Read a stack export (or `dpaguard render` output) into a redacted Deployment; SourceError when unusable."""
    path = Path(path)
    limit = max_state_bytes() if max_bytes is None else max_bytes
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SourceError(f"{path}: state file not found") from None
    except OSError as error:
        raise SourceError(f"{path}: cannot read state file: {error.strerror or type(error).__name__}") from None
    if stat.S_ISDIR(info.st_mode):
        raise SourceError(f"{path}: is a directory, not a stack export file")
    if stat.S_ISREG(info.st_mode) and info.st_size > limit:
        raise SourceError(
            f"{path}: state file is {human_size(info.st_size)}, above the {human_size(limit)} limit",
            hint=f"raise it with {MAX_STATE_ENV}=<megabytes>",
        )
    # A pipe or a device has no size to check: it is copied, within the limit, and read as a file.
    source = path if stat.S_ISREG(info.st_mode) else spool(path, limit)
    try:
        return _load(source, path, limit, stack_config)
    finally:
        if source is not path:
            source.unlink(missing_ok=True)


def _load(file: Path, path: Path, limit: int, stack_config: Path | str | None) -> Deployment:
    """Parse `file` (the state file itself, or its copy), naming `path` in every message."""
    if file.stat().st_size <= _STREAM_ABOVE_BYTES:
        head, raw_resources = export_reader.read_whole(file, path, limit)
        items: Any = iter(raw_resources)
    else:
        head, items = export_reader.stream(file, path, limit)
    version = head.get("version")
    if version is not None and version not in SUPPORTED_VERSIONS:
        shown = repr(version) if isinstance(version, int) else f"({_KIND_NAMES.get(type(version), 'not a number')})"
        raise SourceError(f"{path}: unsupported stack export version {shown} (dpaguard reads version 3)")
    stack, project, resources = _resources(items, path)
    raw_block = head.get("dpaguard")
    block: dict[str, Any] = raw_block if isinstance(raw_block, dict) else {}
    if block and (block.get("stack"), block.get("project")) not in ((stack, project), (None, None)):
        raise SourceError(
            f"{path}: the dpaguard block names another stack or project than the resources' ({stack!r}, from their URNs)"
        )
    stack_file = _stack_file(block, resources, stack, stack_config)
    positions = {}
    for resource in resources:
        position = source_position(resource.get("sourcePosition"))
        if position:
            positions[resource["urn"]] = position
    source: SourceKind = "program" if block.get("source") == "program" else "state"
    return Deployment(
        stack=stack,
        project=project,
        source=source,
        resources=tuple(resources),
        config=stack_file.config,
        secret_config_keys=stack_file.secret_keys,
        origin=str(path),
        config_file=stack_file.file,
        config_sha256=stack_file.sha256,
        source_positions=positions,
        config_positions=stack_file.positions,
        state_manifest=dict(head.get("manifest") or {}),
    )


def _resources(items: Iterator[Any], path: Path) -> tuple[str, str, list[dict[str, Any]]]:
    """The export's resources, cleaned one by one, and the one stack and project they are of."""
    compact = _Compactor()
    resources: list[dict[str, Any]] = []
    identities: set[tuple[str, str]] = set()
    for index, raw in enumerate(items):
        try:
            resource = _clean_resource(raw, index, path, compact)
        except RecursionError:
            raise SourceError(f"{path}: resource #{index} is nested too deeply") from None
        parsed = parse_urn(resource["urn"])
        assert parsed is not None
        identities.add((parsed[0], parsed[1]))
        if resource.get("custom") is False and _provider_resource(resource):
            # The normaliser judges custom resources only (a component holds no infrastructure of its
            # own): a provider's resource marked as a component would pass every control unexamined.
            raise SourceError(f"{path}: resource #{index} ({resource['urn']}) is a provider's resource "
                              "marked 'custom: false': refused rather than left unchecked")
        resources.append(resource)
    if not resources:
        raise SourceError(f"{path}: the stack export holds no resources (nothing to audit)")
    if len(identities) > 1:
        names = ", ".join(sorted(f"{s} ({p})" for s, p in identities))
        raise SourceError(f"{path}: resources from several stacks: {names} (export one stack per file)")
    stack, project = next(iter(identities))
    return stack, project, resources


@dataclass(frozen=True)
class _StackFile:
    """The stack's config as the export or its stack config file gives it, and where that file sets each key."""

    config: Mapping[str, Any]
    secret_keys: frozenset[str]
    file: str | None
    sha256: str | None
    positions: Mapping[str, tuple[int, int]]


def _stack_file(block: Mapping[str, Any], resources: list[dict[str, Any]], stack: str,
                stack_config: Path | str | None) -> _StackFile:
    """The config of the stack: the `--stack-config` file given, else the export's dpaguard block, else its providers'."""
    config: Mapping[str, Any]
    config_positions: Mapping[str, tuple[int, int]] = {}
    secret_keys: frozenset[str] = frozenset(str(k) for k in block.get("secretConfigKeys") or ())
    config_file = block.get("configFile")
    config_sha = block.get("configSha256")
    if stack_config is not None:
        loaded, owner = _config_from_stack_file(Path(stack_config))
        if short_stack_name(stack) != loaded.stack:
            raise SourceError(f"{stack_config}: is the config of stack '{loaded.stack}', the state is of stack '{stack}'")
        config = loaded.public()
        secret_keys = loaded.secret_keys
        config_file = owner.relative(loaded.file) if owner and loaded.file else str(stack_config)
        config_sha = loaded.sha256
        config_positions = loaded.positions
    elif isinstance(block.get("config"), dict):
        config = _without_dpaguard_settings(redact.redact_config(block["config"], secret_keys))
    else:
        config = _provider_config(resources)
    if config_file and not config_positions:
        # An export written by `dpaguard render` names its stack file: where it is at hand, findings point into it.
        config_positions = _positions_in(Path(str(config_file)))
    return _StackFile(config, secret_keys, str(config_file) if config_file else None,
                      str(config_sha) if config_sha else None, config_positions)


def _positions_in(path: Path) -> dict[str, tuple[int, int]]:
    """Where the stack config file at `path` sets each key; nothing when it cannot be read."""
    try:
        return config_key_positions(read_input_text(path, MAX_CONFIG_BYTES))
    except (OSError, UnicodeDecodeError):
        return {}


def _without_dpaguard_settings(config: dict[str, Any]) -> dict[str, Any]:
    """A config read from the state file itself, less dpaguard's own settings (`dpaguard:*`, the environment among them).

    Only a stack config (`--stack-config`), the stack's name or the CLI set them. A program (or whoever
    wrote the file) could otherwise relabel prod as dev, lower the backup minimum or state a client's
    retention period of its own choosing, and have the stack judged by its own rules.
    """
    return {key: value for key, value in config.items() if not key.startswith(f"{DPAGUARD_PACKAGE}:")}


def _provider_config(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """Without a stack config: `<package>:<key>` from the default providers' inputs, as the engine set them.

    dpaguard's own settings (`dpaguard:*`) are never taken from a provider resource: there is no
    `dpaguard` provider, so such a resource is one the program made up (to relabel its environment,
    say) and it sets nothing.
    """
    config: dict[str, Any] = {}
    for resource in resources:
        parsed = parse_urn(resource["urn"])
        if parsed is None or not is_provider_type(resource["type"]):
            continue
        if not parsed[3].startswith("default"):
            continue
        package = resource["type"][len(PROVIDER_TYPE_PREFIX):]
        if package == DPAGUARD_PACKAGE:
            continue
        for key, value in (resource.get("inputs") or {}).items():
            if key in ("version", "pluginDownloadURL"):
                continue
            config.setdefault(f"{package}:{key}", REDACTED if redact.is_secret(value) else value)
    return config


def to_export(deployment: Deployment) -> dict[str, Any]:
    """The deployment as stack-export JSON (version 3) with the `dpaguard` block; the input of load_state."""
    kind = "offline render" if deployment.source == "program" else "state"
    # The dpaguard block is written before the (possibly huge) resource list: JSON objects are unordered,
    # and this lets the incremental reader find it without a second pass.
    return {
        "version": 3,
        "dpaguard": {
            "stack": deployment.stack,
            "project": deployment.project,
            "source": deployment.source,
            "config": dict(deployment.config),
            "secretConfigKeys": sorted(deployment.secret_config_keys),
            "configFile": deployment.config_file,
            "configSha256": deployment.config_sha256,
        },
        "deployment": {
            "manifest": {
                "time": clock.now().isoformat(),
                "magic": "",
                "version": f"dpaguard {__version__} ({kind})",
            },
            "resources": [dict(r) for r in deployment.resources],
        },
    }


def export_json(deployment: Deployment) -> str:
    """to_export as indented JSON text, ending with a newline."""
    return json.dumps(to_export(deployment), indent=2, ensure_ascii=False) + "\n"
