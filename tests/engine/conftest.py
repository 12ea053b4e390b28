"""Fixtures of the engine tests: the OPA stand-in server, the real OPA server (push and bundle), and a small policy set to load into them."""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import pytest

from support.opa_standin import OpaStandIn, closed_port_url


@dataclass(frozen=True)
class ToyPolicy:
    """A Policy-shaped object (rego_modules, data, sha256, root) for engine tests."""

    rego_modules: Mapping[str, str]
    data: Mapping[str, Any]
    root: Path = Path("policies")
    sha256: str = field(default="")

    def __post_init__(self) -> None:
        if not self.sha256:
            digest = hashlib.sha256(
                json.dumps([sorted(self.rego_modules.items()), self.data], sort_keys=True).encode()
            ).hexdigest()
            object.__setattr__(self, "sha256", digest)


TOY_LIB = """package dpaguard.lib

french(region) if region in {r | some r in data.dpa.regions}
"""

TOY_MAIN = """package dpaguard.main

import data.dpaguard.lib

decisions contains d if {
\tsome r in input.resources
\tnot r.region == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
\tnot lib.french(r.region)
\td := {"control": "DPA-RES-001", "urn": r.urn, "message": sprintf("region %s is not in France", [r.region]), "status": "violation"}
}

decisions contains d if {
\tsome r in input.resources
\tr.region == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
\td := {"control": "DPA-RES-001", "urn": r.urn, "message": "region unknown during preview", "status": "undetermined"}
}
"""


def make_toy_policy(**changes: Any) -> ToyPolicy:
    """The toy policy set: residency of `input.resources[].region` against `data.dpa.regions`."""
    modules = {"rego/lib.rego": TOY_LIB, "rego/main.rego": TOY_MAIN}
    modules.update(changes.pop("modules", {}))
    data = {"regions": ["fr-par", "fr-par-1"]}
    data.update(changes.pop("data", {}))
    return ToyPolicy(rego_modules=modules, data=data, **changes)


@pytest.fixture()
def opa() -> Iterator[OpaStandIn]:
    """A running OPA stand-in on 127.0.0.1 (random port)."""
    with OpaStandIn(hang_seconds=10.0) as server:
        yield server


@pytest.fixture()
def refused_url() -> str:
    """A URL where connections are refused."""
    return closed_port_url()


@pytest.fixture()
def toy_policy() -> Callable[..., ToyPolicy]:
    """Factory of the toy policy set; `modules=` and `data=` replace or add entries."""
    return make_toy_policy


@pytest.fixture(scope="session", params=["standin", "real"])
def engine_pair(request: pytest.FixtureRequest, policy: Any) -> Iterator[tuple[Any, Any]]:
    """(embedded engine, OPA engine on an OPA server), both loaded with the real policies: the stand-in, then the real server."""
    from dpaguard.engine.embedded import EmbeddedEngine
    from dpaguard.engine.opa import OpaEngine

    with contextlib.ExitStack() as stack:
        if request.param == "standin":
            url = stack.enter_context(OpaStandIn()).url
        else:
            url = request.getfixturevalue("real_opa").url
        embedded = EmbeddedEngine(policy)
        opa_engine = OpaEngine(policy, url=url, timeout=60)
        yield embedded, opa_engine
        opa_engine.close()
        embedded.close()


# -- the real OPA server (.tools/bin/opa, built by .ci/real-tools) --------------------------------


@pytest.fixture(scope="session")
def real_opa() -> Iterator[Any]:
    """One real `opa run --server` in push mode (empty at start) for the session, stopped at its end.

    Shared: each policy revision lives in a namespace of its own on it, so tests at different
    revisions do not disturb one another; a test that puts anything else there removes it.
    """
    from support.opa_server import RealOpa

    with RealOpa() as server:
        yield server


@pytest.fixture(scope="session")
def real_bundle_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle `dpaguard bundle` writes of the project's policies (the CLI in process)."""
    from dpaguard.cli import main
    from support import POLICIES

    path = tmp_path_factory.mktemp("real-bundle") / "dpa.tar.gz"
    assert main(["bundle", "--policies", str(POLICIES), "--output", str(path)]) == 0
    return path


@pytest.fixture(scope="session")
def real_opa_bundle(real_bundle_file: Path) -> Iterator[Any]:
    """One real `opa run --server --bundle dpa.tar.gz` (the project's policies) for the session."""
    from support.opa_server import RealOpa

    with RealOpa(bundle=real_bundle_file) as server:
        yield server


@pytest.fixture(params=["standin", "real"])
def any_opa(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The OPA server of a test that runs against both: a fresh stand-in, then the session's real server."""
    if request.param == "standin":
        with OpaStandIn(hang_seconds=10.0) as server:
            yield server
    else:
        yield request.getfixturevalue("real_opa")
