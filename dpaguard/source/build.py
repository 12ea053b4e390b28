"""The deployment the engine would write from the runner's records: URNs, the root stack, default providers, order.

The runner (`dpaguard.source._runner`) records what the program registered; this turns those records
into stack-export (version 3) resources the way the Pulumi engine stores them: default providers
synthesized from the stack's `<package>:*` config, provider references, secrets wrapped, every
parent and provider before the resources that name it.
"""

from __future__ import annotations

from typing import Any, Mapping

from dpaguard.model import UNKNOWN
from dpaguard.deployment import redact
from dpaguard.source.project import StackConfig
from dpaguard.urn import PROVIDER_TYPE_PREFIX, STACK_TYPE, provider_type, provider_urn_of, stack_urn as make_stack_urn, urn as make_urn

DYNAMIC_PACKAGE = "pulumi-python"
DYNAMIC_TYPE_PREFIX = f"{DYNAMIC_PACKAGE}:dynamic"
# The pickled provider of a dynamic resource: code, not configuration, and possibly captured secrets.
DYNAMIC_PROVIDER_INPUT = "__provider"


def _qname(text: str) -> str:
    """The engine's `tokens.IntoQName`: a plugin download URL made into a name part."""
    parts = []
    for segment in text.split("/"):
        if not segment:
            continue
        chars = list(segment)
        if not (chars[0].isalpha() or chars[0] in "_."):
            chars[0] = "_"
        for i in range(1, len(chars)):
            if not (chars[i].isalnum() or chars[i] in "_.-"):
                chars[i] = "_"
        parts.append("".join(chars))
    return "/".join(parts) or "_"


def default_provider_name(version: str, plugin_download_url: str) -> str:
    """The name the engine gives a default provider: `default_1_60_0[_github_/api.github.com/pulumiverse]`."""
    name = "default"
    if version:
        name += "_" + version.replace(".", "_").replace("-", "_").replace("+", "_")
    if plugin_download_url:
        name += "_" + _qname(plugin_download_url)
    return name


def _package(type_token: str) -> str:
    return type_token.split(":", 1)[0]


