"""The policy-pack tests' fixtures, defined in pack_fixtures.py (pytest puts this folder on sys.path)."""

from support.pack_fixtures import prod, session, violating  # noqa: F401
