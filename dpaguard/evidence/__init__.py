"""The evidence trail: an append-only, hash-chained log of runs that a reviewer can verify.

`append(path, result)` records a run (see log.py for the entry and what goes in it);
`verify(path)` checks the chain and lists when each finding first appeared and was fixed.
"""

from dpaguard.evidence.log import (
    GENESIS,
    FindingHistory,
    Period,
    Problem,
    VerifyReport,
    append,
    canonical,
    entry_digest,
    read_entries,
    run_record,
    timeline,
    verify,
)

__all__ = [
    "GENESIS",
    "FindingHistory",
    "Period",
    "Problem",
    "VerifyReport",
    "append",
    "canonical",
    "entry_digest",
    "read_entries",
    "run_record",
    "timeline",
    "verify",
]
