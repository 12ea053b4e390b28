"""Helpers shared by the test folders and the benchmarks (importable as `support`: tests/conftest.py)."""
