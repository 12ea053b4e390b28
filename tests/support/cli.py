"""Running the installed `dpaguard` console script as a user does, and reading its one-line errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support import REPO

# The ciphertext of the Redis password in prod-drifted.json: no output may ever contain it.
CANARY = "CANARY-CIPHERTEXT-7f3a"


def dpaguard_command() -> list[str]:
    """The installed console script of the venv running the tests."""
    script = Path(sys.executable).parent / "dpaguard"
    if script.exists():
        return [str(script)]
    found = shutil.which("dpaguard")
    assert found, "the dpaguard console script is not installed (pip install -e '.[test]')"
    return [found]


def dpaguard(*args: str | Path, cwd: Path | None = None, timeout: float = 180,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `dpaguard ARGS` and capture its output (stdin closed, NO_COLOR unset unless given)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "SOURCE_DATE_EPOCH")}
    environment.update(env or {})
    return subprocess.run(
        [*dpaguard_command(), *map(str, args)], capture_output=True, text=True, cwd=cwd or REPO, timeout=timeout,
        stdin=subprocess.DEVNULL, env=environment,
    )


def assert_one_line_error(run: subprocess.CompletedProcess[str], expected: str) -> None:
    """Exit 2, nothing on stdout, exactly one `dpaguard: ...` line on stderr naming what went wrong."""
    assert run.returncode == 2, (run.returncode, run.stdout[-2000:], run.stderr)
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("dpaguard: ") and expected in lines[0], lines[0]
    assert "Traceback" not in run.stderr


@dataclass(frozen=True)
class AuditRun:
    """`dpaguard audit` of the two fixture exports with every format written: JSON on stdout, the rest to files."""

    process: subprocess.CompletedProcess[str]
    document: dict[str, Any]
    files: dict[str, Path]

    def text(self, fmt: str) -> str:
        """The report of one format, as written."""
        return self.process.stdout if fmt == "json" else self.files[fmt].read_text(encoding="utf-8")
