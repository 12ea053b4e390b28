"""Stack exports: read a `pulumi stack export` file (or `dpaguard render` output) into a Deployment, and write one.

Accepted forms, as Pulumi itself accepts them: `{"version": 3, "deployment": {...}}` (stack export),
a bare deployment `{"manifest": ..., "resources": [...]}`, and a checkpoint
`{"version": 3, "checkpoint": {"latest": {...}}}`. Secrets are emptied and sensitive-named plaintext
redacted as each resource is read. Files above a size limit are refused before parsing; large files
are parsed incrementally, one resource at a time, with repeated strings shared, so a 200 MB export
needs a few hundred MB of memory rather than several times its size.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from dpaguard import __version__
from dpaguard.source.interface import SourceError
from dpaguard.model import REDACTED, Deployment, Source
from dpaguard.source import redact
from dpaguard.source.project import (
    Project,
    StackConfig,
    find_project_file,
    load_project,
    load_stack_config,
    short_stack_name,
)

DEFAULT_MAX_STATE_BYTES = 256 * 1024 * 1024
MAX_STATE_ENV = "DPAGUARD_MAX_STATE_MB"
SUPPORTED_VERSIONS = (3,)
# Below this size the whole file is parsed at once (faster, and errors carry a line number).
_STREAM_ABOVE_BYTES = 16 * 1024 * 1024
# The stack config key of the environment a stack is checked as, and the package of dpaguard's own settings.
ENVIRONMENT_KEY = "dpaguard:environment"
DPAGUARD_PACKAGE = "dpaguard"
_SHARED_STRING_MAX = 256
_MAIN_KEYS = {"deployment": "deployment.resources.item", "checkpoint": "checkpoint.latest.resources.item",
              "resources": "resources.item"}


def max_state_bytes() -> int:
    """The size limit of a state file: DPAGUARD_MAX_STATE_MB when set, else 256 MB."""
    raw = os.environ.get(MAX_STATE_ENV)
    if raw:
        try:
            return int(float(raw) * 1024 * 1024)
        except ValueError:
            raise SourceError(f"{MAX_STATE_ENV}={raw!r} is not a number of megabytes") from None
    return DEFAULT_MAX_STATE_BYTES


def _human(size: int) -> str:
    return f"{size / 1048576:.0f} MB" if size >= 1048576 else f"{size / 1024:.1f} kB"


def parse_urn(urn: str) -> tuple[str, str, str, str] | None:
    """`urn:pulumi:<stack>::<project>::<qualified type>::<name>` -> (stack, project, qualified type, name)."""
    if not isinstance(urn, str) or not urn.startswith("urn:pulumi:"):
        return None
    parts = urn[len("urn:pulumi:"):].split("::", 3)
    if len(parts) != 4:
        return None
    return parts[0], parts[1], parts[2], parts[3]


class _Compactor:
    """Copies parsed JSON sharing one object per distinct short string (keys, URNs, tokens, regions)."""

    def __init__(self) -> None:
        self.strings: dict[str, str] = {}

    def share(self, text: str) -> str:
        """The one shared copy of a short string (long ones are rarely repeated)."""
        return self.strings.setdefault(text, text) if len(text) <= _SHARED_STRING_MAX else text

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.strings.setdefault(value, value) if len(value) <= _SHARED_STRING_MAX else value
        if isinstance(value, dict):
            share = self.strings.setdefault
            return {share(k, k): self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
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
            resource[share(key)] = redact.redact_properties(value, share)
        else:
            resource[share(key)] = compact(value)
    return resource


def _read_small(path: Path) -> tuple[dict[str, Any], list[Any]]:
    try:
        with path.open("rb") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as error:
        raise SourceError(f"{path}:{error.lineno}: not valid JSON: {error.msg}") from None
    except UnicodeDecodeError:
        raise SourceError(f"{path}: not valid JSON: not UTF-8 text") from None
    except RecursionError:
        raise SourceError(f"{path}: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise SourceError(f"{path}: not a Pulumi stack export (expected a JSON object)")
    head = {k: data[k] for k in ("version", "dpaguard") if k in data}
    main = next((k for k in _MAIN_KEYS if k in data), None)
    if main is None:
        raise SourceError(f"{path}: not a Pulumi stack export (no 'deployment' with 'resources')")
    container: Any = data[main]
    if main == "checkpoint":
        container = container.get("latest") if isinstance(container, dict) else None
        container = container or {}
    if main != "resources":
        if not isinstance(container, dict):
            raise SourceError(f"{path}: not a Pulumi stack export ('{main}' is not an object)")
        resources = container.get("resources")
    else:
        resources = container
    if resources is None:
        resources = []
    if not isinstance(resources, list):
        raise SourceError(f"{path}: not a Pulumi stack export ('resources' is not a list)")
    return head, resources


def _stream(path: Path) -> tuple[dict[str, Any], Iterator[Any]]:
    import ijson  # the incremental parser is only needed for large files

    head: dict[str, Any] = {}
    main: str | None = None
    try:
        with path.open("rb") as handle:
            events = ijson.parse(handle, use_float=True)
            prefix, event, value = next(events)
            if event != "start_map":
                raise SourceError(f"{path}: not a Pulumi stack export (expected a JSON object)")
            builder: Any = None
            building_key = ""
            for prefix, event, value in events:
                if builder is not None:
                    builder.event(event, value)
                    if prefix == building_key and event in ("end_map", "end_array"):
                        head[building_key] = builder.value
                        builder = None
                    continue
                if prefix == "" and event == "map_key":
                    if value in _MAIN_KEYS:
                        main = value
                        break
                elif prefix == "version" and event in ("number", "string"):
                    head["version"] = value
                elif prefix == "dpaguard" and event == "start_map":
                    builder = ijson.common.ObjectBuilder()
                    builder.event(event, value)
                    building_key = "dpaguard"
    except SourceError:
        raise
    except StopIteration:
        raise SourceError(f"{path}: not valid JSON: empty or truncated") from None
    except Exception as error:  # ijson reports parse errors with several exception types
        raise SourceError(f"{path}: not valid JSON: {' '.join(str(error).split())[:200]}") from None
    if main is None:
        raise SourceError(f"{path}: not a Pulumi stack export (no 'deployment' with 'resources')")

    def resources() -> Iterator[Any]:
        try:
            with path.open("rb") as handle:
                yield from ijson.items(handle, _MAIN_KEYS[main], use_float=True)
        except SourceError:
            raise
        except Exception as error:
            raise SourceError(f"{path}: not valid JSON: {' '.join(str(error).split())[:200]}") from None

    def tail(key: str) -> Any:
        try:
            with path.open("rb") as handle:
                for item in ijson.items(handle, key, use_float=True):
                    return item
        except Exception as error:
            raise SourceError(f"{path}: not valid JSON: {' '.join(str(error).split())[:200]}") from None
        return None

    if "dpaguard" not in head:
        found = tail("dpaguard")
        if found is not None:
            head["dpaguard"] = found
    if "version" not in head:
        found = tail("version")
        if found is not None:
            head["version"] = found
    return head, resources()


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


def _position(value: Any) -> tuple[str, int, int] | None:
    if not isinstance(value, str) or not value.startswith("project:///") or "#" not in value:
        return None
    file, _, where = value[len("project:///"):].rpartition("#")
    line, _, column = where.partition(",")
    try:
        return file, int(line), int(column) if column else 1
    except ValueError:
        return None


def load_state(path: Path | str, *, stack_config: Path | str | None = None, max_bytes: int | None = None) -> Deployment:
    """Read a stack export (or `dpaguard render` output) into a redacted Deployment; SourceError when unusable."""
    path = Path(path)
    limit = max_state_bytes() if max_bytes is None else max_bytes
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SourceError(f"{path}: state file not found") from None
    except OSError as error:
        raise SourceError(f"{path}: cannot read state file: {error.strerror}") from None
    if path.is_dir():
        raise SourceError(f"{path}: is a directory, not a stack export file")
    if size > limit:
        raise SourceError(
            f"{path}: state file is {_human(size)}, above the {_human(limit)} limit",
            hint=f"raise it with {MAX_STATE_ENV}=<megabytes>",
        )
    if size <= _STREAM_ABOVE_BYTES:
        head, raw_resources = _read_small(path)
        items: Any = iter(raw_resources)
    else:
        head, items = _stream(path)
    version = head.get("version")
    if version is not None and version not in SUPPORTED_VERSIONS:
        raise SourceError(f"{path}: unsupported stack export version {version!r} (dpaguard reads version 3)")
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
        resources.append(resource)
    if not resources:
        raise SourceError(f"{path}: the stack export holds no resources (nothing to audit)")
    if len(identities) > 1:
        names = ", ".join(sorted(f"{s} ({p})" for s, p in identities))
        raise SourceError(f"{path}: resources from several stacks: {names} (export one stack per file)")
    stack, project = next(iter(identities))
    raw_block = head.get("dpaguard")
    block: dict[str, Any] = raw_block if isinstance(raw_block, dict) else {}
    if block and (block.get("stack"), block.get("project")) not in ((stack, project), (None, None)):
        raise SourceError(
            f"{path}: the dpaguard block names stack {block.get('stack')!r} but the resources belong to {stack!r}"
        )
    config: Mapping[str, Any]
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
    elif isinstance(block.get("config"), dict):
        config = _without_environment(redact.redact_config(block["config"], secret_keys))
    else:
        config = _provider_config(resources)
    positions = {}
    for resource in resources:
        position = _position(resource.get("sourcePosition"))
        if position:
            positions[resource["urn"]] = position
    source: Source = "program" if block.get("source") == "program" else "state"
    return Deployment(
        stack=stack,
        project=project,
        source=source,
        resources=tuple(resources),
        config=config,
        secret_config_keys=secret_keys,
        origin=str(path),
        config_file=str(config_file) if config_file else None,
        config_sha256=str(config_sha) if config_sha else None,
        source_positions=positions,
    )


@dataclass(frozen=True)
class StateSource:
    """A `pulumi stack export` file (or `dpaguard render` output) as a source of one deployment."""

    path: Path
    stack_config: Path | None = None

    def load(self) -> Deployment:
        """The file's deployment; SourceError when it is unusable."""
        return load_state(self.path, stack_config=self.stack_config)


