"""Helpers shared by the test folders and the benchmarks (importable as `support`: tests/conftest.py)."""

from pathlib import Path

# The repository's root: its policies/, its estate (Pulumi.yaml, infra/, stacks/).
REPO = Path(__file__).resolve().parents[2]
