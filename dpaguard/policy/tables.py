"""The DPA tables of policies/dpa/ (catalogue, clause ledger, sub-processors, retention, locations, settings,
property types), each read strictly: a fault is a PolicyError naming the file and line.
The clause ledger is read in clauses.py; its loader is re-exported here."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from dpaguard.errors import PolicyError
from dpaguard.examined import JUDGE_CONDITIONS, NEEDS
from dpaguard.model import CONTROL_SUBJECTS, ENVIRONMENTS, LEVELS, Control, ControlId
from dpaguard.policy.clauses import OUTSIDE, load_clauses
from dpaguard.policy.waivers import DEFAULT_WAIVER_MAX_DAYS, WAIVER_BLANKET, WAIVER_EXPIRED, WAIVER_MALFORMED
from dpaguard.policy.yaml_lines import date_of, keyed_entries, line_of, list_of, located, read_yaml, require

CATEGORIES = (
    "residency",
    "transit-encryption",
    "segregation",
    "backup",
    "retention",
    "subprocessor",
    "access",
    "secrets",
    "hygiene",
    "assurance",
    "updates",
    "incident",
)
SEVERITIES = ("critical", "high", "medium", "low")
CONTROL_ID = re.compile(r"^DPA-[A-Z]{2,5}-\d{3}$")
# Who evaluates a control (controls.yaml `evaluated_by`): the Rego policies (the default), checkov
# (the default of controls that apply to repository files), or dpaguard's Python (the waiver controls).
REGO, CHECKOV, DPAGUARD = "rego", "checkov", "dpaguard"
EVALUATORS = (REGO, CHECKOV, DPAGUARD)
CLAUSES_FILE = "clauses.yaml"


def load_controls(path: Path) -> tuple[tuple[Control, ...], tuple[str, ...], dict[ControlId, str]]:
    document = read_yaml(path)
    categories = tuple(list_of(document, "categories", path))
    unknown = sorted(set(categories) - set(CATEGORIES))
    if unknown:
        raise PolicyError(f"{path}: unknown categories {unknown}; allowed: {list(CATEGORIES)}")
    controls: list[Control] = []
    evaluators: dict[ControlId, str] = {}
    for entry, control_id, what, where in keyed_entries(document, "controls", path, "control", "id"):
        if not CONTROL_ID.match(control_id):
            raise PolicyError(f"{where}: {what}: id must look like DPA-<AREA>-<NNN>")
        category = require(entry, "category", str, path, what)
        if category not in categories:
            raise PolicyError(f"{where}: {what}: category `{category}` is not one of {list(categories)}")
        severity = require(entry, "severity", str, path, what)
        if severity not in SEVERITIES:
            raise PolicyError(f"{where}: {what}: severity `{severity}` is not one of {list(SEVERITIES)}")
        enforcement = require(entry, "enforcement", dict, path, what)
        if set(enforcement) != set(ENVIRONMENTS) or any(v not in LEVELS for v in enforcement.values()):
            raise PolicyError(f"{where}: {what}: enforcement must give prod, staging and dev each one of {list(LEVELS)}")
        applies_to = require(entry, "applies_to", list, path, what)
        if not applies_to or not all(isinstance(t, str) and t for t in applies_to):
            raise PolicyError(f"{where}: {what}: applies_to must be a non-empty list of type patterns")
        evaluator = entry.get("evaluated_by", CHECKOV if list(applies_to) == ["file"] else REGO)
        if evaluator not in EVALUATORS:
            raise PolicyError(f"{where}: {what}: evaluated_by must be one of {list(EVALUATORS)}")
        evaluators[ControlId(control_id)] = evaluator
        unknown_keys = set(entry) - {"id", "title", "description", "clause", "category", "severity", "enforcement",
                                     "applies_to", "help", "evaluated_by", "judges", "needs", "about"}
        if unknown_keys:
            raise PolicyError(f"{where}: {what}: unknown keys {sorted(unknown_keys)}")
        judges = entry.get("judges") or {}
        if not isinstance(judges, dict) or any(
                not isinstance(k, str) or v not in JUDGE_CONDITIONS for k, v in judges.items()):
            raise PolicyError(f"{where}: {what}: judges maps type patterns to one of {list(JUDGE_CONDITIONS)}")
        needs = entry.get("needs")
        if needs is not None and (needs not in NEEDS or list(applies_to) != ["stack"]):
            raise PolicyError(f"{where}: {what}: needs is one of {list(NEEDS)}, for a stack-level control (applies_to: [stack])")
        about = entry.get("about", "program")
        if about not in CONTROL_SUBJECTS:
            raise PolicyError(f"{where}: {what}: about is one of {list(CONTROL_SUBJECTS)}")
        controls.append(
            Control(
                id=ControlId(control_id),
                title=require(entry, "title", str, path, what),
                description=require(entry, "description", str, path, what),
                clause=require(entry, "clause", str, path, what),
                category=category,
                severity=severity,
                enforcement=dict(enforcement),
                applies_to=tuple(applies_to),
                help=str(entry.get("help", "")),
                judges=dict(judges),
                needs=needs,
                about=about,
            )
        )
    defined = {control.id for control in controls}
    for required in (WAIVER_EXPIRED, WAIVER_MALFORMED, WAIVER_BLANKET):
        if required not in defined:
            raise PolicyError(f"{path}: the catalogue must define {required} (waiver findings)")
        if evaluators[required] != DPAGUARD:
            raise PolicyError(f"{path}: {required} is evaluated by dpaguard itself (evaluated_by: {DPAGUARD})")
    return tuple(controls), categories, evaluators


def load_retired(path: Path, control_ids: set[str]) -> dict[str, str]:
    """The `retired` entries of controls.yaml: id -> "retired <date>: <reason>" (the ratchet quotes it)."""
    document = read_yaml(path)
    retired: dict[str, str] = {}
    if not isinstance(document, dict) or document.get("retired") is None:
        return retired
    for entry, control_id, what, where in keyed_entries(document, "retired", path, "retired control", "id"):
        if control_id in control_ids:
            raise PolicyError(f"{where}: {what}: is both retired and in `controls`")
        date, reason = date_of(entry.get("date")), entry.get("reason")
        if date is None or not isinstance(reason, str) or not reason.strip():
            raise PolicyError(f"{where}: {what}: a retired control needs a `date` (YYYY-MM-DD) and a `reason`")
        retired[control_id] = f"retired {date.isoformat()}: {' '.join(reason.split())}"
    return retired


def load_subprocessors(path: Path) -> dict[str, Any]:
    document = read_yaml(path)
    entries = []
    packages: dict[str, str] = {}
    for entry, name, what, where in keyed_entries(document, "subprocessors", path, "sub-processor", "name"):
        location = require(entry, "location", str, path, what)
        if not re.fullmatch(r"[A-Z]{2}", location):
            raise PolicyError(f"{where}: {what}: location must be an ISO 3166 country code (FR, US, ...)")
        # null: the date is unknown (the DPA text gives none); never a guessed date.
        notified, added = date_of(entry.get("notified")), date_of(entry.get("added"))
        if (notified is None and entry.get("notified") is not None) or (added is None and entry.get("added") is not None):
            raise PolicyError(f"{where}: {what}: `notified` and `added` must be dates (YYYY-MM-DD) or null (unknown)")
        if (notified is None) != (added is None):
            raise PolicyError(f"{where}: {what}: `notified` and `added` are both dates or both null (unknown)")
        entry_packages = require(entry, "packages", list, path, what)
        for package in entry_packages:
            if not isinstance(package, str) or package in packages:
                raise PolicyError(f"{where}: {what}: package {package!r} is not a string or maps to two sub-processors")
            packages[package] = name
        scope = entry.get("scope")
        if scope is not None and (not isinstance(scope, list) or not scope or not all(isinstance(p, str) and p for p in scope)):
            raise PolicyError(f"{where}: {what}: `scope` must list the resource type patterns of its registered service")
        entries.append(
            {
                "name": name,
                "service": require(entry, "service", str, path, what),
                "location": location,
                "transfer_measure": require(entry, "transfer_measure", str, path, what),
                "notified": notified.isoformat() if notified else None,
                "added": added.isoformat() if added else None,
                "packages": list(entry_packages),
                "scope": list(scope) if scope is not None else None,
            }
        )
    removed = []
    listed = document if isinstance(document, dict) and document.get("removed") is not None else {"removed": []}
    for entry, name, what, where in keyed_entries(listed, "removed", path, "removed sub-processor", "name"):
        if name in {e["name"] for e in entries}:
            raise PolicyError(f"{where}: {what}: is both in `subprocessors` and `removed`")
        notified, gone = date_of(entry.get("notified")), date_of(entry.get("removed"))
        if (notified is None and entry.get("notified") is not None) or (gone is None and entry.get("removed") is not None):
            raise PolicyError(f"{where}: {what}: `notified` and `removed` must be dates (YYYY-MM-DD) or null (unknown)")
        replaced_by = entry.get("replaced_by")
        if replaced_by is not None and not isinstance(replaced_by, str):
            raise PolicyError(f"{where}: {what}: `replaced_by` names the entry that took its service over")
        removed.append({"name": name, "notified": notified.isoformat() if notified else None,
                        "removed": gone.isoformat() if gone else None, "replaced_by": replaced_by})
    non_processing = list_of(document, "non_processing_packages", path)
    dynamic = document.get("dynamic_modules", {})
    if not isinstance(dynamic, dict):
        raise PolicyError(f"{path}: `dynamic_modules` must be a mapping")
    return {
        "entries": entries,
        "by_name": {entry["name"]: entry for entry in entries},
        "by_package": packages,
        "removed": removed,
        "non_processing_packages": [str(p) for p in non_processing],
        "dynamic_modules": {str(k): str(v) for k, v in dynamic.items()},
    }


def load_retention(path: Path) -> dict[str, Any]:
    document = read_yaml(path)
    categories: dict[str, Any] = {}
    for entry, category_id, what, where in keyed_entries(document, "categories", path, "data category", "id"):
        record: dict[str, Any] = {
            "id": category_id,
            "name": require(entry, "name", str, path, what),
            "personal": require(entry, "personal", bool, path, what),
            "legal_basis": require(entry, "legal_basis", str, path, what),
            "clause": require(entry, "clause", str, path, what),
            "client_set": None,
            "min_days": None,
            "max_days": None,
            "stored": entry.get("stored", True),
        }
        if not isinstance(record["stored"], bool):
            raise PolicyError(f"{where}: {what}: `stored` must be true or false")
        if not record["stored"] and (entry.get("client_set") or entry.get("min_days") is not None or entry.get("max_days") is not None):
            raise PolicyError(f"{where}: {what}: a category that is not stored has no retention bounds")
        if "client_set" in entry:
            key = require(entry, "client_set", str, path, what)
            if not key.startswith("dpaguard:"):
                raise PolicyError(f"{where}: {what}: client_set must name a `dpaguard:` stack config key")
            record["client_set"] = key
        else:
            for bound in ("min_days", "max_days"):
                if bound not in entry:
                    raise PolicyError(f"{where}: {what}: missing `{bound}` (null when the DPA sets none)")
                value = entry[bound]
                if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                    raise PolicyError(f"{where}: {what}: `{bound}` must be a number of days or null")
                record[bound] = value
            if record["min_days"] is not None and record["max_days"] is not None and record["min_days"] > record["max_days"]:
                raise PolicyError(f"{where}: {what}: min_days exceeds max_days")
        categories[category_id] = record
    return {"categories": categories}


def _named_in_appendix_c(sites: Any, named: set[Any]) -> str:
    """Whether a place's hosting sites are named in Appendix C §1.2: all, some, none, or unknown (no sites)."""
    if not sites:
        return "unknown"
    hits = sum(1 for site in sites if site in named)
    return "all" if hits == len(sites) else "some" if hits else "none"


