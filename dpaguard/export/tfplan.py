"""A deployment as Terraform plan JSON (format 1.2), so checkov, conftest, Regula or Trivy can scan a Pulumi estate.

pulumiverse-scaleway is bridged from the Scaleway Terraform provider, so each Scaleway resource has a
Terraform twin: its type comes from scaleway_terraform.yaml (plus the package's deprecated-token
aliases), its attribute names and block shapes from the installed package (see scaleway.py).

The plan is a plan to create everything (`actions: ["create"]`, `before: null`): a scanner sees the
estate as it would be deployed. Secret values are left out and marked in `sensitive_values` /
`after_sensitive`; values unknown during preview are left out and marked in `after_unknown`.
`region`/`zone` the program left to the provider are filled from the provider's config, as the
provider itself does at plan time. Resources with no Terraform equivalent (the stack, providers,
components, dynamic resources such as DataPacket servers, other packages) are listed in the
top-level `dpaguard_untranslated` note, never dropped silently; `dpaguard_addresses` maps each
Terraform address back to its Pulumi URN.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping, Sequence

from dpaguard import __version__
from dpaguard.export import scaleway
from dpaguard.export.scaleway import Attribute, Schema
from dpaguard.model import SECRET_SIG_KEY, UNKNOWN, Deployment
from dpaguard.urn import STACK_TYPE, is_default_provider, is_provider_type, name_of, provider_type, provider_urn_of

FORMAT_VERSION = "1.2"
_NAME_BAD = re.compile(r"[^A-Za-z0-9_-]")
_DEFAULT_PLACEMENT = ("region", "zone")

Mask = Any  # True, or a dict / list of masks, as Terraform nests sensitive_values and after_unknown


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and SECRET_SIG_KEY in value


def _is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value == UNKNOWN


def _guess(value: Any) -> str:
    """The shape of a property the package does not describe."""
    if isinstance(value, dict):
        nested = any(isinstance(v, (dict, list)) for v in value.values())
        return "block" if nested else "map"
    if isinstance(value, list) and value and all(isinstance(v, dict) and not _is_secret(v) for v in value):
        return "blocks"
    return "value"


def _leaf(value: Any) -> tuple[Any, Mask, Mask]:
    """A primitive, a list of primitives or a map: (value, sensitive mask, unknown mask)."""
    if _is_secret(value):
        return None, True, None
    if _is_unknown(value):
        return None, None, True
    if isinstance(value, list):
        items, sens, unk = [], [], []
        for item in value:
            v, s, u = _leaf(item)
            items.append(v)
            sens.append(s or False)
            unk.append(u or False)
        return items, (sens if any(sens) else None), (unk if any(unk) else None)
    if isinstance(value, dict):
        out, sens_map, unk_map = {}, {}, {}
        for key, item in value.items():
            v, s, u = _leaf(item)
            if s:
                sens_map[key] = s
            elif u:
                unk_map[key] = u
            else:
                out[key] = v
        return out, (sens_map or None), (unk_map or None)
    return value, None, None


def _object(properties: Mapping[str, Any], schema: Schema) -> tuple[dict[str, Any], dict[str, Mask], dict[str, Mask]]:
    """Pulumi properties -> Terraform attributes, with their sensitive and unknown masks."""
    values: dict[str, Any] = {}
    sensitive: dict[str, Mask] = {}
    unknown: dict[str, Mask] = {}
    for wire, value in properties.items():
        if wire.startswith("__"):
            continue
        attribute = schema.attributes.get(wire) or Attribute(scaleway.camel_to_snake(wire), _guess(value))
        name = attribute.name
        if _is_secret(value):
            sensitive[name] = True
            continue
        if _is_unknown(value):
            unknown[name] = True
            continue
        nested = scaleway.block_schema(schema.module, attribute.nested) if attribute.nested else Schema(module=schema.module)
        if attribute.shape in ("block", "blocks") and isinstance(value, (dict, list)):
            elements = [value] if isinstance(value, dict) else value
            items, sens, unk = [], [], []
            for element in elements:
                if isinstance(element, dict) and not _is_secret(element):
                    v, s, u = _object(element, nested)
                else:
                    v, s, u = _leaf(element)
                items.append(v)
                sens.append(s or {})
                unk.append(u or {})
            values[name] = items
            if any(sens):
                sensitive[name] = sens
            if any(unk):
                unknown[name] = unk
            continue
        v, s, u = _leaf(value)
        values[name] = v
        if s:
            sensitive[name] = s
        if u:
            unknown[name] = u
    return values, sensitive, unknown


def _expression(value: Any) -> Any:
    """A configuration expression: nested blocks as lists of expression maps, anything else a constant."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [{k: _expression(v) for k, v in element.items()} for element in value]
    return {"constant_value": value}


