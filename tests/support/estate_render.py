"""Helpers of the estate tests: render a stack of a project in a subprocess, read a stack file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from support import REPO, TESTS

HARNESS = TESTS / "infra" / "estate_harness.py"
STACKS = ("prod", "staging", "dev")


def render(project_dir: Path, stack: str) -> list[dict[str, Any]]:
    """Run the project's program for `stack` in its own process; the resources it registered."""
    done = subprocess.run(
        [sys.executable, str(HARNESS), str(project_dir), stack],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=project_dir,
    )
    if done.returncode != 0:
        raise AssertionError(f"program failed for stack {stack}:\n{done.stderr[-4000:]}")
    registered: list[dict[str, Any]] = json.loads(done.stdout)
    return registered


def stack_config(stack: str) -> dict[str, Any]:
    """The stack file's `config:` block."""
    data = yaml.safe_load((REPO / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    config: dict[str, Any] = data["config"]
    return config
