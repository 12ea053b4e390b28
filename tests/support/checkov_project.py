"""The checkov stage's test material: a checkov executable (or a reason it is missing) and a fixture project with credentials."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dpaguard.checkov.runner import find_checkov

# Fake credentials, built at run time so that this file itself holds none a scanner would flag.
AWS_KEY_ID = "AKIA" + "Z3MSJV4WWNKWW5FG"
AWS_KEY_ID_SUPPRESSED = "AKIA" + "Z3MSJV4WXNKWW6FG"
AWS_SECRET = "HhxJ9dX3KbR8v2Gq" + "Yc7LmN4pT1sWzA6eUoF5iBkE"
PRIVATE_KEY_BODY = "MIIEowIBAAKCAQEAvJ8VhE3mM0e7uR2lK3R9f8x0T2b5QpZ1xW6yN4aD7cF3gH2jK"
DB_PASSWORD = "Kq8zW2pLm5tR9vX3" + "yyQ7bN4c"
SECRETS = (AWS_KEY_ID, AWS_KEY_ID_SUPPRESSED, AWS_SECRET, PRIVATE_KEY_BODY, DB_PASSWORD)


def require_checkov() -> Path:
    """The checkov executable; on CI (CI=true) its absence fails the test, locally it skips it."""
    found = find_checkov()
    if found is None:
        message = "checkov is not installed (run `bash .ci/setup` or set DPAGUARD_CHECKOV)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def write_project(root: Path) -> Path:
    """A small Pulumi project with credentials in its program and in one stack config."""
    (root / "infra").mkdir(parents=True)
    (root / "stacks").mkdir()
    (root / "Pulumi.yaml").write_text("name: fixture\nruntime: python\nmain: infra/\nstackConfigDir: stacks\n")
    (root / "infra" / "__main__.py").write_text(
        "import pulumi\n"
        f'AWS_KEY = "{AWS_KEY_ID}"\n'
        f'AWS_SECRET = "{AWS_SECRET}"\n'
        f'KEY2 = "{AWS_KEY_ID_SUPPRESSED}"  # checkov:skip=CKV_SECRET_2: fixture of the suppression test\n'
        'PRIVATE = """-----BEGIN RSA PRIVATE KEY-----\n'
        f"{PRIVATE_KEY_BODY}\n"
        '-----END RSA PRIVATE KEY-----"""\n'
    )
    (root / "stacks" / "Pulumi.dev.yaml").write_text(
        "config:\n"
        "  scaleway:region: fr-par\n"
        "  dpaguard:environment: dev\n"
        f"  fixture:dbPassword: {DB_PASSWORD}\n"
    )
    (root / "stacks" / "Pulumi.prod.yaml").write_text(
        "config:\n  scaleway:region: fr-par\n  dpaguard:environment: prod\n"
        "  fixture:dbPassword:\n    secure: v1:BtOoz37bwuEZ3yjU:+fl8UrPtxZJyJKRt7blE18c++YNDTzGEfmGWsIz5OebDcpFfiRsUAA==\n"
    )
    # A test fixture folder is not part of the project's configuration: never scanned.
    (root / "tests").mkdir()
    (root / "tests" / "fake.py").write_text(f'KEY = "{AWS_KEY_ID}"\n')
    return root
