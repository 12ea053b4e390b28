"""The DPA text a report's scope names by digest: the user's document, found, never required.

$DPAGUARD_DPA names it; otherwise it is looked for where the project keeps its shared documents,
`../shared/dpa/data-processing-agreement.txt` beside the project (as tests/policies/test_clause_ledger.py
looks for it). Absent, the report says "DPA text not found" rather than failing.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

DPA_ENV = "DPAGUARD_DPA"
DPA_FILE = Path("shared") / "dpa" / "data-processing-agreement.txt"


def dpa_document_sha256(project_dir: Path) -> str | None:
    """sha256 of the DPA text: $DPAGUARD_DPA, else ../shared/dpa/ beside the project; None when absent.

    The DPA is the user's document, not the repository's: a report says "DPA text not found" rather
    than failing. Only a regular file is read (a pull request cannot make the gate read a device).
    """
    named = os.environ.get(DPA_ENV)
    path = Path(named) if named else project_dir.resolve().parent / DPA_FILE
    try:
        if not path.is_file():
            return None
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
