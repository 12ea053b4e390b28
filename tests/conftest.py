"""Fixtures and import path shared by every test folder, and the two tiers of the suite.

pytest puts this folder on sys.path (it holds the root conftest), so `support` (tests/support/)
is importable from any test module without path hacks.

Tiers: `pytest` runs everything; `pytest -m "not e2e"` is the fast tier a developer runs on every
change, `pytest -m e2e` the end-to-end one. A test is `e2e` when it starts what is slow to start or
lives outside this process: a program's render, checkov, Chromium, the real tools (`.tools/bin`),
a wheel build, the installed console script beyond its smoke tests, or the large conformance
estates. `pytest_collection_modifyitems` marks it so by its folder, its fixtures or its marks, so
that a new test in those places is e2e without saying it; a test elsewhere says it itself with
`@pytest.mark.e2e` (or its module with `pytestmark`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dpaguard.engine.shaping import usable_cpus
from dpaguard.model import Deployment
from dpaguard.policy import Policy, load_policy
from dpaguard.source.program import render_stack
from support import POLICIES, REPO, TESTS

# Folders whose every test is end to end: the conformance estates (4,000 and 10,000 resources), the
# corpus of real programs, the estate's own program, the wheel. (tests/checkov's tests of a fake
# checkov are fast; those of the real one take `checkov_bin` or carry the `checkov` mark.)
E2E_FOLDERS = frozenset({"conformance", "corpus", "infra", "packaging"})
# Fixtures that render programs (rendered_stacks, and each folder's `rendered`), run checkov or
# start the real OPA; of `any_opa`, the real server only (its stand-in is in process).
E2E_FIXTURES = frozenset({"rendered_stacks", "rendered", "checkov_bin", "real_opa", "real_opa_bundle"})
E2E_PARAMS = {"any_opa": "real"}
# The helpers that run the real tools of `.tools/bin`: a test module that imports one is end to end.
E2E_HELPERS = frozenset({"real_tool", "require_opa", "RealOpa"})
# Marks that name an end-to-end dependency; `slow` is kept for the tests that carried it before the tiers.
E2E_MARKS = ("checkov", "chromium", "slow")


def is_e2e(item: pytest.Item) -> bool:
    """Whether a test belongs to the end-to-end tier (its folder, fixtures or marks say so)."""
    if item.get_closest_marker("e2e") or any(item.get_closest_marker(name) for name in E2E_MARKS):
        return True
    if E2E_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    params = getattr(getattr(item, "callspec", None), "params", {})
    if any(params.get(fixture) == value for fixture, value in E2E_PARAMS.items()):
        return True
    module = getattr(item, "module", None)
    if module is not None and E2E_HELPERS.intersection(vars(module)):
        return True
    parts = Path(item.path).resolve().relative_to(TESTS).parts
    return len(parts) > 1 and parts[0] in E2E_FOLDERS


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by mark
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the end-to-end tests `e2e`, so that `-m "not e2e"` leaves them out."""
    for item in items:
        if is_e2e(item):
            item.add_marker(pytest.mark.e2e)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (pyproject's addopts): one worker per core, two for the fast tier alone.

    The fast tier's tests wait on sockets, time limits and child processes more than they compute,
    so twice the cores fill the idle ones (2 min 41 s against 3 min 11 s with one per core, on 2
    cores, 2026-12-08); the end-to-end tier computes, and more workers than cores made the whole
    suite slower (8 min 23 s with four workers, 7 min 41 s with two in a run without its five
    Chromium tests). PYTEST_XDIST_AUTO_NUM_WORKERS still decides where it is set.
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cores = usable_cpus()
    fast_only = " ".join(str(config.option.markexpr or "").split()) == "not e2e"
    return 2 * cores if fast_only else cores


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