def load_locations(path: Path) -> dict[str, Any]:
    document = read_yaml(path)
    if not isinstance(document, dict):
        raise PolicyError(f"{path}: expected a mapping at the top level")
    countries = list_of(document, "approved_countries", path)
    datacenters = list_of(document, "appendix_c_datacenters", path)
    scaleway = document.get("scaleway")
    datapacket = document.get("datapacket")
    if not isinstance(scaleway, dict) or not isinstance(scaleway.get("regions"), dict) or not isinstance(scaleway.get("zones"), dict):
        raise PolicyError(f"{path}: `scaleway` must hold `regions` and `zones` mappings")
    if not isinstance(datapacket, dict) or not isinstance(datapacket.get("locations"), dict):
        raise PolicyError(f"{path}: `datapacket` must hold a `locations` mapping")
    for section, table in (("scaleway.regions", scaleway["regions"]), ("scaleway.zones", scaleway["zones"]), ("datapacket.locations", datapacket["locations"])):
        for name, entry in table.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("country"), str):
                raise PolicyError(f"{located(path, line_of(entry))}: {section}.{name}: needs a `country`")
    for zone, entry in scaleway["zones"].items():
        if entry.get("region") not in scaleway["regions"]:
            raise PolicyError(f"{located(path, line_of(entry))}: scaleway.zones.{zone}: unknown region {entry.get('region')!r}")
    approved = set(countries)
    named = {d.get("name") for d in datacenters if isinstance(d, dict)}
    for section, table in (("scaleway.zones", scaleway["zones"]), ("datapacket.locations", datapacket["locations"])):
        for name, entry in table.items():
            sites = entry.get("sites")
            if sites is not None and (not isinstance(sites, list) or not sites or not all(isinstance(s, str) and s for s in sites)):
                raise PolicyError(f"{located(path, line_of(entry))}: {section}.{name}: `sites` must list hosting site names, or be null (unknown)")

    def plain(table: Mapping[str, Any]) -> dict[str, Any]:
        return {k: {**{kk: vv for kk, vv in v.items()}, "appendix_c": _named_in_appendix_c(v.get("sites"), named)} for k, v in table.items()}

    # other_clouds: package -> place -> ISO country, or null for a place spanning several countries
    other = document.get("other_clouds") or {}
    if not isinstance(other, dict) or not all(
            isinstance(places, dict) and all(isinstance(place, str) and place == place.lower()
                                             and (country is None or isinstance(country, str) and re.fullmatch(r"[A-Z]{2}", country))
                                             for place, country in places.items())
            for places in other.values()):
        raise PolicyError(f"{located(path, line_of(other))}: other_clouds maps each package to lower-case places, "
                          "each an ISO 3166 country code (FR, DE, ...) or null (several countries)")

    return {
        "approved_countries": list(countries),
        "appendix_c_datacenters": [dict(d) for d in datacenters],
        "scaleway": {
            "regions": plain(scaleway["regions"]),
            "zones": plain(scaleway["zones"]),
            "approved_regions": sorted(k for k, v in scaleway["regions"].items() if v["country"] in approved),
            "approved_zones": sorted(k for k, v in scaleway["zones"].items() if v["country"] in approved),
        },
        "datapacket": {
            "locations": plain(datapacket["locations"]),
            "approved_locations": sorted(k for k, v in datapacket["locations"].items() if v["country"] in approved),
        },
        "other_clouds": {str(package): dict(places) for package, places in other.items()},
    }


