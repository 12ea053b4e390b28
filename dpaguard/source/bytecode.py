"""A bytecode cache for what a program imports, which its render can neither write nor always find beside the sources.

The program runs with a read-only view of the files (`dpaguard.contain`), so Python cannot write the
bytecode of the SDK and the provider packages it imports beside their sources: where their virtualenv
holds none (installed by `uv`, or with PYTHONDONTWRITEBYTECODE=1 set, as on some CI machines), every
render compiled pulumiverse-scaleway again, tens of seconds. So the program's interpreter reads its
bytecode from a cache of dpaguard's (PYTHONPYCACHEPREFIX), which the runner reports short of, and
which dpaguard fills after the render, in processes of its own that compile beside the rest of the
run (finish_pending waits for them before dpaguard exits).

The cache is trusted code for every later render, so the program never writes it: it is outside the
program's writable folders, and dpaguard fills it by compiling, with the program's interpreter in
isolated mode (`-I -S`: no site, no `.pth` of the environment runs) and under the same read-only view
but for the cache, the source files the program imported (the project's own too: a virtualenv
usually lives inside the project folder). Each entry is a checked-hash pyc: Python compares it with
its source on every import, so an entry whose source changed is never run, and the cache can only
ever hold the compiled form of a file the program could run anyway.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Sequence

from dpaguard import contain

# Set in dpaguard's environment: the cache's folder (default: $XDG_CACHE_HOME/dpaguard/bytecode, else
# ~/.cache/dpaguard/bytecode); `off` for none.
CACHE_ENV = "DPAGUARD_BYTECODE_CACHE"
# How long filling the cache may take (compiling pulumiverse-scaleway's imported modules takes seconds).
FILL_TIMEOUT_S = 120.0
# At most this many files a run asks to compile: a program's answer is not trusted to bound itself.
MAX_FILES = 20_000

# Run by the program's interpreter as `python -I -S -c FILL CACHE FILES.json`: compiles the files, never imports them.
_FILL = (
    "import json, py_compile, sys\n"
    "sys.pycache_prefix = sys.argv[1]\n"
    "for path in json.load(open(sys.argv[2], encoding='utf-8')):\n"
    "    try:\n"
    "        py_compile.compile(path, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)\n"
    "    except Exception:\n"
    "        pass\n"
)


def cache_dir() -> Path | None:
    """The cache's folder, made private to this user; None where there is none (`off`, no home, not writable)."""
    chosen = os.environ.get(CACHE_ENV, "")
    if chosen == "off":
        return None
    if chosen:
        folder = Path(chosen)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or (str(Path.home() / ".cache") if os.environ.get("HOME") else "")
        if not base:
            return None
        folder = Path(base) / "dpaguard" / "bytecode"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not folder.is_dir() or folder.is_symlink() or not os.access(folder, os.W_OK):
            return None
    except OSError:
        return None
    return folder.resolve()


def to_compile(reported: Any, cache: Path) -> list[str]:
    """Of the files the runner reports, those dpaguard compiles: existing `.py` files named by absolute paths."""
    if not isinstance(reported, list):
        return []
    chosen = []
    for path in reported[:MAX_FILES]:
        if (isinstance(path, str) and os.path.isabs(path) and path.endswith(".py")
                and not path.startswith(str(cache) + os.sep) and os.path.isfile(path)):
            chosen.append(path)
    return chosen


