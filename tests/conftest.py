"""Fixtures and import path shared by every test folder.

pytest puts this folder on sys.path (it holds the root conftest), so `support` (tests/support/)
is importable from any test module without path hacks.
"""
