"""Load the policy set of policies/: the control catalogue, the DPA tables, the Rego modules and the waivers.

Every file is validated strictly and fails closed: a malformed catalogue, register, retention table or
waiver file, or a Rego module that does not compile, is a PolicyError naming the file and line. A
malformed *entry* of the waiver file is not fatal: it covers nothing and becomes a finding of its own
(DPA-WAI-002); expiry (DPA-WAI-001) and breadth (DPA-WAI-003, a blanket waiver) are judged at
evaluation time against the run's date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import yaml

from dpaguard.errors import EngineError, PolicyError
from dpaguard.model import CLAUSE_STATUSES, ENVIRONMENTS, LEVELS, Clause, Control, ControlId, Waiver
from dpaguard.rego_props import props_read
from dpaguard.yaml_dates import TIMESTAMP_TAG, checked_timestamp

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
)
SEVERITIES = ("critical", "high", "medium", "low")
CONTROL_ID = re.compile(r"^DPA-[A-Z]{2,5}-\d{3}$")
WAIVER_EXPIRED: ControlId = ControlId("DPA-WAI-001")
WAIVER_MALFORMED: ControlId = ControlId("DPA-WAI-002")
WAIVER_BLANKET: ControlId = ControlId("DPA-WAI-003")
# How far ahead a waiver may expire before it is reported as a blanket waiver, when settings.yaml does not say.
# The policy set shipped with dpaguard: inside the installed package (a wheel: setup.py copies
# policies/ there), else beside it (a checkout or an editable install). Used where a project has no
# policies/ of its own.
_INSTALLED_POLICIES = Path(__file__).resolve().parent / "_policies"
SHIPPED_POLICIES = _INSTALLED_POLICIES if _INSTALLED_POLICIES.is_dir() else Path(__file__).resolve().parent.parent / "policies"
DEFAULT_WAIVER_MAX_DAYS = 365
WAIVERS_FILE = "waivers.yaml"
DECISIONS_QUERY = "x = data.dpaguard.main.decisions"
# The package every engine queries (DECISIONS_QUERY): a control is evaluated only by a rule reachable from it.
ENTRY_PACKAGE = "dpaguard.main"
# Who evaluates a control (controls.yaml `evaluated_by`): the Rego policies (the default), checkov
# (the default of controls that apply to repository files), or dpaguard's Python (the waiver controls).
REGO, CHECKOV, DPAGUARD = "rego", "checkov", "dpaguard"
EVALUATORS = (REGO, CHECKOV, DPAGUARD)


class _LineDict(dict[str, Any]):
    """A YAML mapping that remembers the line it starts on."""

    line: int = 0


# libyaml's parser when PyYAML was built with it (five times faster on the catalogue); same safe constructors.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):  # type: ignore[misc]
    """A safe loader whose mappings carry their line number."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    mapping = _LineDict({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(TIMESTAMP_TAG, checked_timestamp)


@dataclass(frozen=True)
class WaiverProblem:
    """A waiver entry that covers nothing because it is malformed (becomes a DPA-WAI-002 finding)."""

    line: int
    stack: str  # the stack pattern it names, "*" when it names none
    message: str


@dataclass(frozen=True)
class Policy:
    """The whole policy set as evaluated: catalogue, DPA tables, Rego modules, waivers and their digest."""

    root: Path
    controls: tuple[Control, ...]
    rego_modules: Mapping[str, str]
    data: Mapping[str, Any]  # the `dpa` document: locations, subprocessors, retention, settings
    waivers: tuple[Waiver, ...]
    waiver_findings: tuple[WaiverProblem, ...]
    sha256: str
    categories: tuple[str, ...] = CATEGORIES
    waiver_lines: Mapping[int, int] = field(default_factory=dict)  # index in `waivers` -> line in waivers.yaml
    # The controls something evaluates: each Rego control emitted by a rule reachable from the entry
    # package, and those of checkov and dpaguard itself. None: not computed (every control counts).
    evaluated_controls: frozenset[ControlId] | None = None
    clauses: tuple[Clause, ...] = ()  # the clause ledger (policies/dpa/clauses.yaml); empty when the set has none
    # What the load's check compiled with OPA (engine.opa_inprocess.CompiledPolicy), for the OPA
    # engine to take instead of compiling it again; None where regopy checked the modules.
    compiled: Any = field(default=None, compare=False, repr=False)
    # Controls taken out of the catalogue (controls.yaml `retired`): id -> "retired <date>: <reason>".
    retired: Mapping[str, str] = field(default_factory=dict)

    def control(self, control_id: str) -> Control:
        """The catalogue entry of a control id; PolicyError when the catalogue has none."""
        for control in self.controls:
            if control.id == control_id:
                return control
        raise PolicyError(f"control {control_id} is not in the catalogue (policies/dpa/controls.yaml)")

    def active_waivers(self, today: dt.date) -> list[Waiver]:
        """The waivers that still cover findings on `today` (an expired one covers nothing)."""
        return [w for w in self.waivers if w.expires >= today]

    def waivers_path(self) -> str:
        """The waiver file as findings point at it."""
        return str(self.root / WAIVERS_FILE)


