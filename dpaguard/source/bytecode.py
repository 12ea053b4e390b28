"""A bytecode cache for what a program imports, which its render can neither write nor always find beside the sources.

The program runs with a read-only view of the files (`dpaguard.contain`), so Python cannot write the
bytecode of the SDK and the provider packages it imports beside their sources: where their virtualenv
holds none (installed by `uv`, or with PYTHONDONTWRITEBYTECODE=1 set, as on some CI machines), every
render compiled pulumiverse-scaleway again, tens of seconds. So the program's interpreter reads its
bytecode from a cache of dpaguard's (PYTHONPYCACHEPREFIX), which the runner reports short of, and
which dpaguard fills after the render, in a process of its own.

The cache is trusted code for every later render, so the program never writes it: it is outside the
program's writable folders, and dpaguard fills it by compiling, with the program's interpreter in
isolated mode (`-I -S`: no site, no `.pth` of the environment runs) and under the same read-only view
but for the cache, the source files the program imported (the project's own too: a virtualenv
usually lives inside the project folder). Each entry is a checked-hash pyc: Python compares it with
its source on every import, so an entry whose source changed is never run, and the cache can only
ever hold the compiled form of a file the program could run anyway.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
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


def fill(python: str, files: Sequence[str], cache: Path) -> bool:
    """Compile `files` into the cache with the program's interpreter, isolated, read-only but for the cache.

    Whether it ran to its end (where the kernel refuses the namespaces, it does not run: the cache stays as it is).
    """
    if not files:
        return False
    with tempfile.TemporaryDirectory(prefix="dpaguard-bytecode-") as work:
        listing = Path(work, "files.json")
        listing.write_text(json.dumps(list(files)), encoding="utf-8")
        try:
            contained = contain.Contained(
                [python, "-I", "-S", "-c", _FILL, str(cache), str(listing)], cwd=work,
                env=contain.clean_env({"TMPDIR": work}), isolate=True, required=True, writable=[str(cache), work],
            )
        except OSError:
            return False
        try:
            return contained.wait(timeout=FILL_TIMEOUT_S) == 0
        except subprocess.TimeoutExpired:
            return False
        finally:
            contained.stop()


def _stamp(cache: Path, python: str) -> Path:
    import hashlib

    return cache / "primed" / hashlib.sha256(python.encode()).hexdigest()[:32]


def primed(cache: Path, python: str) -> bool:
    """Whether the cache was filled for this interpreter: only then does the program read it (PYTHONPYCACHEPREFIX),
    since with a prefix Python ignores the bytecode beside the sources, which a pip-made virtualenv has."""
    return _stamp(cache, python).is_file()


def refresh(python: str, reported: Any, cache: Path) -> None:
    """Compile what the render reported the cache lacks, and from then on have this interpreter read the cache.

    The first time (the program read the bytecode beside the sources), everything it imported, since
    from then on it reads the cache only; later, what it lacked (a package upgraded, a new import).
    """
    report = reported if isinstance(reported, dict) else {}
    if not to_compile(report.get("missing"), cache):
        return
    files = to_compile(report.get("missing" if primed(cache, python) else "imported"), cache)
    if not fill(python, files, cache):
        return
    stamp = _stamp(cache, python)
    try:
        stamp.parent.mkdir(mode=0o700, exist_ok=True)
        stamp.write_text(python + "\n", encoding="utf-8")
    except OSError:
        pass
