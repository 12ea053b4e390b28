"""The Appendix B register as facts: a resource's sub-processor (by its provider package), whether its type is outside the service registered for it, the stack's packages, and each entry's notice in working days.

The register is policy data (policies/dpa/subprocessors.yaml); the judgement stays in Rego.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from typing import Any, Iterable, Mapping, Sequence

from dpaguard import urn as pulumi_urn
from dpaguard.engine.encoding import printable
from dpaguard.normalise.calendar import working_days_between
from dpaguard.deployment.types import DYNAMIC_PREFIX
from dpaguard.urn import is_provider_type, provider_type


def package_of(type_token: str, dynamic_modules: Mapping[str, str]) -> str:
    """The provider package of a canonical type token (dynamic resources: their module's package)."""
    if type_token.startswith(DYNAMIC_PREFIX):
        module = type_token[len(DYNAMIC_PREFIX):].split(":", 1)[0]
        return dynamic_modules.get(module, f"dynamic/{module}")
    if is_provider_type(type_token):
        return "pulumi"
    return type_token.split(":", 1)[0]


def _service(type_token: str) -> str:
    """The service of a type token as its module names it (`aws:s3/bucket:Bucket` -> s3; `index` modules: the type)."""
    _, _, rest = type_token.partition(":")
    module, _, name = rest.partition("/")
    if module in ("", "index"):
        return name.split(":", 1)[0] or type_token
    return module


def package_groups(
    facts: Sequence[Mapping[str, Any]], used_providers: Sequence[str], providers: Iterable[str],
    stack: Mapping[str, Any], project: str,
) -> list[dict[str, Any]]:
    """The stack's resources grouped by provider package: {package, urn, count, regions, services} (texts, sorted, comma-separated).

    A judgement over a whole provider (DPA-SUB-001: not in Appendix B) is one finding per group, on
    the URN of the provider resource its resources use (the first of them by URN; a waiver names it),
    or, when the deployment holds none, on the URN Pulumi gives a default provider of that package.
    """
    known = set(providers)
    groups: dict[str, dict[str, Any]] = {}
    for fact, provider in zip(facts, used_providers):
        if fact.get("recorded_of"):
            continue  # a second view of a resource already counted
        group = groups.setdefault(fact["package"], {"regions": set(), "services": set(), "providers": set(), "count": 0})
        group["count"] += 1
        group["services"].add(printable(_service(fact["type"])))
        region = fact.get("place") or (fact["locality"]["region"] if fact["locality"]["status"] == "known" else None)
        if isinstance(region, str) and region:
            group["regions"].add(region)
        if provider in known:
            group["providers"].add(provider)
    return [
        {
            "package": package,
            "urn": printable(min(group["providers"]) if group["providers"] else pulumi_urn.urn(stack["name"], project, provider_type(package), "default")),
            "count": group["count"],
            # As text: rego-cpp's concat of one string prints it quoted into a message.
            "regions": ", ".join(sorted(group["regions"])),
            "services": ", ".join(sorted(group["services"])),
        }
        for package, group in sorted(groups.items())
    ]


class Register:
    """The sub-processor register of a policy (`policy.data["subprocessors"]`), read for resources and stacks."""

    def __init__(self, register: Mapping[str, Any], notice_days: int) -> None:
        self.register = register
        self.notice_days = notice_days
        self._outside: dict[tuple[str | None, str], bool] = {}

    def of_package(self, package: str) -> str | None:
        """The sub-processor of a provider package, None when the register names none."""
        name = self.register["by_package"].get(package)
        return str(name) if name else None

    def outside_scope(self, fact: Mapping[str, Any]) -> bool:
        """Whether the resource is of a type its sub-processor's registered service does not cover (`scope`)."""
        name = fact.get("subprocessor")
        key = (name, fact["type"])
        outside = self._outside.get(key)
        if outside is None:  # judged once per sub-processor and type: an estate holds a few dozen types
            scope = self.register["by_name"][name].get("scope") if name else None
            outside = self._outside[key] = scope is not None and not any(fnmatch.fnmatchcase(fact["type"], pattern) for pattern in scope)
        return outside

    def notice(self) -> dict[str, int | None]:
        """Each entry's notice in French working days, from notified to added."""
        # None: the register records no dates for the entry (unknown), so its notice cannot be shown.
        return {
            entry["name"]: (
                working_days_between(dt.date.fromisoformat(entry["notified"]), dt.date.fromisoformat(entry["added"]))
                if entry["notified"] and entry["added"] else None
            )
            for entry in self.register["entries"]
        }

    def mark_notice(self, stack: dict[str, Any], notice: Mapping[str, int | None]) -> None:
        """Set a stack's `late_subprocessors` (notified too late) and `undated_subprocessors` (notice unknown)."""
        stack["late_subprocessors"] = [
            {"name": name, "working_days": days}
            for name in stack["subprocessors"]
            if (days := notice.get(name)) is not None and days < self.notice_days
        ]
        stack["undated_subprocessors"] = [name for name in stack["subprocessors"] if name in notice and notice[name] is None]
