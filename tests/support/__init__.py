"""Helpers shared by the test folders and the benchmarks (importable as `support`: tests/conftest.py).

The repository's well-known paths are computed here, once: test modules, conftests, support modules
and benchmarks import them instead of climbing from their own file. Only a module's own neighbours
(a fixture folder beside it) are named from `Path(__file__).parent`.
"""

from pathlib import Path

# tests/: the test folders, their fixtures and this package.
TESTS = Path(__file__).resolve().parents[1]
# The repository's root: its policies/, its estate (Pulumi.yaml, infra/, stacks/).
REPO = TESTS.parent
# The policy set dpaguard loads by default: the DPA tables, the Rego, the checkov custom policies.
POLICIES = REPO / "policies"
# Five of our controls as checkov YAML policies (run by checkov's terraform_plan framework).
CHECKOV_CUSTOM = POLICIES / "checkov" / "custom"
# The source stage's fixtures: small Pulumi programs (one folder each) and stack exports (states/).
SOURCE_FIXTURES = TESTS / "source" / "fixtures"
# The stack exports the command-line tests audit (prod-drifted.json, dev.json, ...).
CLI_FIXTURES = TESTS / "cli" / "fixtures"
# checkov in its own virtual environment, where `.ci/setup` installs it (it cannot share .venv).
CHECKOV_IN_VENV = REPO / ".checkov-venv" / "bin" / "checkov"
