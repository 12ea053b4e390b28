"""Fixtures of the control tests: one engine for the session over the shipped policy set (tests/conftest.py): OPA, the reference."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from dpaguard.engine.opa_inprocess import OpaInProcessEngine
from dpaguard.policy import Policy


@pytest.fixture(scope="session")
def engine(policy: Policy) -> Iterator[Any]:
    """The real OPA, in process, over the repository's policies (regopy is held to it by tests/conformance/)."""
    built = OpaInProcessEngine(policy)
    yield built
    built.close()