def _where(path: Path, line: int | None) -> str:
    return f"{path}:{line}" if line else str(path)


def _read_yaml(path: Path, *, required: bool = True) -> Any:
    if not path.exists():
        if required:
            raise PolicyError(f"{path}: missing")
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(f"{path}: cannot read ({error.__class__.__name__})") from None
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise PolicyError(f"{_where(path, line)}: invalid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise PolicyError(f"{path}: invalid YAML: {error}") from None


def _line(value: Any) -> int | None:
    return value.line if isinstance(value, _LineDict) else None


def _require(entry: Any, key: str, kind: type | tuple[type, ...], path: Path, what: str) -> Any:
    if not isinstance(entry, dict) or key not in entry:
        raise PolicyError(f"{_where(path, _line(entry))}: {what}: missing `{key}`")
    value = entry[key]
    if not isinstance(value, kind) or isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise PolicyError(f"{_where(path, _line(entry))}: {what}: `{key}` has the wrong type ({type(value).__name__})")
    return value


def _list_of(document: Any, key: str, path: Path) -> list[Any]:
    if not isinstance(document, dict):
        raise PolicyError(f"{path}: expected a mapping at the top level")
    value = document.get(key)
    if not isinstance(value, list):
        raise PolicyError(f"{_where(path, _line(document))}: `{key}` must be a list")
    return value


def _keyed_entries(document: Any, key: str, path: Path, label: str, id_field: str) -> Iterator[tuple[Any, str, str, str]]:
    """Each entry of a list with its unique id: (entry, id, `<label> <id>` for messages, `file:line`)."""
    seen: set[str] = set()
    for entry in _list_of(document, key, path):
        what = f"{label} {entry.get(id_field, '?') if isinstance(entry, dict) else '?'}"
        where = _where(path, _line(entry))
        entry_id = _require(entry, id_field, str, path, what)
        if entry_id in seen:
            raise PolicyError(f"{where}: {what}: duplicate {id_field}")
        seen.add(entry_id)
        yield entry, entry_id, what, where


def _load_controls(path: Path) -> tuple[tuple[Control, ...], tuple[str, ...], dict[ControlId, str]]:
    document = _read_yaml(path)
    categories = tuple(_list_of(document, "categories", path))
    unknown = sorted(set(categories) - set(CATEGORIES))
    if unknown:
        raise PolicyError(f"{path}: unknown categories {unknown}; allowed: {list(CATEGORIES)}")
    controls: list[Control] = []
    evaluators: dict[ControlId, str] = {}
    for entry, control_id, what, where in _keyed_entries(document, "controls", path, "control", "id"):
        if not CONTROL_ID.match(control_id):
            raise PolicyError(f"{where}: {what}: id must look like DPA-<AREA>-<NNN>")
        category = _require(entry, "category", str, path, what)
        if category not in categories:
            raise PolicyError(f"{where}: {what}: category `{category}` is not one of {list(categories)}")
        severity = _require(entry, "severity", str, path, what)
        if severity not in SEVERITIES:
            raise PolicyError(f"{where}: {what}: severity `{severity}` is not one of {list(SEVERITIES)}")
        enforcement = _require(entry, "enforcement", dict, path, what)
        if set(enforcement) != set(ENVIRONMENTS) or any(v not in LEVELS for v in enforcement.values()):
            raise PolicyError(f"{where}: {what}: enforcement must give prod, staging and dev each one of {list(LEVELS)}")
        applies_to = _require(entry, "applies_to", list, path, what)
        if not applies_to or not all(isinstance(t, str) and t for t in applies_to):
            raise PolicyError(f"{where}: {what}: applies_to must be a non-empty list of type patterns")
        evaluator = entry.get("evaluated_by", CHECKOV if list(applies_to) == ["file"] else REGO)
        if evaluator not in EVALUATORS:
            raise PolicyError(f"{where}: {what}: evaluated_by must be one of {list(EVALUATORS)}")
        evaluators[ControlId(control_id)] = evaluator
        unknown_keys = set(entry) - {"id", "title", "description", "clause", "category", "severity", "enforcement", "applies_to", "help", "evaluated_by"}
        if unknown_keys:
            raise PolicyError(f"{where}: {what}: unknown keys {sorted(unknown_keys)}")
        controls.append(
            Control(
                id=ControlId(control_id),
                title=_require(entry, "title", str, path, what),
                description=_require(entry, "description", str, path, what),
                clause=_require(entry, "clause", str, path, what),
                category=category,
                severity=severity,
                enforcement=dict(enforcement),
                applies_to=tuple(applies_to),
                help=str(entry.get("help", "")),
            )
        )
    defined = {control.id for control in controls}
    for required in (WAIVER_EXPIRED, WAIVER_MALFORMED, WAIVER_BLANKET):
        if required not in defined:
            raise PolicyError(f"{path}: the catalogue must define {required} (waiver findings)")
        if evaluators[required] != DPAGUARD:
            raise PolicyError(f"{path}: {required} is evaluated by dpaguard itself (evaluated_by: {DPAGUARD})")
    return tuple(controls), categories, evaluators


def _load_retired(path: Path, control_ids: set[str]) -> dict[str, str]:
    """The `retired` entries of controls.yaml: id -> "retired <date>: <reason>" (the ratchet quotes it)."""
    document = _read_yaml(path)
    retired: dict[str, str] = {}
    if not isinstance(document, dict) or document.get("retired") is None:
        return retired
    for entry, control_id, what, where in _keyed_entries(document, "retired", path, "retired control", "id"):
        if control_id in control_ids:
            raise PolicyError(f"{where}: {what}: is both retired and in `controls`")
        date, reason = _date(entry.get("date")), entry.get("reason")
        if date is None or not isinstance(reason, str) or not reason.strip():
            raise PolicyError(f"{where}: {what}: a retired control needs a `date` (YYYY-MM-DD) and a `reason`")
        retired[control_id] = f"retired {date.isoformat()}: {' '.join(reason.split())}"
    return retired


CLAUSES_FILE = "clauses.yaml"
_CLAUSE_KEYS = {"id", "title", "title_fr", "quote", "status", "controls", "note"}


def load_clauses(path: Path, control_ids: set[str]) -> tuple[Clause, ...]:
    """The clause ledger: every DPA clause, its quote, its evidence status and the controls enforcing it.

    A missing file is an empty ledger (a policy set of one's own need not map the DPA); a present one
    is validated: known statuses, controls of the catalogue, and none for a clause the gate cannot show.
    """
    if not path.exists():
        return ()
    document = _read_yaml(path)
    clauses: list[Clause] = []
    for entry, clause_id, what, where in _keyed_entries(document, "clauses", path, "clause", "id"):
        unknown_keys = set(entry) - _CLAUSE_KEYS
        if unknown_keys:
            raise PolicyError(f"{where}: {what}: unknown keys {sorted(unknown_keys)}")
        status = _require(entry, "status", str, path, what)
        if status not in CLAUSE_STATUSES:
            raise PolicyError(f"{where}: {what}: status `{status}` is not one of {list(CLAUSE_STATUSES)}")
        controls = _require(entry, "controls", list, path, what)
        if not all(isinstance(c, str) for c in controls):
            raise PolicyError(f"{where}: {what}: `controls` must be a list of control ids")
        unknown = [c for c in controls if c not in control_ids]
        if unknown:
            raise PolicyError(f"{where}: {what}: controls {unknown} are not in the catalogue")
        if status in ("organisational", "not-covered") and controls:
            raise PolicyError(f"{where}: {what}: a clause whose status is {status} has no controls")
        if status not in ("organisational", "not-covered") and not controls:
            raise PolicyError(f"{where}: {what}: a clause whose status is {status} needs the controls that show it")
        quote = _require(entry, "quote", str, path, what)
        if not quote.strip():
            raise PolicyError(f"{where}: {what}: `quote` is empty")
        clauses.append(
            Clause(
                id=clause_id,
                title=_require(entry, "title", str, path, what),
                quote=" ".join(quote.split()),
                status=status,
                controls=tuple(ControlId(c) for c in controls),
                title_fr=str(entry.get("title_fr") or ""),
                note=" ".join(str(entry.get("note") or "").split()),
            )
        )
    return tuple(clauses)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _load_subprocessors(path: Path) -> dict[str, Any]:
    document = _read_yaml(path)
    entries = []
    packages: dict[str, str] = {}
    for entry, name, what, where in _keyed_entries(document, "subprocessors", path, "sub-processor", "name"):
        location = _require(entry, "location", str, path, what)
        if not re.fullmatch(r"[A-Z]{2}", location):
            raise PolicyError(f"{where}: {what}: location must be an ISO 3166 country code (FR, US, ...)")
        # null: the date is unknown (the DPA text gives none); never a guessed date.
        notified, added = _date(entry.get("notified")), _date(entry.get("added"))
        if (notified is None and entry.get("notified") is not None) or (added is None and entry.get("added") is not None):
            raise PolicyError(f"{where}: {what}: `notified` and `added` must be dates (YYYY-MM-DD) or null (unknown)")
        if (notified is None) != (added is None):
            raise PolicyError(f"{where}: {what}: `notified` and `added` are both dates or both null (unknown)")
        entry_packages = _require(entry, "packages", list, path, what)
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
                "service": _require(entry, "service", str, path, what),
                "location": location,
                "transfer_measure": _require(entry, "transfer_measure", str, path, what),
                "notified": notified.isoformat() if notified else None,
                "added": added.isoformat() if added else None,
                "packages": list(entry_packages),
                "scope": list(scope) if scope is not None else None,
            }
        )
    non_processing = _list_of(document, "non_processing_packages", path)
    dynamic = document.get("dynamic_modules", {})
    if not isinstance(dynamic, dict):
        raise PolicyError(f"{path}: `dynamic_modules` must be a mapping")
    return {
        "entries": entries,
        "by_name": {entry["name"]: entry for entry in entries},
        "by_package": packages,
        "non_processing_packages": [str(p) for p in non_processing],
        "dynamic_modules": {str(k): str(v) for k, v in dynamic.items()},
    }


