"""Fixtures of the source tests: the fixture programs, rendered once per session."""

from __future__ import annotations

from typing import Callable

import pytest
from support import SOURCE_FIXTURES

from dpaguard.model import Deployment
from dpaguard.source.program import render_stack


@pytest.fixture(scope="session")
def rendered() -> Callable[[str, str], Deployment]:
    """render(fixture, stack) -> Deployment, each fixture program rendered at most once per session."""
    cache: dict[tuple[str, str], Deployment] = {}

    def render(name: str, stack: str = "dev") -> Deployment:
        if (name, stack) not in cache:
            cache[(name, stack)] = render_stack(SOURCE_FIXTURES / name, stack, timeout=60)
        return cache[(name, stack)]

    return render

