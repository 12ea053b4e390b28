"""The corpus on which every engine must answer as OPA does: the rendered stacks, the state fixtures,
and mutations of prod (outside France, untagged and open, unknown in preview) in every environment."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any, Callable, Iterator

from support import CLI_FIXTURES, SOURCE_FIXTURES, TESTS
from dpaguard.model import UNKNOWN, Deployment
from dpaguard.source.state import load_state

TODAY = dt.date(2026, 11, 27)
STATE_FIXTURES = [
    CLI_FIXTURES / "prod-drifted.json",
    CLI_FIXTURES / "dev.json",
    SOURCE_FIXTURES / "states/real-export.json",
    *sorted((TESTS / "policies" / "fixtures").glob("*.json")),  # the controls' fixtures, when present
]


def _rewrite(value: Any, change: Callable[[str, Any], Any]) -> Any:
    if isinstance(value, dict):
        return {k: change(k, _rewrite(v, change)) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, change) for v in value]
    return value


def _mutated(deployment: Deployment, name: str, change: Callable[[str, Any], Any]) -> Deployment:
    resources = tuple(
        {**r, "inputs": _rewrite(copy.deepcopy(r.get("inputs", {})), change),
         "outputs": _rewrite(copy.deepcopy(r.get("outputs", {})), change)}
        for r in deployment.resources
    )
    return Deployment(**{**deployment.__dict__, "resources": resources, "origin": f"{deployment.origin}#{name}"})


def _outside_france(key: str, value: Any) -> Any:
    if key == "region" and isinstance(value, str):
        return "nl-ams"
    if key == "zone" and isinstance(value, str):
        return "nl-ams-1"
    if key in ("location", "actualLocation") and isinstance(value, str):
        return "Amsterdam"
    if key == "countryCode":
        return "NL"
    return value


def _untagged_and_open(key: str, value: Any) -> Any:
    if key == "tags":
        return [] if isinstance(value, list) else {}
    if key in ("ipRange", "ip"):
        return "0.0.0.0/0"
    if key in ("isBackupDisabled", "disableBackup"):
        return True
    if key in ("versioning", "tlsEnabled", "backupSameRegion", "enabled"):
        return False
    return value


def _unknown(key: str, value: Any) -> Any:
    if key in ("region", "zone", "tags", "projectId", "ipRange", "tlsEnabled", "backupSameRegion", "sipTransport"):
        return UNKNOWN
    return value


def corpus(stacks: dict[str, Deployment]) -> Iterator[tuple[str, list[Deployment], str | None]]:
    """(case id, deployments evaluated together, environment override)."""
    for name, deployment in stacks.items():
        yield f"render-{name}", [deployment], None
    yield "render-all-stacks", list(stacks.values()), None
    for path in STATE_FIXTURES:
        if path.exists():
            yield f"state-{path.stem}", [load_state(path)], None
    prod = stacks["prod"]
    for environment in ("prod", "staging", "dev"):
        yield f"outside-france-{environment}", [_mutated(prod, "outside", _outside_france)], environment
        yield f"untagged-open-{environment}", [_mutated(prod, "open", _untagged_and_open)], environment
        yield f"preview-unknowns-{environment}", [_mutated(prod, "unknown", _unknown)], environment
    # two environments sharing the same project, network and servers
    yield "shared-prod-dev", [prod, Deployment(**{**prod.__dict__, "stack": "dev", "config": {**prod.config, "dpaguard:environment": "dev"}})], None
