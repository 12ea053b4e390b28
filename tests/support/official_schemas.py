"""The official schemas the report tests validate against."""

from __future__ import annotations

from pathlib import Path


def shared_schemas() -> Path:
    """The official schemas the tests validate against, shipped in tests/support/schemas (a clone has nothing beside it)."""
    folder = Path(__file__).parent / "schemas"
    if not (folder / "sarif-schema-2.1.0.json").is_file():
        raise AssertionError(f"the official SARIF 2.1.0 schema is missing: {folder / 'sarif-schema-2.1.0.json'}")
    return folder
