"""The inventory: which sub-processors and hosting locations each stack's resources actually use.

Counted from the facts the normaliser made for the engine (so a resource's sub-processor and place
are exactly what the controls judged), for the report's inventory against Appendix B and Appendix
C §1.2: what is used, how much, and what the DPA lists that nothing uses.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping

from dpaguard.facts import Facts
from dpaguard.model import RegisteredProcessor, Usage
from dpaguard.policy import DpaData

UNKNOWN_PLACE = "unknown"


SITES_SEPARATOR = " or "


def _sites(entry: Mapping[str, Any]) -> str | None:
    """The hosting sites a zone or location may place a resource in (locations.yaml `sites`), None when unknown."""
    sites = entry.get("sites")
    return SITES_SEPARATOR.join(str(s) for s in sites) if isinstance(sites, list) and sites else None


def site_names(site: str) -> list[str]:
    """The hosting sites a Usage's `site` names (a zone may span several)."""
    return site.split(SITES_SEPARATOR)


def _place(resource: Mapping[str, Any], locations: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """(location name, hosting site) of a resource, None when it has no place (an IAM policy, a stack reference)."""
    props = resource.get("props") or {}
    if isinstance(resource.get("place"), str) and resource["place"]:
        return str(resource["place"]), None  # another cloud's region or location: no hosting site recorded
    if resource.get("package") == "datapacket" or "datapacket" in str(resource.get("type", "")):
        name = props.get("actualLocation") or props.get("location")
        if not isinstance(name, str) or not name:
            return (UNKNOWN_PLACE, None) if resource.get("country") else None
        return name, _sites(locations.get("datapacket", {}).get("locations", {}).get(name, {}))
    locality = resource.get("locality") or {}
    scope = locality.get("scope")
    if scope not in ("zone", "region"):
        return None
    if locality.get("status") != "known":
        return UNKNOWN_PLACE, None
    if scope == "zone" and isinstance(locality.get("zone"), str):
        zone = locality["zone"]
        return zone, _sites(locations.get("scaleway", {}).get("zones", {}).get(zone, {}))
    region = locality.get("region")
    return (region, None) if isinstance(region, str) else (UNKNOWN_PLACE, None)


def _other_cloud_country(resource: Mapping[str, Any], locations: Mapping[str, Any]) -> str | None:
    """The country locations.yaml `other_clouds` records for another cloud's place (DPA-RES-008), None when none."""
    country = (locations.get("other_clouds") or {}).get(str(resource.get("package", "")), {}).get(resource.get("place"))
    return country if isinstance(country, str) else None


def usage_of(facts: Facts, locations: Mapping[str, Any], register: Mapping[str, Any] | None = None) -> tuple[Usage, ...]:
    """Per stack, each sub-processor and each location its resources use, with how many resources.

    A provider Appendix B does not register (with `register`, subprocessors.yaml) is listed under its
    package name, so the inventory shows it beside the registered ones (DPA-SUB-001 is its finding).
    """
    non_processing = set((register or {}).get("non_processing_packages", ()))
    processors: Counter[tuple[str, str]] = Counter()
    places: Counter[tuple[str, str, str | None, str | None]] = Counter()
    for resource in facts.get("resources", ()):
        if "recorded_of" in resource:
            continue  # a second view of a resource counted already
        stack = str(resource.get("stack", ""))
        if resource.get("subprocessor"):
            processors[(stack, str(resource["subprocessor"]))] += 1
        elif register is not None and resource.get("package") and resource["package"] not in non_processing:
            processors[(stack, str(resource["package"]))] += 1
        place = _place(resource, locations)
        if place is not None:
            country = resource.get("country") or _other_cloud_country(resource, locations)
            places[(stack, place[0], country if isinstance(country, str) else None, place[1])] += 1
    usage = [Usage(stack, "subprocessor", name, count) for (stack, name), count in processors.items()]
    usage += [Usage(stack, "location", name, count, country, site) for (stack, name, country, site), count in places.items()]
    return tuple(sorted(usage, key=lambda u: (u.stack, u.kind, u.name, u.country or "", u.site or "")))


def register(dpa: DpaData) -> tuple[tuple[RegisteredProcessor, ...], tuple[tuple[str, str], ...]]:
    """Appendix B's sub-processors and Appendix C §1.2's hosting sites, from the policy's DPA tables."""
    processors = tuple(
        RegisteredProcessor(str(e["name"]), str(e.get("service", "")), str(e.get("location", "")))
        for e in dpa.get("subprocessors", {}).get("entries", ())
    )
    sites = tuple(
        (str(d.get("name", "")), str(d.get("location", "")))
        for d in dpa.get("locations", {}).get("appendix_c_datacenters", ())
    )
    return processors, sites
