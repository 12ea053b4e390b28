"""The policy set as OPA reads it: the DPA tables as an OPA data document, and an OPA bundle.

`opa_data(policy)` is `{"dpa": <the DPA tables>}`, the document every engine evaluates as
`data.dpa`; written as `data.json`, `opa eval -d policies/rego -d data.json` and `opa test
policies/rego data.json` read it as is.

`bundle_bytes(policy)` is an OPA bundle (a gzipped tar) that an unmodified `opa run --server
--bundle dpa.tar.gz` serves, following OPA's bundle file format:

    .manifest        {"revision": <Policy.sha256>, "roots": ["dpaguard", "dpa"], "rego_version": 1}
    data.json        {"dpa": ...}, at the root of the bundle: its top-level keys are data paths,
                     each inside a root (OPA refuses a bundle whose data lies outside its roots)
    rego/*.rego      every module under its path relative to the policies folder, `_test.rego`
                     files excluded (they are not part of the policy decision point)

The roots claim `data.dpaguard` (every package is `dpaguard.*`) and `data.dpa` for the bundle:
OPA then refuses writes there through its REST API, which is how the OPA engine knows a server
holds dpaguard's policies from a bundle and must not push its own. The revision is the policy
digest, so an engine can tell whether the server's bundle is the policy set it was asked to
evaluate. The bytes are deterministic (entries sorted, mtime 0, uid/gid 0, no owner names, gzip
mtime 0 and no file name): the same policies always give the same file, whose sha256 a team can
pin.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
from typing import Any, Mapping

from dpaguard.engine.interface import DECISIONS_PATH, PolicyLike
from dpaguard.errors import PolicyError

POLICY_ROOT = DECISIONS_PATH.split("/", 1)[0]  # "dpaguard": every package of policies/rego
DATA_ROOT = "dpa"  # the DPA tables, data.dpa
ROOTS = (POLICY_ROOT, DATA_ROOT)
REGO_VERSION = 1
_PACKAGE = re.compile(r"^package\s+([A-Za-z_][\w.]*)", re.MULTILINE)


def opa_data(policy: PolicyLike) -> dict[str, Any]:
    """The data document the engines load: `{"dpa": <the DPA tables>}`."""
    return {DATA_ROOT: dict(policy.data)}


def data_json(policy: PolicyLike) -> str:
    """`opa_data` as a JSON file (sorted keys, so the same policies give the same bytes)."""
    return json.dumps(opa_data(policy), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def manifest(policy: PolicyLike) -> dict[str, Any]:
    """The bundle's `.manifest`: the policy digest as revision, the roots it owns, Rego v1."""
    return {"revision": policy.sha256, "roots": list(ROOTS), "rego_version": REGO_VERSION}


def _check_packages(modules: Mapping[str, str]) -> None:
    """Every module's package inside the roots: OPA refuses to activate a bundle otherwise."""
    for rel, source in sorted(modules.items()):
        match = _PACKAGE.search(re.sub(r"(?m)#.*$", "", source))
        package = match.group(1) if match else ""
        if package.split(".")[0] != POLICY_ROOT:
            raise PolicyError(f"{rel}: package {package or '(none)'} is outside the bundle root {POLICY_ROOT}")


def bundle_bytes(policy: PolicyLike) -> bytes:
    """The OPA bundle of this policy set as a gzipped tar; the same policies give the same bytes."""
    modules = {rel: text for rel, text in policy.rego_modules.items() if not rel.endswith("_test.rego")}
    _check_packages(modules)
    entries = {
        ".manifest": (json.dumps(manifest(policy), sort_keys=True) + "\n").encode(),
        "data.json": data_json(policy).encode(),
        **{rel: text.encode() for rel, text in modules.items()},
    }
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(entries):
            payload = entries[name]
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            info.mode = 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(payload))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as stream:
        stream.write(archive.getvalue())
    return packed.getvalue()