def _mark_secret(properties: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    if not keys:
        return properties
    marked = dict(properties)
    for key in keys:
        if key in marked and not redact.is_secret(marked[key]):
            marked[key] = redact.secret_placeholder()
    return marked


def _source_position(position: Mapping[str, Any] | None) -> str | None:
    if not position:
        return None
    return f"project:///{position['path']}#{position['line']}"


def _default_provider_config(config: StackConfig, package: str) -> dict[str, Any]:
    """What the engine gives a default provider of `package`: its `<package>:*` settings, secrets wrapped.

    The provider of Python dynamic resources (`pulumi-python`) has no settings of its own: the engine
    hands it the whole stack config, keys in full (`project:key`), so a dynamic provider can read it.
    """
    if package == DYNAMIC_PACKAGE:
        settings = config.program_config()
        secret = set(config.secret_keys)
    else:
        settings = config.package_config(package)
        secret = {key for key in settings if f"{package}:{key}" in config.secret_keys}
    return {key: redact.secret_placeholder() if key in secret else value for key, value in settings.items()}


class _DefaultProviders:
    """The default providers the engine registers on demand, one per package, version and download URL."""

    def __init__(self, project: str, stack: str, config: StackConfig, resources: list[dict[str, Any]]) -> None:
        self.project, self.stack, self.config = project, stack, config
        self.resources = resources
        self.references: dict[tuple[str, str, str], str] = {}

    def reference(self, package: str, version: str, url: str) -> str:
        """`urn::id` of the default provider, appended to the resources the first time it is named."""
        key = (package, version, url)
        if key not in self.references:
            urn = make_urn(self.stack, self.project, provider_type(package), default_provider_name(version, url))
            inputs = _default_provider_config(self.config, package)
            # As the engine (3.276) hands them on: the version an input, the download URL kept internal (`__internal`).
            if version:
                inputs["version"] = version
            inputs = redact.redact_properties(dict(sorted(inputs.items())))
            # As in the engine's preview of a new stack: a provider not yet created has no id.
            self.resources.append({"urn": urn, "custom": True, "id": UNKNOWN, "type": provider_type(package),
                                   "inputs": inputs, "outputs": dict(inputs), "dependencies": []})
            self.references[key] = f"{urn}::{UNKNOWN}"
        return self.references[key]


def _inputs(record: Mapping[str, Any]) -> dict[str, Any]:
    type_token: str = record["type"]
    inputs: dict[str, Any] = dict(record.get("inputs") or {})
    if type_token.startswith(DYNAMIC_TYPE_PREFIX):
        inputs.pop(DYNAMIC_PROVIDER_INPUT, None)
    if type_token.startswith(PROVIDER_TYPE_PREFIX):
        # As the engine does for provider resources: the plugin version becomes an input (the URL an internal one).
        if record.get("version") and "version" not in inputs:
            inputs["version"] = record["version"]
    secret_outputs = list(record.get("additionalSecretOutputs") or [])
    redacted: dict[str, Any] = redact.redact_properties(_mark_secret(dict(sorted(inputs.items())), secret_outputs))
    return redacted


def _resource(record: Mapping[str, Any], stack_urn: str, providers: _DefaultProviders) -> dict[str, Any]:
    """One registered or read resource as the engine writes it to state."""
    type_token: str = record["type"]
    inputs = _inputs(record)
    custom = bool(record.get("custom"))
    resource: dict[str, Any] = {"urn": record["urn"], "custom": custom}
    if custom:
        resource["id"] = record.get("id", "")
    resource["type"] = type_token
    resource["inputs"] = inputs
    if custom:
        resource["outputs"] = dict(inputs)
    else:
        resource["outputs"] = redact.redact_properties(record.get("registeredOutputs") or {})
    resource["parent"] = record.get("parent") or (stack_urn if record["urn"] != stack_urn else "")
    if record.get("kind") == "read":
        resource["external"] = True
    provider = record.get("provider") or ""
    package = _package(type_token)
    if custom and not provider and not type_token.startswith(PROVIDER_TYPE_PREFIX) and package != "pulumi":
        # appended now, so it precedes its first user, as the engine registers it on demand
        provider = providers.reference(package, record.get("version", ""), record.get("pluginDownloadURL", ""))
    if provider and custom:
        resource["provider"] = provider
    if record.get("protect"):
        resource["protect"] = True
    if record.get("retainOnDelete"):
        resource["retainOnDelete"] = True
    resource["dependencies"] = list(record.get("dependencies") or [])
    property_dependencies = {k: v for k, v in (record.get("propertyDependencies") or {}).items() if v}
    if property_dependencies:
        resource["propertyDependencies"] = property_dependencies
    secret_outputs = list(record.get("additionalSecretOutputs") or [])
    if secret_outputs:
        resource["additionalSecretOutputs"] = secret_outputs
    if record.get("importId"):
        resource["importID"] = record["importId"]
    position = _source_position(record.get("sourcePosition"))
    if position:
        resource["sourcePosition"] = position
    return resource


def build_resources(records: list[dict[str, Any]], *, project: str, stack: str, config: StackConfig) -> list[dict[str, Any]]:
    """The deployment's resources from the runner's records, as the engine would write them to state."""
    stack_urn = make_stack_urn(stack, project)
    resources: list[dict[str, Any]] = []
    providers = _DefaultProviders(project, stack, config, resources)
    for record in records:
        if record["type"] == STACK_TYPE:
            resources.append({"urn": record["urn"], "custom": False, "type": STACK_TYPE,
                              "outputs": redact.redact_properties(record.get("registeredOutputs") or {})})
            continue
        resource = _resource(record, stack_urn, providers)  # may append its default provider first
        resources.append(resource)
    return resources


def order(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Registration order, with every parent and provider before the resources that name it (as in state)."""
    by_urn = {r["urn"]: r for r in resources}
    placed: set[str] = set()
    ordered: list[dict[str, Any]] = []

    def place(resource: dict[str, Any], depth: int = 0) -> None:
        urn = resource["urn"]
        if urn in placed or depth > 10_000:
            return
        placed.add(urn)
        for ref in (resource.get("parent"), provider_urn_of(resource.get("provider"))):
            if ref and ref in by_urn and ref not in placed:
                place(by_urn[ref], depth + 1)
        ordered.append(resource)

    for resource in resources:
        place(resource)
    return ordered