def _provider_settings(deployment: Deployment) -> dict[str, dict[str, Any]]:
    """Provider URN -> its region/zone: explicit providers' inputs, the default one from the stack config."""
    settings: dict[str, dict[str, Any]] = {}
    for resource in deployment.resources:
        if resource.get("type") == provider_type("scaleway"):
            inputs = resource.get("inputs") or {}
            settings[str(resource["urn"])] = {
                k: inputs[k] for k in _DEFAULT_PLACEMENT if isinstance(inputs.get(k), str) and not _is_unknown(inputs[k])
            }
    return settings


def _default_placement(deployment: Deployment) -> dict[str, str]:
    config = deployment.config
    found = {k: config[f"scaleway:{k}"] for k in _DEFAULT_PLACEMENT if isinstance(config.get(f"scaleway:{k}"), str)}
    return found


def _untranslated(resource: Mapping[str, Any]) -> str | None:
    """Why a resource has no Terraform equivalent, or None when it has one."""
    token = str(resource.get("type", ""))
    if token == STACK_TYPE:
        return "the Pulumi stack itself (no cloud resource)"
    if is_provider_type(token):
        return "a provider (its settings are in configuration.provider_config)"
    parts = token.split(":")
    if len(parts) >= 2 and parts[1].split("/")[0] == "dynamic":  # pulumi-python:dynamic/<module>:<Name>
        return "a Pulumi dynamic resource (no Terraform provider implements it)"
    if not resource.get("custom", True):
        return "a component resource (groups children, no cloud resource of its own)"
    if not token.startswith("scaleway:"):
        return "not a Scaleway resource (only pulumiverse-scaleway types are translated)"
    if token not in scaleway.type_table():
        return "no Terraform type known for this Scaleway token (add it to dpaguard/export/scaleway_terraform.yaml)"
    return None


def _address_name(urn: str, used: set[tuple[str, str]], tf_type: str) -> str:
    name = _NAME_BAD.sub("_", name_of(urn)) or "resource"
    if not (name[0].isalpha() or name[0] == "_"):
        name = f"_{name}"
    candidate, index = name, 2
    while (tf_type, candidate) in used:
        candidate, index = f"{name}_{index}", index + 1
    used.add((tf_type, candidate))
    return candidate


def _provider_key(resource: Mapping[str, Any]) -> tuple[str, str]:
    """(provider URN, provider_config key): `scaleway` for default providers, `scaleway.<name>` for explicit ones."""
    reference = str(resource.get("provider") or "")
    # A malformed reference (no `::`) names no provider block: the resource is given the default one.
    provider_urn = provider_urn_of(reference) if "::" in reference else ""
    if not provider_urn or is_default_provider(provider_urn):
        return provider_urn, "scaleway"
    return provider_urn, f"scaleway.{_NAME_BAD.sub('_', name_of(provider_urn))}"


def _values(resource: Mapping[str, Any], schema: Schema,
            placement: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Mask], dict[str, Mask]]:
    """A translated resource's values and its sensitive and unknown masks: its outputs (else its inputs), the
    provider's placement where the resource gives none, and its additional secret outputs withheld."""
    outputs = resource.get("outputs") or {}
    properties = outputs if outputs else (resource.get("inputs") or {})
    values, sensitive, unknown = _object(properties, schema)
    for key in _DEFAULT_PLACEMENT:
        if key in (a.name for a in schema.attributes.values()) and values.get(key) is None \
                and key not in sensitive and key not in unknown and key in placement:
            values[key] = placement[key]
    for secret_output in resource.get("additionalSecretOutputs") or ():
        attribute = schema.attributes.get(str(secret_output))
        name = attribute.name if attribute else scaleway.camel_to_snake(str(secret_output))
        if name in values:
            del values[name]
            sensitive[name] = True
    return values, sensitive, unknown


