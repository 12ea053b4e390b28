"""Load the policy set of policies/: the control catalogue, the DPA tables, the Rego modules and the waivers.

Every file is validated strictly and fails closed: a malformed catalogue, register, retention table or
waiver file, or a Rego module that does not compile, is a PolicyError naming the file and line
(the tables: tables.py and the clause ledger clauses.py, strict YAML: yaml_lines.py, the Rego: rego.py, the waivers: waivers.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, TypedDict

from dpaguard.engine.compile import compile_modules
from dpaguard.engine.rego_props import props_read
from dpaguard.errors import PolicyError
from dpaguard.inputs import MAX_CONFIG_BYTES, read_input, read_input_text
from dpaguard.model import Clause, Control, ControlId, Translation, Waiver
from dpaguard.policy.rego import ENTRY_PACKAGE, evaluated_controls, rego_evaluated_controls
from dpaguard.policy.tables import (
    CATEGORIES,
    CLAUSES_FILE,
    load_clauses,
    load_controls,
    load_locations,
    load_property_types,
    load_retention,
    load_retired,
    load_settings,
    load_subprocessors,
    load_versions,
    untyped_reads,
)
from dpaguard.policy.waivers import (
    DEFAULT_WAIVER_MAX_DAYS,
    WAIVER_BLANKET,
    WAIVER_EXPIRED,
    WAIVER_MALFORMED,
    WAIVERS_FILE,
    WaiverProblem,
    load_waivers,
)
from dpaguard.policy.translations import load_french

# The policy set shipped with dpaguard: inside the installed package (a wheel: setup.py copies
# policies/ there), else beside it (a checkout or an editable install). Used where a project has no
# policies/ of its own.
_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_INSTALLED_POLICIES = _PACKAGE_DIR / "_policies"
SHIPPED_POLICIES = _INSTALLED_POLICIES if _INSTALLED_POLICIES.is_dir() else _PACKAGE_DIR.parent / "policies"


class DpaData(TypedDict):
    """The `dpa` document the normaliser and every engine read (`data.dpa` in Rego): the tables of policies/dpa/, checked."""

    locations: dict[str, Any]  # locations.yaml: approved regions and zones, hosting sites, other clouds
    subprocessors: dict[str, Any]  # subprocessors.yaml: entries, by_name, by_package, dynamic_modules
    retention: dict[str, Any]  # retention.yaml: Appendix A's categories
    settings: dict[str, Any]  # settings.yaml: policy facts (environments, ports, internet widths, notice days)
    properties: dict[str, Any]  # properties.yaml: property types and links
    versions: dict[str, Any]  # versions.yaml: engine versions, their end of life and security floors
    examined_types: list[str]  # the resource types controls name exactly: only these carry their properties into the facts
    read_props: list[str] | None  # the properties rules read by name (None: the Rego reads others too, keep all)


@dataclass(frozen=True)
class Policy:
    """The whole policy set as evaluated: catalogue, DPA tables, Rego modules, waivers and their digest."""

    root: Path
    controls: tuple[Control, ...]
    rego_modules: Mapping[str, str]
    data: DpaData
    waivers: tuple[Waiver, ...]
    waiver_findings: tuple[WaiverProblem, ...]
    sha256: str
    categories: tuple[str, ...] = CATEGORIES
    waiver_lines: Mapping[int, int] = field(default_factory=dict)  # index in `waivers` -> line in waivers.yaml
    # The controls something evaluates: each Rego control emitted by a rule reachable from the entry
    # package, and those of checkov and dpaguard itself. None: not computed (every control counts).
    evaluated_controls: frozenset[ControlId] | None = None
    clauses: tuple[Clause, ...] = ()  # the clause ledger (policies/dpa/clauses.yaml); empty when the set has none
    # What the load compiled (engine/compile.py): OPA's instance, or regopy's interpreter where OPA
    # cannot load, for the engine that evaluates the policy to take instead of compiling it again.
    compiled: Any = field(default=None, compare=False, repr=False)
    # Controls taken out of the catalogue (controls.yaml `retired`): id -> "retired <date>: <reason>".
    retired: Mapping[str, str] = field(default_factory=dict)
    french: Translation | None = None  # the French of what the set shows (dpa/i18n/fr.yaml); None: it has none

    @functools.cached_property
    def _controls_by_id(self) -> dict[str, Control]:
        by_id: dict[str, Control] = {}
        for control in self.controls:
            by_id.setdefault(control.id, control)
        return by_id

    def control(self, control_id: str) -> Control:
        """The catalogue entry of a control id; PolicyError when the catalogue has none."""
        control = self._controls_by_id.get(control_id)
        if control is not None:
            return control
        raise PolicyError(f"control {control_id} is not in the catalogue (policies/dpa/controls.yaml)")

    def active_waivers(self, today: dt.date) -> list[Waiver]:
        """The waivers that still cover findings on `today` (an expired one covers nothing)."""
        return [w for w in self.waivers if w.expires >= today]

    def waivers_path(self) -> str:
        """The waiver file as findings point at it."""
        return str(self.root / WAIVERS_FILE)


def policy_digest(root: Path) -> str:
    """SHA-256 over the policy files as evaluated: sorted relative paths and their bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and _is_policy_file(root, p)):
        rel = path.relative_to(root).as_posix()
        digest.update(rel.encode() + b"\0")
        try:
            digest.update(read_input(path, MAX_CONFIG_BYTES) + b"\0")
        except OSError as error:
            raise PolicyError(f"{path}: cannot read: {error.strerror or error.__class__.__name__}") from None
    return digest.hexdigest()


