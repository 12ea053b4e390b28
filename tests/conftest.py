"""Fixtures and import path shared by every test folder.

pytest puts this folder on sys.path (it holds the root conftest), so `support` (tests/support/)
is importable from any test module without path hacks.
"""

from __future__ import annotations

import os
from pathlib import Path

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


@pytest.fixture(autouse=True, scope="session")
def _no_activated_virtualenv() -> None:
    """The tests choose the interpreter a program renders under: an activated virtualenv of the shell that
    runs them (VIRTUAL_ENV, a virtualenv's bin first on PATH) would be taken for programs naming none."""
    os.environ.pop("VIRTUAL_ENV", None)
    entries = os.environ.get("PATH", "").split(os.pathsep)
    os.environ["PATH"] = os.pathsep.join(e for e in entries if not (Path(e).parent / "pyvenv.cfg").is_file())