def _load_retention(path: Path) -> dict[str, Any]:
    document = _read_yaml(path)
    categories: dict[str, Any] = {}
    for entry, category_id, what, where in _keyed_entries(document, "categories", path, "data category", "id"):
        record: dict[str, Any] = {
            "id": category_id,
            "name": _require(entry, "name", str, path, what),
            "personal": _require(entry, "personal", bool, path, what),
            "legal_basis": _require(entry, "legal_basis", str, path, what),
            "clause": _require(entry, "clause", str, path, what),
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
            key = _require(entry, "client_set", str, path, what)
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


def _load_locations(path: Path) -> dict[str, Any]:
    document = _read_yaml(path)
    if not isinstance(document, dict):
        raise PolicyError(f"{path}: expected a mapping at the top level")
    countries = _list_of(document, "approved_countries", path)
    datacenters = _list_of(document, "appendix_c_datacenters", path)
    scaleway = document.get("scaleway")
    datapacket = document.get("datapacket")
    if not isinstance(scaleway, dict) or not isinstance(scaleway.get("regions"), dict) or not isinstance(scaleway.get("zones"), dict):
        raise PolicyError(f"{path}: `scaleway` must hold `regions` and `zones` mappings")
    if not isinstance(datapacket, dict) or not isinstance(datapacket.get("locations"), dict):
        raise PolicyError(f"{path}: `datapacket` must hold a `locations` mapping")
    for section, table in (("scaleway.regions", scaleway["regions"]), ("scaleway.zones", scaleway["zones"]), ("datapacket.locations", datapacket["locations"])):
        for name, entry in table.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("country"), str):
                raise PolicyError(f"{_where(path, _line(entry))}: {section}.{name}: needs a `country`")
    for zone, entry in scaleway["zones"].items():
        if entry.get("region") not in scaleway["regions"]:
            raise PolicyError(f"{_where(path, _line(entry))}: scaleway.zones.{zone}: unknown region {entry.get('region')!r}")
    approved = set(countries)
    named = {d.get("name") for d in datacenters if isinstance(d, dict)}
    for section, table in (("scaleway.zones", scaleway["zones"]), ("datapacket.locations", datapacket["locations"])):
        for name, entry in table.items():
            sites = entry.get("sites")
            if sites is not None and (not isinstance(sites, list) or not sites or not all(isinstance(s, str) and s for s in sites)):
                raise PolicyError(f"{_where(path, _line(entry))}: {section}.{name}: `sites` must list hosting site names, or be null (unknown)")

    def plain(table: Mapping[str, Any]) -> dict[str, Any]:
        return {k: {**{kk: vv for kk, vv in v.items()}, "appendix_c": _named_in_appendix_c(v.get("sites"), named)} for k, v in table.items()}

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
    }


