"""Fixtures of the control tests: the shipped policy set and one embedded engine for the session."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.policy import Policy, load_policy

from control_estate import POLICIES


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The repository's policies/."""
    return load_policy(POLICIES)


@pytest.fixture(scope="session")
def engine(policy: Policy) -> Iterator[Any]:
    """An embedded engine over the repository's policies."""
    built = EmbeddedEngine(policy)
    yield built
    built.close()
