"""The Pulumi analyzer protocol's messages read as the stack-export shape every other stage reads.

The engine marshals resource properties with unknowns and secrets kept (`KeepUnknowns`,
`KeepSecrets`): an unknown value during preview is one of the SDK's unknown sentinels (one per
kind: string, number, bool, array, object, asset, archive) and a secret is
`{SECRET_SIG_KEY: SECRET_SIG, "value": <plaintext>}`. `pulumi_policy` unwraps the secrets and
hides unknowns behind a proxy that skips the policy; here both are read from the protobuf
itself: every unknown becomes the model's UNKNOWN (a policy then decides "undetermined", as the
CLI does) and every secret becomes a placeholder before anything else sees the value.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from google.protobuf import struct_pb2

from dpaguard.model import SECRET_SIG, SECRET_SIG_KEY, UNKNOWN
from dpaguard.deployment.redact import redact_properties, secret_placeholder
from dpaguard.urn import is_provider_type

# The SDK's unknown sentinels (pulumi/sdk/go/common/resource/plugin/rpc.go); the string one is UNKNOWN.
UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # bool
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        UNKNOWN,  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


def value(v: struct_pb2.Value) -> Any:
    """One protobuf value as a plain value: unknowns as UNKNOWN, secrets as placeholders, whole floats as ints."""
    kind = v.WhichOneof("kind")
    if kind == "string_value":
        text = v.string_value
        return UNKNOWN if text in UNKNOWN_SENTINELS else text
    if kind == "number_value":
        number = v.number_value
        # Pulumi numbers are float64; a stack export writes 30, not 30.0, and messages must read the same.
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "bool_value":
        return v.bool_value
    if kind == "struct_value":
        return struct(v.struct_value)
    if kind == "list_value":
        return [value(item) for item in v.list_value.values]
    return None


def struct(s: struct_pb2.Struct) -> Any:
    """A protobuf Struct as a dict; a secret wrapper becomes a placeholder without reading its value."""
    fields = s.fields
    sig = fields.get(SECRET_SIG_KEY)
    if sig is not None and sig.WhichOneof("kind") == "string_value" and sig.string_value == SECRET_SIG:
        return secret_placeholder()
    return {key: value(item) for key, item in fields.items()}


def properties(s: struct_pb2.Struct) -> dict[str, Any]:
    """A resource's property map, redacted as every source redacts (secrets, sensitive-named plaintext)."""
    converted = struct(s)
    if not isinstance(converted, dict) or SECRET_SIG_KEY in converted:
        return {}
    redacted = redact_properties(converted)
    return redacted if isinstance(redacted, dict) else {}


def provider_reference(urn: str) -> str:
    """A provider reference (`<providerURN>::<id>`): the analyzer protocol carries no provider id.

    The engine itself uses the unknown ID for providers that are not created yet; the provider
    resources this module builds carry the same id, so references resolve either way.
    """
    return f"{urn}::{UNKNOWN}"


def _provider_resource(provider: Any) -> dict[str, Any]:
    return {
        "urn": provider.urn,
        "custom": True,
        "id": UNKNOWN,
        "type": provider.type,
        "inputs": properties(provider.properties),
        "outputs": {},
    }


def _is_custom(resource_type: str, has_provider: bool) -> bool:
    # The protocol does not say whether a resource is custom; every custom resource has a provider
    # (a default one at least), components and the stack have none.
    return has_provider or is_provider_type(resource_type)


def analyze_request_resources(request: Any) -> list[dict[str, Any]]:
    """An Analyze request (one resource's inputs, before it is created) as export resources: its provider, then it."""
    resources: list[dict[str, Any]] = []
    has_provider = request.HasField("provider") and bool(request.provider.urn)
    custom = _is_custom(request.type, has_provider)
    resource: dict[str, Any] = {
        "urn": request.urn,
        "custom": custom,
        "type": request.type,
        "inputs": properties(request.properties),
        "outputs": {},
    }
    if custom:
        resource["id"] = UNKNOWN  # not created yet
    if request.options.parent:
        resource["parent"] = request.options.parent
    if has_provider:
        resources.append(_provider_resource(request.provider))
        resource["provider"] = provider_reference(request.provider.urn)
    resources.append(resource)
    return resources


def analyze_stack_resources(request: Any) -> list[dict[str, Any]]:
    """An AnalyzeStack request (every resource's outputs) as export resources, in the engine's order.

    The engine sends outputs only; a resource's inputs are also among its outputs for the providers
    of this estate, so both are set, as in a stack export. A bridged resource's outputs hold its
    `id`; a provider's id is not sent and is the unknown ID.
    """
    resources: list[dict[str, Any]] = []
    present = {r.urn for r in request.resources}
    for r in request.resources:
        props = properties(r.properties)
        has_provider = r.HasField("provider") and bool(r.provider.urn)
        resource: dict[str, Any] = {
            "urn": r.urn,
            "custom": _is_custom(r.type, has_provider),
            "type": r.type,
            "inputs": props,
            "outputs": props,
        }
        if is_provider_type(r.type):
            resource["id"] = UNKNOWN
        elif resource["custom"]:
            resource["id"] = props["id"] if isinstance(props.get("id"), str) else UNKNOWN
        if r.parent:
            resource["parent"] = r.parent
        if has_provider:
            resource["provider"] = provider_reference(r.provider.urn)
        if r.dependencies:
            resource["dependencies"] = list(r.dependencies)
        if r.propertyDependencies:
            resource["propertyDependencies"] = {k: list(v.urns) for k, v in r.propertyDependencies.items()}
        resources.append(resource)
        if has_provider and r.provider.urn not in present:
            # A provider the stack list does not hold (it is always there in practice): keep its config.
            present.add(r.provider.urn)
            resources.insert(0, _provider_resource(r.provider))
    return resources


def to_struct(data: Mapping[str, Any]) -> struct_pb2.Struct:
    """A plain mapping as a protobuf Struct (what the engine sends; used by tests and benchmarks)."""
    result = struct_pb2.Struct()
    result.update(_plain(dict(data)))
    return result


def _plain(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {str(k): _plain(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_plain(v) for v in data]
    return data


def urns(resources: Iterable[Mapping[str, Any]]) -> list[str]:
    """The URNs of export resources, in order."""
    return [str(r["urn"]) for r in resources]
