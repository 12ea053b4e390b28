"""Why a program's process ended without answering, in one line, from what it printed on stderr.

The runner answers through its result file (`dpaguard.source._runner`); when the process ends
without writing it (the program called `os._exit`, the interpreter crashed, the runner itself could
not start under the program's SDK), the only account left is the process's stderr. It is read here
through a pipe, keeping only its last STDERR_TAIL_BYTES (a program may print without end), and
turned into the line a user needs: the program's own `file:line` and the exception, from the last
traceback, with the lookups that answered nothing before it. Nothing else of stderr is shown, and
the plaintext credentials the render knows (sensitive-named config values; a `secure:` value is
never decrypted offline, so it cannot be there) are cut out of that line.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Iterable

from dpaguard.source._runner import ENGINE_INVOKES, LOOKUP_MARK
from dpaguard.deployment.credentials import redact_credentials

# The end of stderr kept: a traceback, however deep, fits, and a program that prints without end costs no memory.
STDERR_TAIL_BYTES = 64 * 1024
# How long, after the process is gone, its stderr may take to close (a straggler the launcher killed).
DRAIN_TIMEOUT_S = 2.0
MESSAGE_LIMIT = 300
MAX_LOOKUPS = 1000
_LINE_LIMIT = 1024  # a lookup mark is short: a longer line is never one

_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)')


class StderrTail:
    """The write end of a pipe for the process's stderr, and a thread keeping the end of what arrives."""

    def __init__(self) -> None:
        read, self.writer = os.pipe()
        self._tail = bytearray()
        self.lookups: list[str] = []  # the runner's lookup marks, kept apart: the tail may have lost them
        self._thread = threading.Thread(target=self._drain, args=(read,), name="dpaguard-stderr", daemon=True)
        self._thread.start()

    def _drain(self, read: int) -> None:
        mark = LOOKUP_MARK.encode()
        line = bytearray()
        with open(read, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                self._tail += chunk
                del self._tail[:-STDERR_TAIL_BYTES]
                for part in chunk.splitlines(keepends=True):
                    line += part
                    if line.endswith(b"\n"):
                        if line.startswith(mark) and len(self.lookups) < MAX_LOOKUPS:
                            self.lookups.append(line[len(mark):].decode("utf-8", "replace").strip())
                        line.clear()
                    del line[:-_LINE_LIMIT]

    def started(self) -> None:
        """The process holds the write end now: ours is closed, so the pipe ends when the process's copies do."""
        os.close(self.writer)

    def text(self) -> str:
        """What the process printed last (up to STDERR_TAIL_BYTES), once it has closed stderr or DRAIN_TIMEOUT_S passed."""
        self._thread.join(DRAIN_TIMEOUT_S)
        return bytes(self._tail).decode("utf-8", "replace")


def _printable(text: str, scrub: list[str]) -> str:
    for value in scrub:
        text = text.replace(value, "[redacted]")
    text = redact_credentials(" ".join(text.split()))
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def _is_program_file(path: str, root: Path) -> bool:
    """A file of the program: in its project, outside any installed package and outside dpaguard."""
    own = str(Path(__file__).resolve().parents[1]) + os.sep
    return path.startswith(str(root) + os.sep) and "site-packages" not in path and not path.startswith(own)


def lookups_clause(tokens: Iterable[str]) -> str:
    """The part of a failure line that names the lookups that answered nothing before it ('' with none)."""
    tokens = sorted({t for t in tokens if t not in ENGINE_INVOKES})
    if not tokens:
        return ""
    return f" (offline, {len(tokens)} lookup(s) answered nothing before it: {', '.join(tokens)})"


def failure_line(stderr: str, lookups: Iterable[str], root: Path, code: int, scrub: list[str]) -> str:
    """One line from a process that ended without answering: `file:line: Exception: message`, else what it printed last."""
    signal = code - 128 if 128 < code <= 128 + 64 else -code if code < 0 else 0
    ended = f"killed by signal {signal}" if signal else f"exit code {code}"
    lines = [line for line in stderr.splitlines() if not line.startswith(LOOKUP_MARK)]
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    what = ""
    if starts:
        # The exception that ended the process is the last block's last unindented line; the program's
        # frame is the innermost of that block, else of an exception it was raised while handling.
        block = lines[starts[-1] + 1:]
        exception = next((line.strip() for line in reversed(block) if line.strip() and not line[:1].isspace()), "")
        location = ""
        for start in reversed(starts):
            end = next((i for i in starts if i > start), len(lines))
            frames = [_FRAME.match(line) for line in lines[start + 1:end]]
            found = [f for f in frames if f and _is_program_file(f["path"], root)]
            if found:
                location = f"{Path(found[-1]['path']).relative_to(root).as_posix()}:{found[-1]['line']}"
                break
        if exception:
            kind, colon, message = exception.partition(": ")
            exception = f"{kind.rsplit('.', 1)[-1]}{colon}{message}"
            what = f"{location}: {_printable(exception, scrub)}" if location else _printable(exception, scrub)
    if not what:
        last = next((line for line in reversed(lines) if line.strip()), "")
        what = f"it printed last: {_printable(last, scrub)}" if last else "it printed nothing on stderr"
    return f"{what} (the program's process ended before answering: {ended}){lookups_clause(_printable(t, scrub) for t in lookups)}"
