"""A Pulumi project (`Pulumi.yaml`) and its stacks' config files (`Pulumi.<stack>.yaml`), read offline.

`secure:` values are never decrypted (there is no secrets provider offline): each becomes the
placeholder REDACTED, its key is listed as secret, and the program receives it through
`pulumi.Config` as a secret, so `config.require_secret(...)` works and the value stays secret
end to end. Project-level `config:` declarations give defaults and types, as `pulumi` applies them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from dpaguard.inputs import MAX_CONFIG_BYTES, read_input
from dpaguard.source._runner import missing_config_text, missing_configs_text
from dpaguard.source.interface import SourceError
from dpaguard.model import REDACTED
from dpaguard.deployment.redact import redact_config
from dpaguard.urn import short_stack_name
from dpaguard.yaml_dates import SafeLoader

PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")
_CONFIG_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}


@dataclass(frozen=True)
class ConfigDeclaration:
    """One entry of the project's `config:` block: a key with an optional type, default and secret flag."""

    key: str  # fully qualified, "<namespace>:<name>"
    type: str | None = None
    default: Any = None
    has_default: bool = False
    secret: bool = False


@dataclass(frozen=True)
class Project:
    """A Pulumi project as `pulumi` reads it from `Pulumi.yaml`."""

    name: str
    root: Path  # the directory holding Pulumi.yaml
    file: Path
    main_dir: Path  # where `__main__.py` lives (`main:`, default the root)
    stack_config_dir: Path
    stacks: tuple[str, ...]
    declarations: tuple[ConfigDeclaration, ...] = ()
    runtime_options: Mapping[str, Any] = field(default_factory=dict)
    program: Path | None = None  # the file `main:` names, when it names a file rather than a directory

    def stack_file(self, stack: str) -> Path:
        """The config file of a stack (`Pulumi.<stack>.yaml`), whether or not it exists."""
        return self.stack_config_dir / f"Pulumi.{short_stack_name(stack)}.yaml"

    def relative(self, path: Path) -> str:
        """A path inside the project as a project-relative POSIX path (else absolute)."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)


@dataclass(frozen=True)
class StackConfig:
    """A stack's effective config: the stack file over the project's defaults."""

    stack: str
    file: Path | None  # None when the stack has no config file and the project's defaults are enough
    values: Mapping[str, Any]  # key -> YAML value; secure values (also nested) are REDACTED
    secret_keys: frozenset[str]
    sha256: str | None
    positions: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # see config_key_positions
    # keys Pulumi.yaml declares without a default and the stack does not set: (key, secret), when collected
    missing: tuple[tuple[str, bool], ...] = ()

    def public(self) -> dict[str, Any]:
        """The config as it may be shown: secrets REDACTED, sensitive-named plaintext PLAINTEXT_REDACTED."""
        return redact_config(dict(self.values), self.secret_keys)

    def program_config(self) -> dict[str, str]:
        """The config as the Pulumi runtime hands it to a program: every value a string, objects as JSON."""
        return {key: config_string(value) for key, value in self.values.items()}

    def package_config(self, package: str) -> dict[str, str]:
        """The `<package>:*` settings as a default provider of that package receives them."""
        prefix = f"{package}:"
        return {k[len(prefix):]: config_string(v) for k, v in self.values.items() if k.startswith(prefix)}


def known_stacks(project: Project) -> str:
    """The project's stacks for a message; where it has none, what a stack is (a file, which may be empty)."""
    if project.stacks:
        return ", ".join(project.stacks)
    return f"none; a stack is a file Pulumi.<stack>.yaml in {project.relative(project.stack_config_dir) or '.'}, an empty one is enough"


def config_string(value: Any) -> str:
    """A config value in the string form `pulumi` passes to programs and providers."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return ""
    # As the CLI encodes it (Go marshals a map with its keys sorted).
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _read_bytes(path: Path, what: str) -> bytes:
    """The file, a regular one of at most 16 MB (dpaguard.inputs); SourceError otherwise."""
    try:
        return read_input(path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        raise SourceError(f"{path}: {what} not found") from None
    except OSError as error:
        raise SourceError(f"{path}: cannot read {what}: {error.strerror or error.__class__.__name__}") from None


def _read_yaml(path: Path, what: str, raw: bytes | None = None) -> Any:
    try:
        text = (_read_bytes(path, what) if raw is None else raw).decode("utf-8")
    except UnicodeDecodeError as error:
        raise SourceError(f"{path}: cannot read {what}: {error}") from None
    try:
        return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "malformed YAML"
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise SourceError(f"{where}: malformed YAML in {what}: {problem}") from None


def find_project_file(project_dir: Path) -> Path:
    """The project's `Pulumi.yaml` (or `Pulumi.yml`); SourceError when there is none."""
    for name in PROJECT_FILES:
        candidate = project_dir / name
        if candidate.is_file():
            return candidate
    if not project_dir.is_dir():
        raise SourceError(f"{project_dir}: project directory not found")
    raise SourceError(f"{project_dir}: no Pulumi.yaml (not a Pulumi project directory)", hint="see --project-dir")


