"""One policy revision on a shared OPA server: its own package namespace, and the check of what the server holds.

Two repositories at two policy revisions share one OPA server. OPA merges every module of a
package whatever its id, so two revisions pushed into `package dpaguard.*` would be one policy.
Pushed, a revision therefore lives in a namespace of its own, `dpaguard_rev_<first 16 hex of the
policy digest>`:

    package dpaguard.main            ->  package dpaguard_rev_<sha16>.main
    import data.dpaguard.lib.result  ->  import data.dpaguard_rev_<sha16>.lib.result
    data.dpa.settings.plaintext_ports -> data.dpaguard_rev_<sha16>.dpa.settings.plaintext_ports

and its DPA tables are a Rego module of that namespace too (`dpa := {...}` in
`package dpaguard_rev_<sha16>`), not a base document anyone could overwrite with a PUT /v1/data:
OPA refuses base data at a rule's path, so once pushed, only a module can change what the
revision reads, and modules are what `verify` checks. Module ids are `dpaguard_rev_<sha16>/<path>`.
Revisions never share a package, so pushing one never changes or removes another.

The rewrite works on the Rego's tokens (strings and comments are left as they are) and refuses a
module it cannot place: a package outside `dpaguard`, or a reference to `data` that is not
`data.dpaguard...` or `data.dpa...` (`data[...]`, `data` alone), whose meaning the namespace would
change.

`foreign(...)` is the check of the server's module set (GET /v1/policies: id, raw text, and OPA's
own parse of the package, `ast.package.path`): a module in a `dpaguard` package, or in the
revision's namespace, that is not exactly one of the revision's own (same id, same text), would
merge into the rules and change the decisions (issue 24 C6: `_https_only(_) if true` under another
id switched a control off); the engine refuses the server instead. `push_order(...)` sends each
module after the modules it imports, as OPA compiles the whole set on every PUT.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dpaguard.engine.bundle import DATA_ROOT, POLICY_ROOT
from dpaguard.errors import PolicyError

NAMESPACE_PREFIX = f"{POLICY_ROOT}_rev_"
DATA_MODULE = "_dpaguard_data.rego"
VERSION_MODULE = "_dpaguard_version.rego"
VERSION_RULE = "dpaguard_policy_sha256"

# Rego's lexical pieces that must not be rewritten: strings ("..." with escapes, `raw`) and comments.
_OPAQUE = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`|#[^\n]*')
_DATA_REF = re.compile(r"(?<![\w.$])data(?![\w])(\.(\w+)(?![\w]))?")
# the package statement opens a line (elsewhere `package` is a keyword misused, which OPA reports)
_PACKAGE = re.compile(r"(?m)^([ \t]*)package(\s+)([A-Za-z_]\w*)")
_BARE_IMPORT = re.compile(rf"(?m)(?<![\w.$])import(\s+)data\.{POLICY_ROOT}(?=[ \t]*$)")


def namespace(sha256: str) -> str:
    """The package namespace (and module id prefix) of one policy revision: `dpaguard_rev_<sha16>`."""
    return f"{NAMESPACE_PREFIX}{sha256[:16]}"


def module_id(sha256: str, relpath: str) -> str:
    """The OPA policy id of one module of one policy revision."""
    return f"{namespace(sha256)}/{relpath}"


def _rewrite_code(code: str, ns: str, rel: str) -> str:
    def reference(match: re.Match[str]) -> str:
        name = match.group(2)
        if name == POLICY_ROOT:
            return f"data.{ns}"
        if name == DATA_ROOT:
            return f"data.{ns}.{DATA_ROOT}"
        raise PolicyError(
            f"{rel}: reads {match.group(0)!r}, not data.{POLICY_ROOT}... or data.{DATA_ROOT}...: "
            "it cannot be given a namespace of its own on a shared OPA server"
        )

    def package(match: re.Match[str]) -> str:
        if match.group(3) != POLICY_ROOT:
            raise PolicyError(f"{rel}: package {match.group(3)} is outside {POLICY_ROOT}")
        return f"{match.group(1)}package{match.group(2)}{ns}"

    # `import data.dpaguard` names the package `dpaguard`: keep that name for the namespace
    code = _BARE_IMPORT.sub(lambda m: f"import{m.group(1)}data.{POLICY_ROOT} as {POLICY_ROOT}", code)
    return _PACKAGE.sub(package, _DATA_REF.sub(reference, code))


def namespaced(text: str, ns: str, rel: str) -> str:
    """A module of the policy set moved into the namespace `ns`; PolicyError when it cannot be moved."""
    out: list[str] = []
    position = 0
    for opaque in _OPAQUE.finditer(text):
        out.append(_rewrite_code(text[position : opaque.start()], ns, rel))
        out.append(opaque.group(0))
        position = opaque.end()
    out.append(_rewrite_code(text[position:], ns, rel))
    return "".join(out)


def data_module(ns: str, data: Mapping[str, Any]) -> str:
    """The DPA tables as a module of the namespace: `data.<ns>.dpa`, exactly the `data.dpa` of the other engines."""
    # JSON is a subset of Rego's term syntax; ASCII escapes keep the text the same on every platform.
    tables = json.dumps(dict(data), sort_keys=True, ensure_ascii=True, allow_nan=False)
    return f"package {ns}\n\n{DATA_ROOT} := {tables}\n"


def version_module(ns: str, sha256: str) -> str:
    """The module that lets each answer prove which revision gave it: the full digest, in the package queried."""
    return f'package {ns}.main\n\nimport rego.v1\n\n{VERSION_RULE} := "{sha256}"\n'


def revision_modules(sha256: str, rego_modules: Mapping[str, str], data: Mapping[str, Any]) -> dict[str, str]:
    """Every module one revision pushes, by id: the policies moved into its namespace, its data, its version."""
    ns = namespace(sha256)
    modules = {module_id(sha256, rel): namespaced(text, ns, rel) for rel, text in sorted(rego_modules.items())}
    for pid, text in modules.items():
        if package_of_text(text) == (ns, DATA_ROOT):
            raise PolicyError(f"{pid.removeprefix(ns + '/')}: package {POLICY_ROOT}.{DATA_ROOT} would hide data.{DATA_ROOT}")
    modules[module_id(sha256, DATA_MODULE)] = data_module(ns, data)
    modules[module_id(sha256, VERSION_MODULE)] = version_module(ns, sha256)
    return modules


_PACKAGE_LINE = re.compile(r"(?m)^\s*package\s+([A-Za-z_][\w.]*)")


def package_of_text(text: str) -> tuple[str, ...]:
    """The package a module's text declares (dotted form only); () when none is found."""
    found = _PACKAGE_LINE.search(_OPAQUE.sub("", text))
    return tuple(found.group(1).split(".")) if found else ()


