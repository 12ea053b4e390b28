"""Fixtures of the estate tests: each stack rendered once per session under the SDK mock runtime."""

from __future__ import annotations

from typing import Any

import pytest
from support import REPO
from support.estate_render import STACKS, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """The registered resources of every stack of the repository's own estate."""
    return {stack: render(REPO, stack) for stack in STACKS}
