"""Benchmark: a ~200 MB stack export is streamed within its memory budget; one above the limit is refused before parsing.

Run: cd tests && ../.venv/bin/python -m benchmarks.bench_reliability [--mb 200]
Prints the file size, the time and peak resident memory (VmHWM) of `load_state` in a fresh process,
and the time `dpaguard audit` takes to refuse a file above the limit (DPAGUARD_MAX_STATE_MB, default 256).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from support.big_exports import MEASURE, big_export  # the state loader's own large-file fixture
from support.cli import dpaguard_command


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=200.0, help="size of the export to load (default 200)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        sample = Path(work) / "sample.json"
        big_export(sample, 1000, block_last=False)
        per_resource = sample.stat().st_size / 1000
        path = Path(work) / "big.json"
        big_export(path, int(args.mb * 1024 * 1024 / per_resource), block_last=False)
        size = path.stat().st_size
        start = time.monotonic()
        run = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, check=True)
        elapsed = time.monotonic() - start
        count, peak = map(int, run.stdout.split())
        print(f"load_state: {size / 2**20:.0f} MB, {count} resources in {elapsed:.1f} s, peak {peak / 2**20:.0f} MB ({peak / size:.1f}x the file)")
        huge = Path(work) / "huge.json"
        with huge.open("wb") as handle:
            handle.truncate(257 * 2**20)
        dpaguard = Path(dpaguard_command()[0])
        start = time.monotonic()
        refused = subprocess.run([str(dpaguard), "audit", "--state", str(huge)], capture_output=True, text=True, env={**os.environ})
        print(f"audit of a 257 MB file: exit {refused.returncode} in {time.monotonic() - start:.2f} s: {refused.stderr.strip()}")


if __name__ == "__main__":
    main()
