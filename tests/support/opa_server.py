"""The real OPA server (`.tools/bin/opa run --server`, built by `.ci/real-tools`) for the tests.

`RealOpa()` starts `opa run --server --addr 127.0.0.1:<free port>` (empty: push mode) or with
`bundle=` a bundle file (`--bundle dpa.tar.gz`), waits until `/health` answers, and is stopped
(SIGTERM, then SIGKILL) by `stop()` or its `with` block: a test never leaves one running.

`require_opa()` skips a test, saying why, where the binary was not built, and fails it on CI
(`CI=true`), where `.ci/run` builds the real tools first: a skipped real-server tier must never pass
for a tested one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from support import REPO
from support.opa_standin import closed_port_url

OPA_BINARY = REPO / ".tools" / "bin" / "opa"
OPA_VERSION = "1.22.4"


def require_opa() -> Path:
    """The real opa binary; pytest.skip (or, on CI, pytest.fail) when it was not built."""
    if OPA_BINARY.is_file() and os.access(OPA_BINARY, os.X_OK):
        return OPA_BINARY
    why = f"the real OPA is not built ({OPA_BINARY}: run .ci/real-tools)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{why}; on CI it must be", pytrace=False)
    pytest.skip(why)


class RealOpa:
    """One `opa run --server` process on 127.0.0.1, started by `start()` (or `with`)."""

    def __init__(self, *, bundle: Path | None = None, log: Path | None = None) -> None:
        self.binary = require_opa()
        self.bundle = bundle
        self.url = closed_port_url()  # a free port, taken again by OPA at once
        self._log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.process is not None
        return self.process.pid

    def start(self, deadline: float = 20.0) -> "RealOpa":
        """Start the server and wait for GET /health to answer 200."""
        addr = self.url.removeprefix("http://")
        command = [str(self.binary), "run", "--server", "--addr", addr, "--log-level", "error"]
        if self.bundle is not None:
            # run beside the file, as `opa run --server --bundle dpa.tar.gz`: OPA names the bundle as given
            command += ["--bundle", self.bundle.name]
        output = open(self._log, "ab") if self._log is not None else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=output,
                                            start_new_session=True, cwd=self.bundle.parent if self.bundle else None)
        finally:
            if self._log is not None:
                output.close()  # type: ignore[union-attr]
        end = time.monotonic() + deadline
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"opa run exited with {self.process.returncode} ({' '.join(command)})")
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > end:
                self.stop()
                raise RuntimeError(f"opa run did not answer /health within {deadline} s")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the server (a crash, as far as its clients can tell) and reap it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM the server, SIGKILL it after 5 s, and reap it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> "RealOpa":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the server holds, through its own API ---------------------------------------------

    @property
    def policies(self) -> dict[str, str]:
        """Every module the server holds: id -> raw text (as the stand-in's attribute)."""
        listing = requests.get(f"{self.url}/v1/policies", timeout=10).json()["result"]
        return {entry["id"]: entry["raw"] for entry in listing}

    def put_policy(self, pid: str, text: str) -> requests.Response:
        """PUT /v1/policies/<pid> as any client of the server may."""
        return requests.put(f"{self.url}/v1/policies/{pid}", data=text.encode(), timeout=30,
                            headers={"Content-Type": "text/plain"})

    def delete_policy(self, pid: str) -> None:
        """DELETE /v1/policies/<pid> (a test cleaning up what it put on a shared server)."""
        requests.delete(f"{self.url}/v1/policies/{pid}", timeout=30).raise_for_status()

    def memory(self) -> dict[str, int]:
        """The server's VmHWM and VmRSS in kB (from /proc/<pid>/status)."""
        found: dict[str, int] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                found[key] = int(value.split()[0])
        return found

    def cpu_seconds(self) -> float:
        """The server's CPU time so far, user and system (from /proc/<pid>/stat)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def healthy(self) -> bool:
        """Whether GET /health answers 200."""
        try:
            return requests.get(f"{self.url}/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False


def foreign_module(package: str = "dpaguard.transit_encryption") -> str:
    """The module of issue 24 C6: in a dpaguard package, under another id, it switches the HTTPS control off."""
    return f"package {package}\n\n_https_only(_) if true\n"


__all__ = ["RealOpa", "require_opa", "OPA_BINARY", "OPA_VERSION", "foreign_module"]