class Filling:
    """Compiling files into the cache, started in the background while dpaguard goes on (see finish_pending).

    The files are shared between `workers` processes of the program's interpreter, each isolated and
    read-only but for the cache: a first render's fill (hundreds of files) overlaps the rest of the run.
    """

    def __init__(self, python: str, files: Sequence[str], cache: Path, workers: int) -> None:
        self.python, self.cache, self.files = python, cache, tuple(files)
        self.deadline = time.monotonic() + FILL_TIMEOUT_S
        self.work = tempfile.TemporaryDirectory(prefix="dpaguard-bytecode-")
        self.processes: list[contain.Contained] = []
        for share in range(workers):
            listing = Path(self.work.name, f"files-{share}.json")
            listing.write_text(json.dumps(list(files[share::workers])), encoding="utf-8")
            try:
                self.processes.append(contain.Contained(
                    [python, "-I", "-S", "-c", _FILL, str(cache), str(listing)], cwd=self.work.name,
                    env=contain.clean_env({"TMPDIR": self.work.name}), isolate=True, required=True,
                    writable=[str(cache), self.work.name],
                ))
            except OSError:
                break

    def finish(self) -> bool:
        """Wait for the compilers (until the fill's time limit); whether all of them ran to their end."""
        done = bool(self.processes)
        for process in self.processes:
            try:
                done = process.wait(timeout=max(self.deadline - time.monotonic(), 0.1)) == 0 and done
            except subprocess.TimeoutExpired:
                done = False
            finally:
                process.stop()
        self.work.cleanup()
        return done

    def stop(self) -> None:
        """End the compilers at once."""
        for process in self.processes:
            process.stop()
        self.work.cleanup()


# Fills asked for by renders, not started yet; then started. A fill is started by the thread that waits
# for it, never by a render's thread: the launcher dies with the thread that started it (PR_SET_PDEATHSIG).
_queued: list[tuple[str, tuple[str, ...], Path]] = []
_pending: list[Filling] = []
_lock = threading.Lock()


def _workers() -> int:
    """Compilers a fill starts: one per usable CPU, at most two (the rest of the run needs a CPU too)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    return max(1, min(2, usable))


def fill(python: str, files: Sequence[str], cache: Path) -> None:
    """Ask for `files` to be compiled into the cache with the program's interpreter, isolated, read-only but for the cache.

    Files this run already asked to compile for the same interpreter are left to that fill. The fill
    starts at start_queued() and runs beside the rest of the run; finish_pending() waits for it (where
    the kernel refuses the namespaces, nothing runs: the cache stays as it is).
    """
    with _lock:
        taken = {f for queued in _queued if queued[0] == python for f in queued[1]}
        taken |= {f for filling in _pending if filling.python == python for f in filling.files}
        chosen = tuple(f for f in files if f not in taken)
        if chosen:
            _queued.append((python, chosen, cache))


def start_queued() -> None:
    """Start the fills the renders asked for, from this thread, which must outlive them (the command's main thread)."""
    with _lock:
        queued = list(_queued)
        _queued.clear()
    started = [Filling(python, files, cache, min(_workers(), len(files))) for python, files, cache in queued]
    with _lock:
        _pending.extend(started)


def finish_pending() -> None:
    """Start what is still queued, then wait for the fills; the cache is then read by every later render of their interpreters."""
    start_queued()
    with _lock:
        fillings = list(_pending)
        _pending.clear()
    try:
        for filling in fillings:
            if filling.finish():
                stamp = _stamp(filling.cache, filling.python)
                try:
                    stamp.parent.mkdir(mode=0o700, exist_ok=True)
                    stamp.write_text(filling.python + "\n", encoding="utf-8")
                except OSError:
                    pass
    except BaseException:  # interrupted while waiting: the compilers stop now (an unfinished fill is not stamped)
        for filling in fillings:
            filling.stop()
        raise


atexit.register(finish_pending)  # a library caller that never asks: no compiler outlives the process


def _stamp(cache: Path, python: str) -> Path:
    import hashlib

    return cache / "primed" / hashlib.sha256(python.encode()).hexdigest()[:32]


def primed(cache: Path, python: str) -> bool:
    """Whether the cache was filled for this interpreter: only then does the program read it (PYTHONPYCACHEPREFIX),
    since with a prefix Python ignores the bytecode beside the sources, which a pip-made virtualenv has."""
    return _stamp(cache, python).is_file()


def refresh(python: str, reported: Any, cache: Path) -> None:
    """Start compiling what the render reported the cache lacks; once done, this interpreter reads the cache.

    The first time (the program read the bytecode beside the sources), everything it imported, since
    from then on it reads the cache only; later, what it lacked (a package upgraded, a new import).
    """
    report = reported if isinstance(reported, dict) else {}
    if not to_compile(report.get("missing"), cache):
        return
    fill(python, to_compile(report.get("missing" if primed(cache, python) else "imported"), cache), cache)
