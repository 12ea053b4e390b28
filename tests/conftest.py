"""Fixtures and import path shared by every test folder.

pytest puts this folder on sys.path (it holds the root conftest), so `support` (tests/support/)
is importable from any test module without path hacks.
"""

from __future__ import annotations

import pytest

from dpaguard.model import Deployment
from dpaguard.policy import Policy, load_policy
from dpaguard.source.program import render_stack
from support import POLICIES, REPO


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The repository's policies/, loaded as every command loads them (frozen: one for the whole session)."""
    return load_policy(POLICIES)


@pytest.fixture(scope="session")
def rendered_stacks() -> dict[str, Deployment]:
    """The project's three stacks rendered offline (prod, staging, dev)."""
    return {name: render_stack(REPO, name) for name in ("prod", "staging", "dev")}
