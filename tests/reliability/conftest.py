"""Fixtures of the reliability tests: the project's policy, one embedded engine, a hypothesis profile, and a tally.

Hypothesis runs derandomized (a fixed seed per test) under the `ci` profile, selected when CI is set, so a
CI failure reproduces locally with `HYPOTHESIS_PROFILE=ci`. The tally counts the examples each property
ran, prints the total at the end of the run and writes it to `.pytest_cache/d/reliability/figures.json` (the figures of docs/reliability.md).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, settings


settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.register_profile(
    "dev", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

TALLY: Counter[str] = Counter()


@pytest.fixture(scope="session")
def engine(policy: Any) -> Iterator[Any]:
    """One embedded engine for the session (the CLI's default engine)."""
    from dpaguard.engine import create_engine

    built = create_engine(policy)
    yield built
    built.close()


@pytest.fixture(scope="session")
def tally(request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
    """Examples run per property; written out at the end of the session."""
    yield TALLY
    cache = getattr(request.config, "cache", None)
    if TALLY and cache is not None:
        path = Path(str(cache.mkdir("reliability"))) / "figures.json"
        path.write_text(json.dumps(dict(TALLY), indent=2, sort_keys=True))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the number of property-based examples run (the figure of docs/reliability.md)."""
    examples = {name: count for name, count in TALLY.items() if not name.startswith("stopped: ")}
    if examples:
        details = ", ".join(f"{name} {count}" for name, count in sorted(examples.items()))
        stopped = sum(TALLY.values()) - sum(examples.values())
        terminalreporter.write_line(
            f"reliability: {sum(examples.values())} property-based examples run ({details}); {stopped} stopped with exit 2 (one line, fail closed)"
        )