# A floor is compared as semver by updates.rego, which compares only plain MAJOR.MINOR.PATCH (its
# `_plain_semver`): a floor the rule could not compare is refused here, on loading.
_SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
_ADVISORY = re.compile(r"CVE-[0-9]{4}-[0-9]{4,}")


def load_versions(path: Path) -> dict[str, Any]:
    """versions.yaml: per resource type, each engine version's end of life and the security floors, each with its source.

    Read into `data.dpa.versions`: `engines` {type: [{version, end_of_life, source}]} and `floors`
    {type: [{below, since, advisory, source}]}. A missing file is an empty table (every version
    unrecorded, no floor); a date must be a date, never guessed.
    """
    document = read_yaml(path, required=False)
    engines: dict[str, Any] = {}
    floors: dict[str, Any] = {}
    if document is None:
        return {"engines": engines, "floors": floors}
    for entry, type_token, what, where in keyed_entries(document, "engines", path, "engine", "type"):
        if set(entry) not in ({"type", "versions"}, {"type", "versions", "floors"}):
            raise PolicyError(f"{where}: {what}: an engine gives exactly `type` and `versions`, and may give `floors`")
        versions: list[dict[str, str]] = []
        for item in require(entry, "versions", list, path, what):
            if not isinstance(item, dict) or set(item) != {"version", "end_of_life", "source"}:
                raise PolicyError(f"{located(path, line_of(item)) if isinstance(item, dict) else where}: {what}: "
                                  "each version gives exactly `version`, `end_of_life` (YYYY-MM-DD) and `source`")
            eol = date_of(item["end_of_life"])
            if not isinstance(item["version"], str) or not item["version"] or eol is None \
                    or not isinstance(item["source"], str) or not item["source"].strip():
                raise PolicyError(f"{located(path, line_of(item))}: {what}: version {item['version']!r} needs a version, "
                                  "an end_of_life date (YYYY-MM-DD) and a source")
            versions.append({"version": item["version"], "end_of_life": eol.isoformat(), "source": item["source"].strip()})
        engines[type_token] = versions
        if "floors" in entry:
            floors[type_token] = _floors(entry, path, what, where)
    return {"engines": engines, "floors": floors}


