"""The run's clock: now, in UTC, or the moment SOURCE_DATE_EPOCH names (reproducible builds' convention)."""
from __future__ import annotations

import datetime as dt
import os


def now() -> dt.datetime:
    """Now in UTC to the second, or SOURCE_DATE_EPOCH's moment when it is set to a number of seconds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
