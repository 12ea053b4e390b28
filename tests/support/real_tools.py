"""The real tools `.ci/real-tools` builds into `.tools/bin/`: found, or the test skips (fails under CI=true).

A test that meets a real tool (opa, pulumi, the Python language host, the Scaleway provider DOUBLE)
asks for it here. Where `.tools/bin` lacks it, a contributor's run skips with the command that builds
it; CI (CI=true) must have built it, so there the same absence fails the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import REPO

# Where `.ci/real-tools` puts the binaries (ignored by git).
TOOLS_BIN = REPO / ".tools" / "bin"


def in_ci() -> bool:
    """True where the run is CI's (CI=true), where a missing real tool is a failure, not a skip."""
    return os.environ.get("CI", "").lower() == "true"


def real_tool(name: str) -> Path:
    """The path of `.tools/bin/NAME`; skip (fail under CI=true) where it was not built."""
    path = TOOLS_BIN / name
    if path.is_file() and os.access(path, os.X_OK):
        return path
    reason = f"{name} is not built in .tools/bin (run `bash .ci/real-tools`)"
    if in_ci():
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)