def _floors(entry: Mapping[str, Any], path: Path, what: str, where: str) -> list[dict[str, str]]:
    """An engine's security floors: versions below `below` carry `advisory`, by the notice of `since` at `source`."""
    floors: list[dict[str, str]] = []
    for item in require(entry, "floors", list, path, what):
        if not isinstance(item, dict) or set(item) != {"below", "since", "advisory", "source"}:
            raise PolicyError(f"{located(path, line_of(item)) if isinstance(item, dict) else where}: {what}: "
                              "each floor gives exactly `below`, `since` (YYYY-MM-DD), `advisory` and `source`")
        since = date_of(item["since"])
        if not isinstance(item["below"], str) or not _SEMVER.fullmatch(item["below"]) or since is None \
                or not isinstance(item["advisory"], str) or not _ADVISORY.fullmatch(item["advisory"]) \
                or not isinstance(item["source"], str) or not item["source"].strip():
            raise PolicyError(f"{located(path, line_of(item))}: {what}: floor {item['below']!r} needs `below` as MAJOR.MINOR.PATCH "
                              "(quoted), a `since` date (YYYY-MM-DD), a CVE id as `advisory` and a source")
        floors.append({"below": item["below"], "since": since.isoformat(), "advisory": item["advisory"],
                       "source": item["source"].strip()})
    return floors