def _load_settings(path: Path) -> dict[str, Any]:
    document = _read_yaml(path)
    if not isinstance(document, dict):
        raise PolicyError(f"{path}: expected a mapping at the top level")
    for key in ("defaults", "provider_defaults", "environment_names"):
        if not isinstance(document.get(key), dict):
            raise PolicyError(f"{path}: `{key}` must be a mapping")
    for key in ("admin_ports", "plaintext_ports"):
        for entry in _list_of(document, key, path):
            if not isinstance(entry, dict) or not isinstance(entry.get("port"), int) or not isinstance(entry.get("name"), str):
                raise PolicyError(f"{_where(path, _line(entry))}: {key}: each entry needs an integer `port` and a `name`")
    for entry in _list_of(document, "media_ports", path):
        if (not isinstance(entry, dict) or not all(isinstance(entry.get(k), int) and not isinstance(entry.get(k), bool) for k in ("from", "to"))
                or not 0 < entry["from"] <= entry["to"] <= 65535 or not isinstance(entry.get("name"), str)):
            raise PolicyError(f"{_where(path, _line(entry))}: media_ports: each entry needs ports `from` <= `to` (1-65535) and a `name`")
    media_tag = document.get("media_encryption_tag")
    if not isinstance(media_tag, dict) or not isinstance(media_tag.get("key"), str) or not isinstance(media_tag.get("value"), str):
        raise PolicyError(f"{path}: media_encryption_tag needs a `key` and a `value`")
    tag = document.get("environment_tag")
    if (
        not isinstance(tag, dict)
        or not isinstance(tag.get("keys"), list) or not tag["keys"] or not all(isinstance(k, str) for k in tag["keys"])
        or not isinstance(tag.get("values"), dict)
        or not all(env in ENVIRONMENTS and isinstance(names, list) and all(isinstance(n, str) and n == n.lower() for n in names)
                   for env, names in tag["values"].items())
    ):
        raise PolicyError(
            f"{_where(path, _line(tag))}: environment_tag needs `keys` (a list of tag keys) and `values` "
            f"(each of {', '.join(ENVIRONMENTS)} to a list of lower-case tag values)"
        )
    waivers = document.get("waivers", {"max_days": DEFAULT_WAIVER_MAX_DAYS})
    max_days = waivers.get("max_days") if isinstance(waivers, dict) else None
    if isinstance(max_days, bool) or not isinstance(max_days, int) or not 1 <= max_days <= 36_500:
        raise PolicyError(f"{_where(path, _line(waivers))}: waivers.max_days must be a number of days from 1 to 36500")
    document["waivers"] = {"max_days": max_days}
    places = document.setdefault("other_cloud_regions", {})
    if not isinstance(places, dict) or not all(
        isinstance(entry, dict) and set(entry) <= {"properties", "config"}
        and all(isinstance(entry.get(k, []), list) and all(isinstance(v, str) for v in entry.get(k, [])) for k in ("properties", "config"))
        for entry in places.values()
    ):
        raise PolicyError(f"{_where(path, _line(places))}: other_cloud_regions maps a provider package to "
                          f"`properties` and `config` (lists of names)")
    notice = document.get("subprocessor_notice_working_days")
    if isinstance(notice, bool) or not isinstance(notice, int) or not 0 <= notice <= 365:
        raise PolicyError(f"{path}: subprocessor_notice_working_days must be a number of working days from 0 to 365")
    shared = document.get("shared_resources")
    if not isinstance(shared, dict) or not all(
        isinstance(kind, str) and isinstance(types, list) and all(isinstance(t, str) for t in types)
        for kind, types in shared.items()
    ):
        raise PolicyError(f"{_where(path, _line(shared))}: shared_resources must map each kind (network, ...) to a list of type tokens")
    internet = document.get("internet")
    if not isinstance(internet, dict) or any(
        isinstance(internet.get(key), bool) or not isinstance(internet.get(key), int) or not 0 <= internet[key] <= bits
        for key, bits in (("ipv4_prefix", 32), ("ipv6_prefix", 128))
    ):
        raise PolicyError(f"{_where(path, _line(internet))}: internet needs ipv4_prefix (0 to 32) and ipv6_prefix (0 to 128)")
    for name, environment in document["environment_names"].items():
        if environment not in ENVIRONMENTS:
            raise PolicyError(f"{path}: environment_names.{name}: `{environment}` is not one of {list(ENVIRONMENTS)}")
    plain: dict[str, Any] = json.loads(json.dumps(document))
    return plain


