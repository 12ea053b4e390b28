"""What a report records about how it was made: the run's time, the deployments' digests, the versions.

The work tree's commit and its difference from it are read, contained, in dpaguard.gitstate; the DPA
text's digest in dpaguard.dpa_text. Together they are the report's `evidence` and `scope`: enough for
anyone to run the same check again and to see that they did.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import PurePath, PureWindowsPath
from typing import Any, Sequence

from dpaguard import clock
from dpaguard.model import Deployment


def utc_today() -> dt.date:
    """The date waivers expire against unless one is given: the UTC date, wherever the run is."""
    return dt.datetime.now(dt.timezone.utc).date()


def now_utc() -> str:
    """The run's time as ISO 8601 UTC (`...Z`), from SOURCE_DATE_EPOCH when set (reproducible reports)."""
    return clock.now().isoformat().replace("+00:00", "Z")


def _canonical_resource(resource: Any) -> Any:
    """A resource with its dependency lists sorted: the SDK sends them in set order, which varies run to run."""
    if not isinstance(resource, dict):
        return resource
    canonical = dict(resource)
    if isinstance(canonical.get("dependencies"), list):
        canonical["dependencies"] = sorted(canonical["dependencies"], key=str)
    if isinstance(canonical.get("propertyDependencies"), dict):
        canonical["propertyDependencies"] = {
            k: sorted(v, key=str) if isinstance(v, list) else v for k, v in canonical["propertyDependencies"].items()}
    return canonical


def deployment_digest(deployment: Deployment) -> str:
    """sha256 of the deployment as evaluated: canonical JSON (sorted keys and dependency lists, no spaces)
    of stack, project and the set of resources, so two renders of one commit have one digest."""
    # Resources registered from apply callbacks reach the engine in the order their inputs resolve,
    # which varies run to run (as in a real preview): the digest is of the set, in canonical order.
    def canonical(value: Any) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)

    # canonical({"project": ..., "resources": [...], "stack": ...}), each resource encoded once
    resources = sorted(canonical(_canonical_resource(r)) for r in deployment.resources)
    text = (f'{{"project":{canonical(deployment.project)},"resources":[{",".join(resources)}],'
            f'"stack":{canonical(deployment.stack)}}}')
    return hashlib.sha256(text.encode()).hexdigest()


def tool_versions(checkov: str | None = None, deployments: Sequence[Deployment] = ()) -> dict[str, str | None]:
    """The versions that decide what a deployment holds: the Pulumi SDK, the Scaleway provider, checkov.

    For rendered stacks, those the program ran with, read in its own process, with its interpreter
    (issue 21 §6); otherwise (a stack export, the pack) dpaguard's own.
    """
    from importlib import metadata

    versions: dict[str, str | None] = {}
    ran = [d.runtime for d in deployments if d.runtime]
    for name in ("pulumi", "pulumiverse-scaleway"):
        try:
            versions[name] = None if ran else metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    for runtime in ran:
        for name, version in runtime.items():
            seen = versions.get(name)
            versions[name] = version if not seen or version in seen.split(" / ") else f"{seen} / {version}"
    versions["checkov"] = checkov
    return versions


def shown_path(path: str | None) -> str | None:
    """A path as a report may show it: an absolute local path (a state file in /tmp) by its name alone,
    so that no report names the machine it ran on and two runs elsewhere read the same."""
    if not path:
        return path
    return PurePath(path).name if PurePath(path).is_absolute() or PureWindowsPath(path).is_absolute() else path