def _configured(translated: Sequence[tuple[Mapping[str, Any], dict[str, Any]]],
                by_urn: Mapping[str, str]) -> list[dict[str, Any]]:
    """configuration.root_module.resources: each translated resource's expressions, a property dependency as references."""
    configured: list[dict[str, Any]] = []
    for resource, item in translated:
        dependencies = resource.get("propertyDependencies") or {}
        expressions: dict[str, Any] = {}
        for key, value in item["values"].items():
            expressions[key] = _expression(value)
        for wire, urns in dependencies.items():
            attribute = item["schema"].attributes.get(wire)
            key = attribute.name if attribute else scaleway.camel_to_snake(wire)
            references = [ref for u in urns or () if (target := by_urn.get(u)) for ref in (f"{target}.id", target)]
            if references:
                expressions[key] = {"references": references}
        configured.append({
            "address": item["address"], "mode": "managed", "type": item["type"], "name": item["name"],
            "provider_config_key": item["provider_key"], "expressions": expressions, "schema_version": 0,
        })
    return configured


def to_tfplan(deployment: Deployment) -> dict[str, Any]:
    """The deployment as a Terraform plan JSON document (a dict ready for json.dumps)."""
    provider = scaleway.provider_name()
    default_placement = _default_placement(deployment)
    providers = _provider_settings(deployment)
    planned: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    untranslated: list[dict[str, str]] = []
    addresses: dict[str, str] = {}
    by_urn: dict[str, str] = {}
    used: set[tuple[str, str]] = set()
    provider_configs: dict[str, dict[str, Any]] = {
        "scaleway": {"name": "scaleway", "full_name": provider,
                     "expressions": {k: {"constant_value": v} for k, v in default_placement.items()}},
    }
    translated: list[tuple[Mapping[str, Any], dict[str, Any]]] = []
    for resource in deployment.resources:
        urn = str(resource.get("urn", ""))
        reason = _untranslated(resource)
        if reason:
            untranslated.append({"urn": urn, "type": str(resource.get("type", "")), "reason": reason})
            continue
        token = str(resource["type"])
        info = scaleway.type_table()[token]
        schema = scaleway.resource_schema(token)
        provider_urn, provider_key = _provider_key(resource)
        placement = providers.get(provider_urn) if provider_key != "scaleway" else None
        placement = placement if placement is not None else default_placement
        values, sensitive, unknown = _values(resource, schema, placement)
        if provider_key != "scaleway" and provider_key not in provider_configs:
            provider_configs[provider_key] = {
                "name": "scaleway", "full_name": provider, "alias": provider_key.split(".", 1)[1],
                "expressions": {k: {"constant_value": v} for k, v in (providers.get(provider_urn) or {}).items()},
            }
        name = _address_name(urn, used, info.terraform_type)
        address = f"{info.terraform_type}.{name}"
        addresses[address] = urn
        by_urn[urn] = address
        entry = {
            "address": address, "mode": "managed", "type": info.terraform_type, "name": name,
            "provider_name": provider, "schema_version": 0, "values": values, "sensitive_values": sensitive,
        }
        planned.append(entry)
        changes.append({
            "address": address, "mode": "managed", "type": info.terraform_type, "name": name,
            "provider_name": provider,
            "change": {"actions": ["create"], "before": None, "after": values, "after_unknown": unknown,
                       "before_sensitive": False, "after_sensitive": sensitive},
        })
        translated.append((resource, {"address": address, "schema": schema, "values": values,
                                      "provider_key": provider_key, "type": info.terraform_type, "name": name}))
    configured = _configured(translated, by_urn)
    return {
        "format_version": FORMAT_VERSION,
        "terraform_version": scaleway.terraform_version(),
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {"provider_config": provider_configs, "root_module": {"resources": configured}},
        "applyable": True,
        "complete": True,
        "errored": False,
        "dpaguard_source": {
            "generator": f"dpaguard {__version__}",
            "stack": deployment.stack,
            "project": deployment.project,
            "source": deployment.source,
            "origin": deployment.origin,
        },
        "dpaguard_addresses": addresses,
        "dpaguard_untranslated": untranslated,
    }


def tfplan_json(deployment: Deployment, *, indent: int | None = 2) -> str:
    """to_tfplan as JSON text, ending with a newline."""
    return json.dumps(to_tfplan(deployment), indent=indent, ensure_ascii=False) + "\n"