def load_settings(path: Path) -> dict[str, Any]:
    document = read_yaml(path)
    if not isinstance(document, dict):
        raise PolicyError(f"{path}: expected a mapping at the top level")
    for key in ("defaults", "provider_defaults", "environment_names"):
        if not isinstance(document.get(key), dict):
            raise PolicyError(f"{path}: `{key}` must be a mapping")
    for key in ("admin_ports", "plaintext_ports"):
        for entry in list_of(document, key, path):
            if not isinstance(entry, dict) or not isinstance(entry.get("port"), int) or not isinstance(entry.get("name"), str):
                raise PolicyError(f"{located(path, line_of(entry))}: {key}: each entry needs an integer `port` and a `name`")
    for entry in list_of(document, "media_ports", path):
        if (not isinstance(entry, dict) or not all(isinstance(entry.get(k), int) and not isinstance(entry.get(k), bool) for k in ("from", "to"))
                or not 0 < entry["from"] <= entry["to"] <= 65535 or not isinstance(entry.get("name"), str)):
            raise PolicyError(f"{located(path, line_of(entry))}: media_ports: each entry needs ports `from` <= `to` (1-65535) and a `name`")
    media_tag = document.get("media_encryption_tag")
    if not isinstance(media_tag, dict) or not isinstance(media_tag.get("key"), str) or not isinstance(media_tag.get("value"), str):
        raise PolicyError(f"{path}: media_encryption_tag needs a `key` and a `value`")
    backup_tag = document.get("backup_tag")
    if not isinstance(backup_tag, dict) or not isinstance(backup_tag.get("key"), str) or not isinstance(backup_tag.get("value"), str):
        raise PolicyError(f"{path}: backup_tag needs a `key` and a `value`")
    deletion = document.get("deletion")
    days = deletion.get("retrievable_max_days") if isinstance(deletion, dict) else None
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise PolicyError(f"{path}: deletion needs `retrievable_max_days`, a whole number of days (1 or more)")
    tag = document.get("environment_tag")
    if (
        not isinstance(tag, dict)
        or not isinstance(tag.get("keys"), list) or not tag["keys"] or not all(isinstance(k, str) for k in tag["keys"])
        or not isinstance(tag.get("values"), dict)
        or not all(env in ENVIRONMENTS and isinstance(names, list) and all(isinstance(n, str) and n == n.lower() for n in names)
                   for env, names in tag["values"].items())
    ):
        raise PolicyError(
            f"{located(path, line_of(tag))}: environment_tag needs `keys` (a list of tag keys) and `values` "
            f"(each of {', '.join(ENVIRONMENTS)} to a list of lower-case tag values)"
        )
    waivers = document.get("waivers", {"max_days": DEFAULT_WAIVER_MAX_DAYS})
    max_days = waivers.get("max_days") if isinstance(waivers, dict) else None
    if isinstance(max_days, bool) or not isinstance(max_days, int) or not 1 <= max_days <= 36_500:
        raise PolicyError(f"{located(path, line_of(waivers))}: waivers.max_days must be a number of days from 1 to 36500")
    document["waivers"] = {"max_days": max_days}
    places = document.setdefault("other_cloud_regions", {})
    if not isinstance(places, dict) or not all(
        isinstance(entry, dict) and set(entry) <= {"properties", "config"}
        and all(isinstance(entry.get(k, []), list) and all(isinstance(v, str) for v in entry.get(k, [])) for k in ("properties", "config"))
        for entry in places.values()
    ):
        raise PolicyError(f"{located(path, line_of(places))}: other_cloud_regions maps a provider package to "
                          f"`properties` and `config` (lists of names)")
    parents = document.setdefault("placed_by_parent", {})
    if not isinstance(parents, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in parents.items()):
        raise PolicyError(f"{located(path, line_of(parents))}: placed_by_parent maps a type token to the property naming its parent")
    firewalls = document.setdefault("other_firewalls", {})
    if not isinstance(firewalls, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in firewalls.items()):
        raise PolicyError(f"{located(path, line_of(firewalls))}: other_firewalls maps a firewall's type token to the shape of its rules")
    notice = document.get("subprocessor_notice_working_days")
    if isinstance(notice, bool) or not isinstance(notice, int) or not 0 <= notice <= 365:
        raise PolicyError(f"{path}: subprocessor_notice_working_days must be a number of working days from 0 to 365")
    shared = document.get("shared_resources")
    if not isinstance(shared, dict) or not all(
        isinstance(kind, str) and isinstance(types, list) and all(isinstance(t, str) for t in types)
        for kind, types in shared.items()
    ):
        raise PolicyError(f"{located(path, line_of(shared))}: shared_resources must map each kind (network, ...) to a list of type tokens")
    internet = document.get("internet")
    if not isinstance(internet, dict) or any(
        isinstance(internet.get(key), bool) or not isinstance(internet.get(key), int) or not 0 <= internet[key] <= bits
        for key, bits in (("ipv4_prefix", 32), ("ipv6_prefix", 128))
    ):
        raise PolicyError(f"{located(path, line_of(internet))}: internet needs ipv4_prefix (0 to 32) and ipv6_prefix (0 to 128)")
    for name, environment in document["environment_names"].items():
        if environment not in ENVIRONMENTS:
            raise PolicyError(f"{path}: environment_names.{name}: `{environment}` is not one of {list(ENVIRONMENTS)}")
    plain: dict[str, Any] = json.loads(json.dumps(document))
    return plain


