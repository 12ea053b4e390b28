"""The official schemas the report tests validate against."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shared_schemas() -> Path:
    """The official schemas the tests validate against, shipped in tests/support/schemas (a clone has nothing beside it)."""
    folder = REPO / "tests" / "support" / "schemas"
    if not (folder / "sarif-schema-2.1.0.json").is_file():
        raise AssertionError(f"the official SARIF 2.1.0 schema is missing: {folder / 'sarif-schema-2.1.0.json'}")
    return folder