_PROPERTY_TYPES = ("boolean", "integer", "string", "list", "object")


def _property_type(schema: Any, where: str, path: Path, control_ids: set[str] | None) -> None:
    """Validate one entry of properties.yaml (and its items or fields); control_ids for a top-level entry."""
    if not isinstance(schema, dict) or schema.get("type") not in _PROPERTY_TYPES:
        raise PolicyError(f"{_where(path, _line(schema))}: {where}: `type` must be one of {', '.join(_PROPERTY_TYPES)}")
    if control_ids is not None:
        controls = schema.get("controls")
        if not isinstance(controls, list) or not controls or not all(isinstance(c, str) for c in controls):
            raise PolicyError(f"{_where(path, _line(schema))}: {where}: `controls` must list the controls that read it")
        for control in controls:
            if control not in control_ids:
                raise PolicyError(f"{_where(path, _line(schema))}: {where}: unknown control {control}")
    if "items" in schema:
        if schema["type"] != "list":
            raise PolicyError(f"{_where(path, _line(schema))}: {where}: only a list has `items`")
        _property_type(schema["items"], f"{where}[]", path, None)
    if "fields" in schema:
        if schema["type"] != "object" or not isinstance(schema["fields"], dict):
            raise PolicyError(f"{_where(path, _line(schema))}: {where}: only an object has `fields` (a mapping)")
        for name, field in schema["fields"].items():
            _property_type(field, f"{where}.{name}", path, None)


