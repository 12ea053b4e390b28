"""What the Terraform plan export needs to know about pulumiverse-scaleway: types, attribute names, block shapes.

Terraform types come from scaleway_terraform.yaml (the installed package does not ship the bridge's
metadata). Everything else is read from the installed pulumiverse_scaleway package's own source,
without importing it: each resource class's `pulumi.Alias` (deprecated tokens), its
`@pulumi.getter(name=...)` properties (wire name -> Python name, which is the Terraform attribute
name the bridge derived), and their annotations (a single nested `outputs.X` object is a MaxItems=1
block, a one-element list in Terraform; `Mapping[...]` is a Terraform map).
"""

from __future__ import annotations

import functools
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from dpaguard.errors import InputError

TABLE_FILE = Path(__file__).with_name("scaleway_terraform.yaml")
PACKAGE = "pulumiverse_scaleway"

_GETTER = re.compile(
    r"@pulumi\.getter(?:\(name=\"(?P<wire>[^\"]+)\"\))?\s*\n\s*def (?P<py>\w+)\(self\) -> (?:pulumi\.Output\[)?(?P<ann>.*?)\]?:\s*\n"
)
_ALIAS = re.compile(r"pulumi\.Alias\(type_=\"([^\"]+)\"\)")
_CLASS = re.compile(r"^class (\w+)\((?:dict|pulumi\.CustomResource)\):", re.MULTILINE)
_NESTED = re.compile(r"'outputs\.(\w+)'")
_MAP = re.compile(r"(?:Optional\[)?Mapping\[")


@dataclass(frozen=True)
class Attribute:
    """One property of a resource or nested block, as Terraform names and shapes it."""

    name: str  # Terraform attribute name
    shape: str  # "value" | "map" | "block" (MaxItems=1, a one-element list) | "blocks" (list of objects)
    nested: str | None = None  # the package's outputs class of a block's elements


@dataclass(frozen=True)
class Schema:
    """The attributes of one resource type or nested block class, keyed by Pulumi wire name."""

    attributes: Mapping[str, Attribute] = field(default_factory=dict)
    module: str = ""


@dataclass(frozen=True)
class TypeInfo:
    """A Pulumi type token's Terraform identity."""

    token: str  # the current token
    terraform_type: str
    renames: Mapping[str, str]


def camel_to_snake(name: str) -> str:
    """`backupSameRegion` -> `backup_same_region` (the bridge's rule for names the package does not list)."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name).lower()


@functools.lru_cache(maxsize=1)
def package_dir() -> Path | None:
    """The installed pulumiverse_scaleway package directory, or None."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _module_file(token: str) -> Path | None:
    """`scaleway:databases/readReplica:ReadReplica` -> `<package>/databases/read_replica.py`."""
    root = package_dir()
    try:
        _, middle, _ = token.split(":")
        module, name = middle.split("/")
    except ValueError:
        return None
    if root is None:
        return None
    folder = root if module == "index" else root / module
    path = folder / f"{camel_to_snake(name)}.py"
    return path if path.is_file() else None


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    try:
        data = yaml.safe_load(TABLE_FILE.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise InputError(f"{TABLE_FILE}: cannot read the Terraform type table: {error}") from None
    return data if isinstance(data, dict) else {}


def provider_name() -> str:
    """The Terraform provider address of the Scaleway provider."""
    return str(_table().get("provider_name", "registry.terraform.io/scaleway/scaleway"))


def terraform_version() -> str:
    """The Terraform version the export claims to be (the plan format it follows)."""
    return str(_table().get("terraform_version", "1.9.8"))


@functools.lru_cache(maxsize=1)
def type_table() -> dict[str, TypeInfo]:
    """Every known token, current and deprecated (from the package's aliases), -> its TypeInfo."""
    table: dict[str, TypeInfo] = {}
    for token, entry in (_table().get("resources") or {}).items():
        info = TypeInfo(token=token, terraform_type=str(entry["type"]), renames=dict(entry.get("renames") or {}))
        table[token] = info
        file = _module_file(token)
        if file is not None:
            for alias in _ALIAS.findall(file.read_text(encoding="utf-8")):
                table.setdefault(alias, info)
    return table


def _parse_classes(text: str) -> dict[str, dict[str, tuple[str, str]]]:
    """class name -> {wire name: (python name, annotation)} for every dict/CustomResource class of a file."""
    classes: dict[str, dict[str, tuple[str, str]]] = {}
    starts = list(_CLASS.finditer(text))
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        getters: dict[str, tuple[str, str]] = {}
        for getter in _GETTER.finditer(text, match.end(), end):
            python = getter.group("py")
            getters[getter.group("wire") or python] = (python, getter.group("ann"))
        classes[match.group(1)] = getters
    return classes


def _attributes(getters: Mapping[str, tuple[str, str]], renames: Mapping[str, str]) -> dict[str, Attribute]:
    attributes = {}
    for wire, (python, annotation) in getters.items():
        nested = _NESTED.search(annotation)
        if _MAP.match(annotation):
            shape = "map"
        elif nested and "Sequence[" in annotation:
            shape = "blocks"
        elif nested:
            shape = "block"
        else:
            shape = "value"
        attributes[wire] = Attribute(renames.get(wire, python), shape, nested.group(1) if nested else None)
    return attributes


@functools.lru_cache(maxsize=None)
def _outputs(module: str) -> dict[str, dict[str, tuple[str, str]]]:
    root = package_dir()
    if root is None:
        return {}
    path = (root if module == "index" else root / module) / "outputs.py"
    return _parse_classes(path.read_text(encoding="utf-8")) if path.is_file() else {}


@functools.lru_cache(maxsize=None)
def resource_schema(token: str) -> Schema:
    """The attributes of a resource type, from its class in the installed package (empty if not found)."""
    info = type_table().get(token)
    current = info.token if info else token
    file = _module_file(current)
    if file is None:
        return Schema()
    classes = _parse_classes(file.read_text(encoding="utf-8"))
    class_name = current.rsplit(":", 1)[-1]
    getters = classes.get(class_name, {})
    module = current.split(":")[1].split("/")[0]
    return Schema(attributes=_attributes(getters, info.renames if info else {}), module=module)


@functools.lru_cache(maxsize=None)
def block_schema(module: str, class_name: str) -> Schema:
    """The attributes of a nested block class (`outputs.ClusterAcl`) of a module."""
    entry = (_table().get("blocks") or {}).get(f"{module}/{class_name}") or {}
    renames = dict(entry.get("renames") or {})
    return Schema(attributes=_attributes(_outputs(module).get(class_name, {}), renames), module=module)