_PROPERTY_TYPES = ("boolean", "integer", "string", "list", "object")
# The facts the normaliser makes of a resource's tags (properties.yaml `tags`).
TAG_FACTS = ("env_tag", "data_category", "media_encryption", "backup_copy")


def _property_type(schema: Any, where: str, path: Path, control_ids: set[str] | None) -> None:
    """Validate one entry of properties.yaml (and its items or fields); control_ids for a top-level entry."""
    if not isinstance(schema, dict) or schema.get("type") not in _PROPERTY_TYPES:
        raise PolicyError(f"{located(path, line_of(schema))}: {where}: `type` must be one of {', '.join(_PROPERTY_TYPES)}")
    if control_ids is not None:
        controls = schema.get("controls")
        if not isinstance(controls, list) or not controls or not all(isinstance(c, str) for c in controls):
            raise PolicyError(f"{located(path, line_of(schema))}: {where}: `controls` must list the controls that read it")
        for control in controls:
            if control not in control_ids:
                raise PolicyError(f"{located(path, line_of(schema))}: {where}: unknown control {control}")
    if "presence" in schema and (control_ids is None or not isinstance(schema["presence"], bool)):
        raise PolicyError(f"{located(path, line_of(schema))}: {where}: `presence` is true or false, on a property only")
    if "items" in schema:
        if schema["type"] != "list":
            raise PolicyError(f"{located(path, line_of(schema))}: {where}: only a list has `items`")
        _property_type(schema["items"], f"{where}[]", path, None)
    if "fields" in schema:
        if schema["type"] != "object" or not isinstance(schema["fields"], dict):
            raise PolicyError(f"{located(path, line_of(schema))}: {where}: only an object has `fields` (a mapping)")
        for name, field in schema["fields"].items():
            _property_type(field, f"{where}.{name}", path, None)