@dataclass(frozen=True)
class HeldModule:
    """A module as GET /v1/policies lists it: id, raw text, and OPA's package path (None when OPA did not say)."""

    id: str
    raw: str
    package: tuple[str, ...] | None


def held_modules(listing: Any) -> list[HeldModule]:
    """The modules of a GET /v1/policies answer; ValueError when it is not OPA's shape."""
    if not isinstance(listing, dict) or not isinstance(listing.get("result"), list):
        raise ValueError("GET /v1/policies answered without a result list")
    held = []
    for entry in listing["result"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise ValueError("GET /v1/policies listed a module without an id")
        held.append(HeldModule(entry["id"], str(entry.get("raw", "")), _ast_package(entry.get("ast"))))
    return held


def _ast_package(ast: Any) -> tuple[str, ...] | None:
    """`ast.package.path` ([data, "a", "b"]) as ("a", "b"); None when absent or not plain strings."""
    path = ast.get("package", {}).get("path") if isinstance(ast, dict) and isinstance(ast.get("package"), dict) else None
    if not isinstance(path, list) or len(path) < 2:
        return None
    parts = [term.get("value") if isinstance(term, dict) else None for term in path[1:]]
    return tuple(parts) if all(isinstance(p, str) for p in parts) else None  # type: ignore[arg-type]


def _within(package: tuple[str, ...], root: str) -> bool:
    return bool(package) and package[0] == root


def governs(module: HeldModule, roots: tuple[str, ...]) -> bool:
    """Whether a module's rules lie under one of `roots` (a module whose package OPA did not give counts as if it did)."""
    if module.package is None:
        return True
    return any(_within(module.package, root) for root in roots)


def foreign(held: list[HeldModule], own: Mapping[str, str], roots: tuple[str, ...]) -> list[HeldModule]:
    """The modules under `roots` (or under an id of `own`) that are not exactly one of `own` (id and text)."""
    return [m for m in held if (m.id in own or governs(m, roots)) and own.get(m.id) != m.raw]


def described(module: HeldModule) -> str:
    """A held module as an error line names it: its id and package, quoted safely, short."""
    package = ".".join(module.package) if module.package is not None else "(not given by the server)"
    return f"module {_short(module.id)} in package {_short(package)}"


def _short(text: str) -> str:
    """JSON-quoted, ASCII, at most about 80 characters: the end kept, where a module id names its file."""
    return json.dumps(text if len(text) <= 80 else "..." + text[-77:], ensure_ascii=True)


_PACKAGE_NAME = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
_IMPORTED = re.compile(r"^\s*import\s+data\.([A-Za-z_][\w.]*)", re.MULTILINE)


def push_order(modules: Mapping[str, str]) -> list[str]:
    """Module ids with each module after the modules it imports.

    OPA compiles the whole module set on every PUT and refuses a module that calls a function of a
    module it does not hold yet: pushed in this order, no module is refused and pushed again.
    """
    packages: dict[str, list[str]] = {}
    for pid, text in modules.items():
        found = _PACKAGE_NAME.search(re.sub(r"(?m)#.*$", "", text))
        packages.setdefault(found.group(1) if found else "", []).append(pid)
    order: list[str] = []
    placed: set[str] = set()

    def place(pid: str, trail: set[str]) -> None:
        if pid in placed or pid in trail:  # a cycle is left for the retries of _settle
            return
        trail.add(pid)
        for imported in _IMPORTED.findall(re.sub(r"(?m)#.*$", "", modules[pid])):
            for package, ids in sorted(packages.items()):
                if package == imported or package.startswith(imported + "."):
                    for dependency in sorted(ids):
                        place(dependency, trail)
        placed.add(pid)
        order.append(pid)

    for pid in sorted(modules):
        place(pid, set())
    return order


__all__ = [
    "namespace", "module_id", "namespaced", "revision_modules", "held_modules", "foreign", "governs", "described",
    "HeldModule", "push_order", "VERSION_RULE", "VERSION_MODULE", "DATA_MODULE", "NAMESPACE_PREFIX", "package_of_text",
]
