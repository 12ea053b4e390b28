"""Fixtures of the checkov stage (the material is in support/checkov_project.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.checkov_project import require_checkov


@pytest.fixture(scope="session")
def checkov_bin() -> Path:
    """Path of checkov, or the test is skipped (failed on CI)."""
    return require_checkov()