def load_property_types(path: Path, control_ids: set[str]) -> dict[str, Any]:
    document = read_yaml(path)
    if not isinstance(document, dict) or not isinstance(document.get("types"), dict):
        raise PolicyError(f"{path}: expected `types:` mapping resource types to their properties")
    for type_token, properties in document["types"].items():
        if not isinstance(properties, dict):
            raise PolicyError(f"{located(path, line_of(properties))}: {type_token}: expected a mapping of properties")
        for name, schema in properties.items():
            _property_type(schema, f"{type_token}.{name}", path, control_ids)
    links = document.get("links", [])
    if not isinstance(links, list) or not all(
        isinstance(link, dict) and all(isinstance(link.get(k), str) and link[k] for k in ("fact", "target", "by", "property"))
        for link in links
    ):
        raise PolicyError(f"{located(path, line_of(links))}: `links` must list {{fact, target, by, property, controls}} entries")
    for link in links:
        controls = link.get("controls")
        if not isinstance(controls, list) or not controls or not all(c in control_ids for c in controls):
            raise PolicyError(f"{located(path, line_of(link))}: links: `controls` must list the controls that read linked.{link['fact']}")
    tags = document.get("tags", [])
    if not isinstance(tags, list):
        raise PolicyError(f"{located(path, line_of(tags))}: `tags` must list {{fact, controls, types}} entries")
    for entry in tags:
        where = located(path, line_of(entry))
        if not isinstance(entry, dict) or entry.get("fact") not in TAG_FACTS:
            raise PolicyError(f"{where}: tags: `fact` must be one of {', '.join(TAG_FACTS)}")
        controls, types = entry.get("controls"), entry.get("types", [])
        if not isinstance(controls, list) or not controls or not all(isinstance(c, str) for c in controls):
            raise PolicyError(f"{where}: tags: `controls` must list the controls that read {entry['fact']}")
        for control in controls:
            if control not in control_ids:
                raise PolicyError(f"{where}: tags: unknown control {control}")
        if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
            raise PolicyError(f"{where}: tags: `types` must list resource types")
    plain: dict[str, Any] = json.loads(json.dumps({"types": document["types"], "links": links, "tags": tags}))
    return plain


def untyped_reads(read: Sequence[str] | None, types: Mapping[str, Any]) -> list[str]:
    """Properties a rule reads by name that properties.yaml types for no resource type."""
    typed = {name for properties in types["types"].values() for name in properties}
    return sorted(set(read or ()) - typed)


__all__ = [  # load_clauses and OUTSIDE are clauses.py's, re-exported: the policy loader and tests import them from here
    "CATEGORIES", "SEVERITIES", "CONTROL_ID", "REGO", "CHECKOV", "DPAGUARD", "EVALUATORS", "CLAUSES_FILE", "OUTSIDE",
    "TAG_FACTS", "load_controls", "load_retired", "load_clauses", "load_subprocessors", "load_retention", "load_locations",
    "load_versions", "load_settings", "load_property_types", "untyped_reads",
]