def _qualify(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _declarations(project: str, block: Any, file: Path) -> tuple[ConfigDeclaration, ...]:
    if block is None:
        return ()
    if not isinstance(block, dict):
        raise SourceError(f"{file}: 'config' must be a mapping of config keys")
    out: list[ConfigDeclaration] = []
    for raw_key, spec in block.items():
        key = _qualify(project, str(raw_key))
        if isinstance(spec, dict) and ({"type", "default", "description", "secret", "items", "value"} & spec.keys()):
            type_name = spec.get("type")
            if type_name is not None and type_name not in _CONFIG_TYPES:
                raise SourceError(
                    f"{file}: config '{raw_key}' has unknown type '{type_name}' (expected one of {', '.join(_CONFIG_TYPES)})"
                )
            has_default = "default" in spec or "value" in spec
            default = spec.get("default", spec.get("value"))
            if has_default and type_name is not None and not _has_type(default, type_name):
                raise SourceError(f"{file}: default of config '{raw_key}' is not of type '{type_name}'")
            out.append(ConfigDeclaration(key, type_name, default, has_default, bool(spec.get("secret", False))))
        else:
            # The short form `key: value` sets a project-wide value.
            out.append(ConfigDeclaration(key, None, spec, True, False))
    return tuple(out)


# What Go's strconv.Atoi accepts: the text form of an integer config value Pulumi takes.
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_INT64 = range(-(2**63), 2**63)


def _has_type(value: Any, type_name: str) -> bool:
    """Whether a config value is of a declared type as Pulumi judges it (workspace.ValidateConfigValue).

    `pulumi config set` stores every value as text (`nodeCount: "3"`), and Pulumi accepts the text of
    an integer for `integer` and "true"/"false" for `boolean`; refusing what `pulumi preview` accepts
    would stop a stack that the real CLI runs.
    """
    expected = _CONFIG_TYPES[type_name]
    if expected is int:
        if isinstance(value, str):
            return _INTEGER_TEXT.fullmatch(value) is not None and int(value) in _INT64
        if isinstance(value, float):
            return value.is_integer()
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is bool and isinstance(value, str):
        return value in ("true", "false")
    return isinstance(value, expected)


def _resolve(path: Path, file: Path, what: str) -> Path:
    """`path` with symlinks and `..` resolved; SourceError for a symlink loop or a path that cannot be resolved."""
    try:
        return path.resolve()
    except RuntimeError:  # Python 3.11 and 3.12 report a symlink loop so
        raise SourceError(f"{file}: {what} is a symlink loop") from None
    except OSError as error:
        raise SourceError(f"{file}: {what} cannot be resolved: {error.strerror or type(error).__name__}") from None


def load_project(project_dir: Path | str) -> Project:
    """Read and validate `Pulumi.yaml`; SourceError (one line, naming the file) when it is unusable."""
    root = Path(project_dir)
    file = find_project_file(root)
    data = _read_yaml(file, "project file")
    if not isinstance(data, dict):
        raise SourceError(f"{file}: not a Pulumi project file (expected a mapping with 'name' and 'runtime')")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SourceError(f"{file}: missing project 'name'")
    runtime = data.get("runtime")
    options: Mapping[str, Any] = {}
    if isinstance(runtime, dict):
        options = runtime.get("options") or {}
        runtime = runtime.get("name")
    if runtime is None:
        raise SourceError(f"{file}: missing 'runtime' (expected 'python')")
    if runtime != "python":
        raise SourceError(f"{file}: runtime '{runtime}' is not supported (only 'python' programs can be rendered)")
    main = data.get("main", ".")
    if not isinstance(main, str) or not main.strip():
        raise SourceError(f"{file}: 'main' must be a path relative to the project directory")
    main_path = _resolve(root / main, file, "'main'")
    if os.path.isabs(main) or not main_path.is_relative_to(_resolve(root, file, "the project folder")):
        raise SourceError(f"{file}: project 'main' must be a subfolder of the project ({main})")
    program: Path | None = None
    if main_path.is_file():
        main_dir, program = main_path.parent, main_path
    elif main_path.is_dir():
        main_dir = main_path
    else:
        raise SourceError(f"{file}: project 'main' {main} does not exist")
    config_dir_raw = data.get("stackConfigDir", ".")
    if not isinstance(config_dir_raw, str):
        raise SourceError(f"{file}: 'stackConfigDir' must be a path")
    stack_config_dir = _resolve(root / config_dir_raw, file, "'stackConfigDir'")
    stacks: tuple[str, ...] = ()
    if stack_config_dir.is_dir():
        stacks = tuple(
            sorted(
                p.name[len("Pulumi."):-len(".yaml")]
                for p in stack_config_dir.glob("Pulumi.*.yaml")
                if p.is_file() and p.name.count(".") >= 2
            )
        )
    return Project(
        name=name,
        root=root.resolve(),
        file=file.resolve(),
        main_dir=main_dir,
        stack_config_dir=stack_config_dir,
        stacks=stacks,
        declarations=_declarations(name, data.get("config"), file),
        runtime_options=dict(options) if isinstance(options, dict) else {},
        program=program,
    )


def _secure_to_placeholder(value: Any) -> tuple[Any, bool]:
    """Replace every `{secure: ...}` leaf by REDACTED; the flag says whether there was one."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return REDACTED, True
        found = False
        out: dict[str, Any] = {}
        for k, v in value.items():
            out[str(k)], inner = _secure_to_placeholder(v)
            found = found or inner
        return out, found
    if isinstance(value, list):
        items = [_secure_to_placeholder(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


_CONFIG_KEY_LINE = re.compile(r"^(\s*)([A-Za-z][\w-]*:[A-Za-z][\w-]*):")


def config_key_positions(text: str) -> dict[str, tuple[int, int]]:
    """Where a stack config file sets each `namespace:key`: key -> (line, column) of its first setting.

    Findings about a stack's config point there (a message names the key it is about).
    """
    positions: dict[str, tuple[int, int]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _CONFIG_KEY_LINE.match(line)
        if match:
            positions.setdefault(match.group(2), (number, len(match.group(1)) + 1))
    return positions


def load_stack_config(project: Project, stack: str, *, collect_missing: bool = False) -> StackConfig:
    """A stack's effective config; SourceError naming the file when it is missing or malformed.

    A key Pulumi.yaml declares without a default and the stack does not set is an error naming every
    such key, unless `collect_missing`: then they are in `missing`, for the render to name them with
    the keys the program requires (one run names them all).
    """
    file = project.stack_file(stack)
    values: dict[str, Any] = {}
    secret_keys: set[str] = set()
    digest: str | None = None
    if not file.is_file():
        raise SourceError(
            f"{project.relative(file)}: stack '{stack}' has no config file (stacks found: {known_stacks(project)})",
            hint="see --stack",
        )
    raw = _read_bytes(file, "stack config file")
    digest = hashlib.sha256(raw).hexdigest()
    data = _read_yaml(file, "stack config file", raw)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SourceError(f"{project.relative(file)}: not a stack config file (expected a mapping)")
    block = data.get("config") or {}
    if not isinstance(block, dict):
        raise SourceError(f"{project.relative(file)}: 'config' must be a mapping of config keys")
    block_keys = set()
    missing: list[tuple[str, bool]] = []
    for raw_key, raw_value in block.items():
        key = _qualify(project.name, str(raw_key))
        block_keys.add(key)
        value, secret = _secure_to_placeholder(raw_value)
        values[key] = value
        if secret:
            secret_keys.add(key)
    for decl in project.declarations:
        if decl.key in values:
            if decl.type is not None and decl.key not in secret_keys and not _has_type(values[decl.key], decl.type):
                raise SourceError(
                    f"{project.relative(file)}: config '{decl.key}' must be of type '{decl.type}' (declared in {project.file.name})"
                )
        elif decl.has_default:
            values[decl.key] = decl.default
        else:
            missing.append((decl.key, decl.secret))
        if decl.secret and decl.key in block_keys and decl.key not in secret_keys:
            # as `pulumi` does: a value declared secret must be stored encrypted (`pulumi config set --secret`)
            raise SourceError(
                f"{project.relative(file)}: config '{decl.key}' is declared secret and must be a secure value:"
                f" write `{decl.key}: {{secure: <anything>}}` (offline, a dummy value is fine: dpaguard never decrypts it;"
                " `pulumi config set --secret` writes a real one)"
            )
        if decl.secret:
            secret_keys.add(decl.key)
    if missing and not collect_missing:
        declared = f"declared in {project.file.name} without a default"
        if len(missing) == 1:
            text = f"{missing_config_text(missing[0][0], project.relative(file), missing[0][1])} ({declared})"
        else:
            text = missing_configs_text([(k, s, declared) for k, s in missing], project.relative(file))
        raise SourceError(f"{project.relative(file)}: stack '{stack}': {text}")
    return StackConfig(
        stack=short_stack_name(stack),
        file=file,
        values=values,
        secret_keys=frozenset(secret_keys),
        sha256=digest,
        positions=config_key_positions(raw.decode("utf-8", errors="replace")),
        missing=tuple(missing),
    )