def _is_policy_file(root: Path, path: Path) -> bool:
    rel = path.relative_to(root)
    return rel.parts[0] in ("dpa", "rego") and path.suffix in (".yaml", ".rego") or rel.as_posix() == WAIVERS_FILE


def load_policy(policies_dir: Path | str) -> Policy:
    """Load and validate every file of a policies directory; PolicyError names the file and line of a fault."""
    root = Path(policies_dir)
    if not root.is_dir():
        raise PolicyError(f"{root}: policies directory not found", hint="--policies DIR")
    controls, categories, evaluators = load_controls(root / "dpa" / "controls.yaml")
    data = DpaData(
        locations=load_locations(root / "dpa" / "locations.yaml"),
        subprocessors=load_subprocessors(root / "dpa" / "subprocessors.yaml"),
        retention=load_retention(root / "dpa" / "retention.yaml"),
        settings=load_settings(root / "dpa" / "settings.yaml"),
        properties=load_property_types(root / "dpa" / "properties.yaml", {c.id for c in controls}),
        versions=load_versions(root / "dpa" / "versions.yaml"),
        examined_types=sorted({t for c in controls for t in c.applies_to if "*" not in t and t != "stack"}),
        read_props=None,
    )
    rego_dir = root / "rego"
    modules: dict[str, str] = {}
    for path in sorted(rego_dir.rglob("*.rego")):
        if path.name.endswith("_test.rego"):
            continue
        try:
            modules[path.relative_to(root).as_posix()] = read_input_text(path, MAX_CONFIG_BYTES)
        except OSError as error:
            raise PolicyError(f"{path}: cannot read: {error.strerror or error.__class__.__name__}") from None
        except UnicodeDecodeError:
            raise PolicyError(f"{path}: cannot read (UnicodeDecodeError)") from None
    if not modules:
        raise PolicyError(f"{rego_dir}: no Rego modules")
    # The properties rules read by name: only these reach the facts (None: the Rego reads others too, keep all).
    data["read_props"] = props_read(modules)
    compiled = compile_modules(modules, data, root)
    evaluated = evaluated_controls(controls, evaluators, modules, root)
    untyped = untyped_reads(data["read_props"], data["properties"])
    if untyped:
        raise PolicyError(
            f"{root}/dpa/properties.yaml: the Rego reads {', '.join(untyped)} but no type is given for it "
            "(a value of the wrong type would be judged by the engine's ordering of types)"
        )
    waivers, lines, problems = load_waivers(root / WAIVERS_FILE, {c.id for c in controls})
    clauses = load_clauses(root / "dpa" / CLAUSES_FILE, {c.id for c in controls})
    retired = load_retired(root / "dpa" / "controls.yaml", {c.id for c in controls})
    services = [str(entry.get("service") or "") for entry in data["subprocessors"]["entries"]]
    french = load_french(root, controls, clauses, modules, services)
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
        french=french,
    )


def test_modules(policies_dir: Path | str) -> dict[str, str]:
    """The `_test.rego` modules beside the policies, by relative path."""
    root = Path(policies_dir)
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted((root / "rego").rglob("*_test.rego"))}


test_modules.__test__ = False  # type: ignore[attr-defined]


__all__ = [
    "DEFAULT_WAIVER_MAX_DAYS", "DpaData", "ENTRY_PACKAGE", "SHIPPED_POLICIES", "WAIVER_BLANKET", "WAIVER_EXPIRED",
    "WAIVER_MALFORMED", "WAIVERS_FILE", "Policy", "WaiverProblem", "load_policy", "policy_digest",
    "rego_evaluated_controls", "test_modules",
]
