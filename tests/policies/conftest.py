"""Fixtures of the control tests: the shipped policy set and one engine for the session: OPA, the reference."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from dpaguard.engine.opa_inprocess import OpaInProcessEngine
from dpaguard.policy import Policy, load_policy

from support import POLICIES


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The repository's policies/."""
    return load_policy(POLICIES)


@pytest.fixture(scope="session")
def engine(policy: Policy) -> Iterator[Any]:
    """The real OPA, in process, over the repository's policies (regopy is held to it by tests/conformance/)."""
    built = OpaInProcessEngine(policy)
    yield built
    built.close()
