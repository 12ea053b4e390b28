"""Reading a file dpaguard is given: a regular file, of bounded size, never a device, a pipe or a socket.

Every file a run reads whole (policy YAML and Rego, waivers, `Pulumi.yaml` and stack configs, the
evidence log, a baseline report) may come from the pull request's tree or a path it names. Read
naively, `/dev/zero` or a fifo named `waivers.yaml` grows memory without end or blocks the run
forever. `read_input` opens without blocking, refuses anything but a regular file, and stops at a
limit even if the file grows while it is read. Its refusals are OSErrors with a `strerror`, so every
reader's existing "cannot read: <reason>" line reports them, exit 2.

Stack exports have their own reader (`source/state.py`): they may come through a pipe
(`--state <(pulumi stack export)`), bounded by DPAGUARD_MAX_STATE_MB.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MB = 1024 * 1024
# The policy set's YAML and Rego, waivers, Pulumi.yaml and stack configs: kilobytes in practice.
MAX_CONFIG_BYTES = 16 * MB
# The evidence log (one line per run) and a baseline (a whole JSON report): as large as a stack export may be.
MAX_RECORD_BYTES = 256 * MB


class UnfitInput(OSError):
    """A file dpaguard will not read: not a regular file, or larger than its limit."""


def read_input(path: Path | str, limit: int) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them; UnfitInput (an OSError) otherwise."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)  # a fifo's open would wait for a writer
    try:
        status = os.fstat(fd)
        if stat.S_ISDIR(status.st_mode):
            raise UnfitInput(errno.EISDIR, "is a directory")
        if not stat.S_ISREG(status.st_mode):
            raise UnfitInput(errno.EINVAL, "not a regular file (a device, a pipe or a socket)")
        if status.st_size > limit:
            raise UnfitInput(errno.EFBIG, f"larger than {limit // MB} MB")
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while being read
                raise UnfitInput(errno.EFBIG, f"larger than {limit // MB} MB")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_input_text(path: Path | str, limit: int) -> str:
    """read_input decoded as UTF-8, newlines read as Path.read_text reads them (`\r\n` and `\r` are `\n`)."""
    return read_input(path, limit).decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def check_regular(fd: int, limit: int) -> None:
    """UnfitInput unless the open file `fd` is a regular file of at most `limit` bytes (a file opened for append)."""
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode):
        raise UnfitInput(errno.EINVAL, "not a regular file (a device, a pipe or a socket)")
    if status.st_size > limit:
        raise UnfitInput(errno.EFBIG, f"larger than {limit // MB} MB")
