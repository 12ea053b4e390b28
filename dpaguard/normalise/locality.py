"""Where a resource is: its region, zone or site, its Scaleway project, and the country they are in.

A resource is where its own inputs say, else where its provider is configured, else where the
stack's `scaleway:*` config places the default provider; a resource read with `.get()` is where
its ID says. The places are the DPA's tables (policies/dpa/locations.yaml, Appendix C).
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from dpaguard.engine.encoding import printable
from dpaguard.model import REDACTED, UNKNOWN
from dpaguard.deployment.types import DATAPACKET_SERVER, canonical_type
from dpaguard.deployment.redact import is_secret
from dpaguard.urn import parse_urn

NOT_EXPECTED = {"expected": False, "value": None, "status": "known", "source": "none"}


def camel(key: str) -> str:
    """`project_id` -> `projectId`; a camelCase key as it is."""
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _text(value: Any) -> str:
    """A locality or project value as text: anything else in that place is malformed, and shown as it is."""
    if is_secret(value):
        return REDACTED  # a provider input or config value given as a secret: its ciphertext is no locality
    return printable(value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str))


def _locality_value(
    key: str, props: Mapping[str, Any], provider: Mapping[str, Any] | None, config: Mapping[str, Any]
) -> tuple[Any, str]:
    if key in props and props[key] not in (None, ""):
        return _text(props[key]), "resource"
    if provider and provider.get(key) not in (None, ""):
        return _text(provider[key]), "provider"
    configured = config.get(f"scaleway:{key}")
    if configured not in (None, ""):
        return _text(configured), "stack"
    return None, "none"


_PROJECT_TYPE = "scaleway:account/project:Project"


def created_project(sources: Any) -> str | None:
    """`<name> (created by the stack)` when a value was computed from one project the stack creates, and nothing else."""
    urns = {u for u in sources if isinstance(u, str)} if isinstance(sources, list) else set()
    parsed = [parse_urn(u) for u in urns]
    if len(parsed) != 1 or parsed[0] is None or canonical_type(parsed[0][2].rsplit("$", 1)[-1]) != _PROJECT_TYPE:
        return None
    return f"{printable(parsed[0][3])} (created by the stack)"


def _status(value: Any) -> str:
    if value is None:
        return "missing"
    if value == UNKNOWN:
        return "unknown"
    return "known"


class Locator:
    """Places resources with the DPA's location tables and settings (`policy.data`)."""

    def __init__(self, locations: Mapping[str, Any], settings: Mapping[str, Any]) -> None:
        self.locations = locations
        self.settings = settings

    def locality(
        self, info: Any, props: Mapping[str, Any], provider: Mapping[str, Any] | None, config: Mapping[str, Any], type_token: str = "",
    ) -> dict[str, Any]:
        """{scope, region, zone, status, source}: where a resource is, by the inputs its type takes."""
        takes_zone = bool(info and info.zone) or props.get("zone") not in (None, "")
        takes_region = bool(info and info.region) or props.get("region") not in (None, "")
        both = bool(info and info.zone and info.region)
        if both and props.get("zone") in (None, "") and (
            props.get("region") not in (None, "") or type_token in self.settings.get("regional_types", ())
        ):
            # A type that takes either (a private network): one that names its region is regional, and so
            # is one of a regional type (settings.yaml) that names no zone of its own.
            takes_zone = False
        if not (takes_zone or takes_region):
            return {"scope": "none", "region": None, "zone": None, "status": "known", "source": "none"}
        zones = self.locations["scaleway"]["zones"]
        if takes_zone:
            zone, source = _locality_value("zone", props, provider, config)
            status = _status(zone)
            region = zones.get(zone, {}).get("region") if status == "known" and isinstance(zone, str) else zone
            if status == "known" and region is None and isinstance(zone, str):
                region = zone.rsplit("-", 1)[0]
            zonal = {"scope": "zone", "region": region, "zone": zone, "status": status, "source": source}
            if not takes_region or zone not in self.locations["scaleway"]["approved_zones"]:
                return zonal
            # A type that takes both (private network, pool, load balancer) is where its region says when one is
            # given: a French zone beside another region must not hide that region.
            other, other_source = _locality_value("region", props, provider, config)
            if other is None or other == region:
                return zonal
            return {"scope": "region", "region": other, "zone": zone, "status": _status(other), "source": other_source}
        region, source = _locality_value("region", props, provider, config)
        return {"scope": "region", "region": region, "zone": None, "status": _status(region), "source": source}

    def with_region(self, settings: Mapping[str, Any] | None, prefix: str = "") -> dict[str, Any]:
        """Provider settings with the region a zone implies when only the zone is set (as the provider derives it)."""
        out = dict(settings or {})
        zone = out.get(f"{prefix}zone")
        if out.get(f"{prefix}region") in (None, "") and isinstance(zone, str) and zone and zone != UNKNOWN:
            known = self.locations["scaleway"]["zones"].get(zone, {}).get("region")
            out[f"{prefix}region"] = known or zone.rsplit("-", 1)[0]
        return out

    def read_locality(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Where a read-only resource (`.get()`) is: its ID carries it (`fr-par/...`, `fr-par-2/...`)."""
        identifier = raw.get("id")
        head = identifier.split("/", 1)[0] if isinstance(identifier, str) and "/" in identifier else ""
        zones, regions = self.locations["scaleway"]["zones"], self.locations["scaleway"]["regions"]
        if head in zones:
            return {"scope": "zone", "region": zones[head]["region"], "zone": head, "status": "known", "source": "id"}
        if head in regions or re.fullmatch(r"[a-z]{2}-[a-z]{3}", head):
            return {"scope": "region", "region": head, "zone": None, "status": "known", "source": "id"}
        if re.fullmatch(r"[a-z]{2}-[a-z]{3}-\d", head):
            return {"scope": "zone", "region": head.rsplit("-", 1)[0], "zone": head, "status": "known", "source": "id"}
        return {"scope": "none", "region": None, "zone": None, "status": "known", "source": "none"}

    def parent_locality(self, identifier: Any, sources: Any, placed: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any] | None:
        """Where a parent is: by the place its ID carries (`fr-par/<uuid>`), else by the one resource of the
        stack its ID was computed from (`propertyDependencies`), when that one is placed; None otherwise."""
        if isinstance(identifier, str) and identifier != UNKNOWN:
            carried = self.read_locality({"id": identifier})
            return carried if carried["status"] == "known" and carried["scope"] != "none" else None
        urns = {u for u in sources if isinstance(u, str)} if isinstance(sources, list) else set()
        parent = placed.get(next(iter(urns))) if len(urns) == 1 else None
        return parent if parent is not None and parent["status"] == "known" and parent["scope"] != "none" else None

    def project(
        self, info: Any, props: Mapping[str, Any], provider: Mapping[str, Any] | None, config: Mapping[str, Any],
        dependencies: Any = None,
    ) -> dict[str, Any]:
        """{expected, value, status, source}: the Scaleway project of a resource whose type takes one."""
        if info is None or not info.project:
            return {"expected": False, "value": None, "status": "known", "source": "none"}
        value, source = _locality_value("projectId", props, provider, config)
        if value == UNKNOWN and source == "resource":
            # The ID of a project the program creates is unknown until apply, but which project it is is not.
            created = created_project(dependencies.get("projectId") if isinstance(dependencies, Mapping) else None)
            if created is not None:
                return {"expected": True, "value": created, "status": "known", "source": source}
        return {"expected": True, "value": value, "status": _status(value), "source": source}

    def country(self, fact: Mapping[str, Any]) -> str | None:
        """The country a resource is in ("unknown" when its place is), None when it has no place."""
        locality = fact["locality"]
        if fact["type"] == DATAPACKET_SERVER:
            props = fact["props"]
            location = props.get("actualLocation") or props.get("location")
            if location == UNKNOWN or props.get("countryCode") == UNKNOWN:
                return "unknown"
            known = self.locations["datapacket"]["locations"].get(location) if isinstance(location, str) else None
            code = props.get("countryCode")
            return known["country"] if known else (code if isinstance(code, str) and code else "unknown")
        if locality["scope"] == "none":
            return None
        if locality["status"] != "known":
            return "unknown"
        scaleway = self.locations["scaleway"]
        table, key = (scaleway["zones"], locality["zone"]) if locality["scope"] == "zone" else (scaleway["regions"], locality["region"])
        return str(table.get(key, {}).get("country", "unknown")) if isinstance(key, str) else "unknown"

    def place(self, package: str, props: Mapping[str, Any], provider: Mapping[str, Any] | None,
              config: Mapping[str, Any]) -> str | None:
        """Where a resource of another cloud is, as its provider places it (settings `other_cloud_regions`), or None."""
        rule = self.settings.get("other_cloud_regions", {}).get(package)
        if not rule:
            return None
        candidates = [props.get(name) for name in rule.get("properties", ())]
        candidates += [(provider or {}).get(name) for name in rule.get("properties", ())]
        candidates += [config.get(key) for key in rule.get("config", ())]
        for value in candidates:
            if isinstance(value, str) and value.strip() and value != UNKNOWN and value != REDACTED:
                return printable(value.strip().lower())
        return None
