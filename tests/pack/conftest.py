"""The policy-pack tests' fixtures, defined in pack_fixtures.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pack_fixtures import policy, prod, session, violating  # noqa: E402,F401
