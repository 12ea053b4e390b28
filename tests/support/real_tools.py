"""The real tools (`opa`, `pulumi`, ...) that `.ci/real-tools` builds from their Go modules into `.tools/bin/`.

A test that needs one asks `real_tool(name)`: it gets the executable's absolute path, or is skipped
with the reason when the tool is not built. On CI (`CI=true`) a missing tool fails the test
instead, so a broken build of the tools never turns into a quietly green run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import REPO

# Where `.ci/real-tools` puts the binaries (ignored by git; a contributor's own build, never the tree's).
TOOLS = REPO / ".tools" / "bin"


def on_ci() -> bool:
    """True where the environment says it is CI (`CI=true`, as GitHub Actions and most runners set it)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def real_tool(name: str, tools: Path = TOOLS) -> Path:
    """The absolute path of the real `name` in `tools`; absent: fail the test on CI, skip it elsewhere, saying why."""
    path = tools / name
    if path.is_file() and os.access(path, os.X_OK):
        return path.absolute()
    message = f"the real {name} is not built ({path} is missing): run `.ci/real-tools`"
    if on_ci():
        pytest.fail(message + " (CI=true: the real tools are required)")
    pytest.skip(message)