def _load_property_types(path: Path, control_ids: set[str]) -> dict[str, Any]:
    document = _read_yaml(path)
    if not isinstance(document, dict) or not isinstance(document.get("types"), dict):
        raise PolicyError(f"{path}: expected `types:` mapping resource types to their properties")
    for type_token, properties in document["types"].items():
        if not isinstance(properties, dict):
            raise PolicyError(f"{_where(path, _line(properties))}: {type_token}: expected a mapping of properties")
        for name, schema in properties.items():
            _property_type(schema, f"{type_token}.{name}", path, control_ids)
    links = document.get("links", [])
    if not isinstance(links, list) or not all(
        isinstance(link, dict) and all(isinstance(link.get(k), str) and link[k] for k in ("fact", "target", "by", "property"))
        for link in links
    ):
        raise PolicyError(f"{_where(path, _line(links))}: `links` must list {{fact, target, by, property}} entries")
    plain: dict[str, Any] = json.loads(json.dumps({"types": document["types"], "links": links}))
    return plain


def _untyped_reads(read: Sequence[str] | None, types: Mapping[str, Any]) -> list[str]:
    """Properties a rule reads by name that properties.yaml types for no resource type."""
    typed = {name for properties in types["types"].values() for name in properties}
    return sorted(set(read or ()) - typed)


def _load_waivers(path: Path, control_ids: set[str]) -> tuple[tuple[Waiver, ...], dict[int, int], tuple[WaiverProblem, ...]]:
    document = _read_yaml(path, required=False)
    if document is None:
        return (), {}, ()
    if not isinstance(document, dict) or not isinstance(document.get("waivers", []), list):
        raise PolicyError(f"{_where(path, _line(document))}: expected `waivers:` with a list of waivers")
    waivers: list[Waiver] = []
    lines: dict[int, int] = {}
    problems: list[WaiverProblem] = []
    for entry in document.get("waivers") or []:
        line = _line(entry) or 0
        stack = str(entry["stack"]) if isinstance(entry, dict) and isinstance(entry.get("stack"), str) else "*"
        if not isinstance(entry, dict):
            problems.append(WaiverProblem(line, "*", f"waiver at {path.name}:{line} is not a mapping"))
            continue
        # A blank approver (" ") is no approver: text fields count as given only with something in them.
        missing = [
            k for k in ("control", "urn", "stack", "reason", "approver", "expires")
            if not entry.get(k) or isinstance(entry[k], str) and not entry[k].strip()
        ]
        if missing:
            problems.append(WaiverProblem(line, stack, f"waiver at {path.name}:{line} lacks {', '.join(missing)}"))
            continue
        texts = {k: entry[k] for k in ("control", "urn", "stack", "reason", "approver")}
        if not all(isinstance(v, str) for v in texts.values()):
            problems.append(WaiverProblem(line, stack, f"waiver at {path.name}:{line}: control, urn, stack, reason and approver must be text"))
            continue
        if entry["control"] not in control_ids:
            problems.append(WaiverProblem(line, stack, f"waiver at {path.name}:{line} names unknown control {entry['control']}"))
            continue
        expires = _date(entry["expires"])
        if expires is None:
            problems.append(WaiverProblem(line, stack, f"waiver at {path.name}:{line}: expires is not a date (YYYY-MM-DD)"))
            continue
        unknown_keys = set(entry) - {"control", "urn", "stack", "reason", "approver", "expires"}
        if unknown_keys:
            problems.append(WaiverProblem(line, stack, f"waiver at {path.name}:{line}: unknown keys {sorted(unknown_keys)}"))
            continue
        lines[len(waivers)] = line
        waivers.append(
            Waiver(
                control=ControlId(entry["control"]),
                urn_pattern=entry["urn"],
                stack=entry["stack"],
                reason=entry["reason"],
                approver=entry["approver"],
                expires=expires,
            )
        )
    return tuple(waivers), lines, tuple(problems)


