"""What the command prints besides its reports: stderr lines, and stdout that may close under it.

Every line on stderr goes through `say`, made printable first: a program's exception message or a
file name can hold terminal escapes, which are shown escaped (`\\x1b`), never sent raw. stdout is
written through `write_stdout`: when its reader leaves early (`dpaguard audit ... | head`), the run's
exit code stands, so a failing gate never turns into a pass under `set -o pipefail`.
"""

from __future__ import annotations

import os
import sys

from dpaguard.errors import OutputError


def printable(text: str) -> str:
    """`text` with each unprintable character (control characters, escapes, odd spaces) written as `\\xNN`."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable():
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def say(message: str) -> None:
    """One `dpaguard: ...` line on stderr (errors, notices, progress), printable; a closed stderr is ignored."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(f"dpaguard: {printable(message)}\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit cannot fail again (the documented way)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


# How many characters of a report are encoded and written at a time: a report of 40,000 resources is 80 MB,
# which a stream given it whole holds twice (as text and encoded).
WRITE_CHARACTERS = 1 << 20


def write_stdout(text: str) -> None:
    """Write to stdout; a reader that left is not an error, a stdout that cannot be written is (OutputError)."""
    stream = sys.stdout
    if stream is None:
        raise OutputError("stdout is closed: cannot write there", hint="give --output FILE")
    try:
        # a slice at a time: the stream encodes what it is given whole, and a report of 40,000 resources is 80 MB
        for start in range(0, len(text), WRITE_CHARACTERS):
            stream.write(text[start:start + WRITE_CHARACTERS])
        stream.flush()
    except BrokenPipeError:
        # The reader took what it wanted (`| head`): the run's outcome, not the pipe's, is the exit code.
        silence_stdout()
    except OSError as error:
        silence_stdout()
        raise OutputError(f"cannot write to stdout: {error.strerror or type(error).__name__}") from None