def _without_environment(config: dict[str, Any]) -> dict[str, Any]:
    """A config read from the state file itself, less the environment: only a stack config, the stack's name or the CLI set it.

    A program (or whoever wrote the file) could otherwise relabel prod as dev and have it checked by dev's rules.
    """
    config.pop(ENVIRONMENT_KEY, None)
    return config


def _provider_config(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """Without a stack config: `<package>:<key>` from the default providers' inputs, as the engine set them.

    dpaguard's own settings (`dpaguard:*`) are never taken from a provider resource: there is no
    `dpaguard` provider, so such a resource is one the program made up (to relabel its environment,
    say) and it sets nothing.
    """
    config: dict[str, Any] = {}
    for resource in resources:
        parsed = parse_urn(resource["urn"])
        if parsed is None or not resource["type"].startswith("pulumi:providers:"):
            continue
        if not parsed[3].startswith("default"):
            continue
        package = resource["type"][len("pulumi:providers:"):]
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
                "time": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
                "magic": "",
                "version": f"dpaguard {__version__} ({kind})",
            },
            "resources": [dict(r) for r in deployment.resources],
        },
    }


def export_json(deployment: Deployment) -> str:
    """to_export as indented JSON text, ending with a newline."""
    return json.dumps(to_export(deployment), indent=2, ensure_ascii=False) + "\n"