# A Rego string ("..." or `...`) or comment; comments are dropped, control ids are read in strings only.
_REGO_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`|#[^\n]*')
_CONTROL_LITERAL = re.compile(r"DPA-[A-Z]{2,5}-\d{3}")
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.M)
_IMPORT = re.compile(r"^import\s+data\.([\w.]+)(?:\s+as\s+(\w+))?[ \t]*$", re.M)
_DECISIONS_REF = re.compile(r"(?<![\w.])((?:data\.)?[\w.]+?)\.decisions\b")


def _rego_parts(text: str) -> tuple[str, list[str]]:
    """A module's text without comments (strings blanked), and its string literals."""
    strings: list[str] = []

    def keep(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("#"):
            return ""
        strings.append(token[1:-1])
        return '""'

    return _REGO_TOKEN.sub(keep, text), strings


def _decisions_rules(code: str) -> str:
    """The text of a module's `decisions` rules and of the rules and functions they use, transitively.

    A rule is a top-level statement: from a line starting with its name to the next line starting
    at column 0 with anything but a closing bracket.
    """
    rules: dict[str, list[str]] = {}
    name = ""
    for line in code.splitlines():
        if line[:1] not in ("", " ", "\t", "}", ")", "]"):
            match = re.match(r"(?:default\s+)?([A-Za-z_]\w*)", line)
            name = match.group(1) if match and match.group(1) not in ("package", "import") else ""
        if name:
            rules.setdefault(name, []).append(line)
    kept: list[str] = []
    pending, seen = ["decisions"], set()
    while pending:
        rule = pending.pop()
        if rule in seen or rule not in rules:
            continue
        seen.add(rule)
        text = "\n".join(rules[rule])
        kept.append(text)
        pending.extend(re.findall(r"(?<![\w.])[A-Za-z_]\w*", text))
    return "\n".join(kept)


def rego_evaluated_controls(modules: Mapping[str, str]) -> tuple[frozenset[str], frozenset[str]]:
    """(packages reachable from the entry package's decisions, control ids named in their modules).

    A package is reachable when a `decisions` rule of the entry package (or of a package reachable
    from it) refers to its `decisions`; a control is evaluated when a string literal in a reachable
    package's modules names it. Comments (the METADATA blocks) do not count.
    """
    packages: dict[str, list[tuple[str, list[str]]]] = {}
    for text in modules.values():
        code, strings = _rego_parts(text)
        match = _PACKAGE.search(code)
        if match:
            packages.setdefault(match.group(1), []).append((code, strings))
    reachable: set[str] = set()
    pending = [ENTRY_PACKAGE] if ENTRY_PACKAGE in packages else []
    while pending:
        package = pending.pop()
        if package in reachable:
            continue
        reachable.add(package)
        for code, _ in packages.get(package, ()):
            aliases = {alias or path.rsplit(".", 1)[-1]: path for path, alias in _IMPORT.findall(code)}
            for ref in _DECISIONS_REF.findall(_decisions_rules(code)):
                head, _, rest = ref.partition(".")
                if head == "data":
                    target = rest
                else:
                    target = aliases.get(head, "") + (f".{rest}" if rest else "")
                if target in packages:
                    pending.append(target)
    named = {
        control
        for package in reachable
        for _, strings in packages.get(package, ())
        for text in strings
        for control in _CONTROL_LITERAL.findall(text)
    }
    return frozenset(reachable), frozenset(named)


def _evaluated_controls(
    controls: tuple[Control, ...], evaluators: Mapping[ControlId, str], modules: Mapping[str, str], root: Path
) -> frozenset[ControlId]:
    """The controls something evaluates; PolicyError naming every Rego control no reachable rule emits."""
    reachable, named = rego_evaluated_controls(modules)
    if ENTRY_PACKAGE not in reachable:
        raise PolicyError(f"{root}/rego: no module of package {ENTRY_PACKAGE} (the decisions every engine queries)")
    missing = [c.id for c in controls if evaluators[c.id] == REGO and c.id not in named]
    if missing:
        raise PolicyError(
            f"{root}/dpa/controls.yaml: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} evaluated by no Rego rule "
            f"reachable from data.{ENTRY_PACKAGE}.decisions (a rule removed, or a package left out of main.rego)",
            hint="add the rule, or set evaluated_by in the catalogue",
        )
    return frozenset(c.id for c in controls if evaluators[c.id] != REGO or c.id in named)


_ERROR = re.compile(r"\(error \d+:(?P<file>[^|]+)\|(?P<offset>\d+)\|\d+\s+\(errormsg \d+:(?P<message>[^)\n]*)")


def rego_error_line(error: Exception, modules: Mapping[str, str]) -> str:
    """A regopy error as `file:line:column: message`, located from the byte offset rego-cpp reports."""
    text = str(error)
    match = _ERROR.search(text)
    if not match:
        first = " ".join(text.split())[:200]
        return f"Rego error: {first}"
    name, offset = match.group("file"), int(match.group("offset"))
    source = modules.get(name, "")
    prefix = source.encode("utf-8")[:offset].decode("utf-8", errors="ignore")
    line = prefix.count("\n") + 1
    column = offset - (prefix.rfind("\n") + 1) + 1 if "\n" in prefix else offset + 1
    return f"{name}:{line}:{column}: {match.group('message').strip()}"


def compile_modules(modules: Mapping[str, str], data: Mapping[str, Any], root: Path) -> Any:
    """Compile the Rego modules with OPA (regopy where OPA cannot load); PolicyError naming file and line.

    Returns what OPA compiled (a CompiledPolicy that the OPA engine takes rather than compiling the
    same modules again), None where regopy checked them.
    """
    from dpaguard.engine.opa_inprocess import CompiledPolicy, compile_policy, error_line, load_bindings

    try:
        bindings = load_bindings()
    except EngineError:
        _compile_with_regopy(modules, data, root)
        return None
    try:
        opa = compile_policy(modules, data)
    except bindings.OpaError as error:
        raise PolicyError(error_line(error, root)) from None
    return CompiledPolicy(opa, modules, data)


def _compile_with_regopy(modules: Mapping[str, str], data: Mapping[str, Any], root: Path) -> None:
    import regopy

    interpreter = regopy.Interpreter()
    interpreter.log_level = regopy.LogLevel.NONE
    try:
        interpreter.add_data({"dpa": data})
        for name, text in modules.items():
            interpreter.add_module(name, text)
        bundle = interpreter.build(DECISIONS_QUERY)
    except regopy.RegoError as error:
        raise PolicyError(f"{root}/{rego_error_line(error, modules)}") from None
    if not bundle.ok():
        raise PolicyError(f"{root}/rego: the policy modules do not compile")


def policy_digest(root: Path) -> str:
    """SHA-256 over the policy files as evaluated: sorted relative paths and their bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and _is_policy_file(root, p)):
        rel = path.relative_to(root).as_posix()
        digest.update(rel.encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _is_policy_file(root: Path, path: Path) -> bool:
    rel = path.relative_to(root)
    return rel.parts[0] in ("dpa", "rego") and path.suffix in (".yaml", ".rego") or rel.as_posix() == WAIVERS_FILE


def load_policy(policies_dir: Path | str) -> Policy:
    """Load and validate every file of a policies directory; PolicyError names the file and line of a fault."""
    root = Path(policies_dir)
    if not root.is_dir():
        raise PolicyError(f"{root}: policies directory not found", hint="--policies DIR")
    controls, categories, evaluators = _load_controls(root / "dpa" / "controls.yaml")
    data: dict[str, Any] = {
        "locations": _load_locations(root / "dpa" / "locations.yaml"),
        "subprocessors": _load_subprocessors(root / "dpa" / "subprocessors.yaml"),
        "retention": _load_retention(root / "dpa" / "retention.yaml"),
        "settings": _load_settings(root / "dpa" / "settings.yaml"),
        "properties": _load_property_types(root / "dpa" / "properties.yaml", {c.id for c in controls}),
        # The resource types controls name exactly: only these carry their properties into the facts.
        "examined_types": sorted({t for c in controls for t in c.applies_to if "*" not in t and t != "stack"}),
    }
    rego_dir = root / "rego"
    modules: dict[str, str] = {}
    for path in sorted(rego_dir.rglob("*.rego")):
        if path.name.endswith("_test.rego"):
            continue
        try:
            modules[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise PolicyError(f"{path}: cannot read ({error.__class__.__name__})") from None
    if not modules:
        raise PolicyError(f"{rego_dir}: no Rego modules")
    # The properties rules read by name: only these reach the facts (None: the Rego reads others too, keep all).
    data["read_props"] = props_read(modules)
    compiled = compile_modules(modules, data, root)
    evaluated = _evaluated_controls(controls, evaluators, modules, root)
    untyped = _untyped_reads(data["read_props"], data["properties"])
    if untyped:
        raise PolicyError(
            f"{root}/dpa/properties.yaml: the Rego reads {', '.join(untyped)} but no type is given for it "
            "(a value of the wrong type would be judged by the engine's ordering of types)"
        )
    waivers, lines, problems = _load_waivers(root / WAIVERS_FILE, {c.id for c in controls})
    clauses = load_clauses(root / "dpa" / CLAUSES_FILE, {c.id for c in controls})
    retired = _load_retired(root / "dpa" / "controls.yaml", {c.id for c in controls})
    return Policy(
        root=root,
        controls=controls,
        rego_modules=modules,
        data=data,
        waivers=waivers,
        waiver_findings=problems,
        sha256=policy_digest(root),
        categories=categories,
        waiver_lines=lines,
        evaluated_controls=evaluated,
        clauses=clauses,
        compiled=compiled,
        retired=retired,
    )


def test_modules(policies_dir: Path | str) -> dict[str, str]:
    """The `_test.rego` modules beside the policies, by relative path."""
    root = Path(policies_dir)
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted((root / "rego").rglob("*_test.rego"))}


test_modules.__test__ = False  # type: ignore[attr-defined]
