"""A small Chrome DevTools Protocol client over `--remote-debugging-pipe`: headless Chromium, a page,
print media emulated, a script's answer and the page printed to PDF, with no websocket library.

Chromium reads commands from its file descriptor 3 and writes answers and events to 4, each a JSON
object ended by a NUL byte (the pipe transport of the DevTools protocol).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium() -> str:
    """Debian's chromium (or the Chrome of GitHub's runners); on CI (CI=true) its absence is a failure, locally a skip."""
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is not installed (.ci/run installs Debian's chromium package)")
    pytest.skip("chromium is not installed here (apt-get install chromium); CI fails instead of skipping")


class DevToolsError(RuntimeError):
    """Chromium answered a command with an error, or did not answer in time."""


class Page:
    """One headless Chromium with one page attached (flat session); use as a context manager."""

    def __init__(self, binary: str, profile: Path, timeout: float = 60.0) -> None:
        commands_read, commands_write = os.pipe()
        answers_read, answers_write = os.pipe()
        # Above 9 in the parent, so that moving them to 3 and 4 in the child cannot overwrite one another.
        high_read = fcntl.fcntl(commands_read, fcntl.F_DUPFD, 10)
        high_write = fcntl.fcntl(answers_write, fcntl.F_DUPFD, 10)
        os.close(commands_read)
        os.close(answers_write)

        def move() -> None:
            os.dup2(high_read, 3, inheritable=True)
            os.dup2(high_write, 4, inheritable=True)

        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # close_fds would close 3 and 4 after `move`; the parent's other descriptors are not inheritable (PEP 446)
            preexec_fn=move, close_fds=False)
        os.close(high_read)
        os.close(high_write)
        self.send_to = os.fdopen(commands_write, "wb", buffering=0)
        self.read_from = os.fdopen(answers_read, "rb", buffering=0)
        self.timeout = timeout
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank", session=False)["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True, session=False)["sessionId"]

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the browser (its own command, then the process)."""
        try:
            self.call("Browser.close", session=False)
        except (DevToolsError, OSError):
            pass
        for stream in (self.send_to, self.read_from):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            if time.monotonic() > deadline:
                raise DevToolsError("chromium did not answer in time")
            chunk = self.read_from.read(1 << 16)
            if not chunk:
                raise DevToolsError("chromium closed its DevTools pipe")
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(self, method: str, *, session: bool = True, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.send_to.write(json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._message(deadline)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise DevToolsError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result
            self.events.append(answer)

    def wait_for(self, event: str) -> dict[str, Any]:
        """The first event of that name (already received or still to come)."""
        deadline = time.monotonic() + self.timeout
        while True:
            for index, seen in enumerate(self.events):
                if seen.get("method") == event:
                    return self.events.pop(index)
            self.events.append(self._message(deadline))

    def open(self, url: str) -> None:
        """Navigate and wait for the load event."""
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (returned by value)."""
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise DevToolsError(f"script failed: {answer['exceptionDetails'].get('text')}")
        return answer["result"].get("value")

    def print_to_pdf(self) -> bytes:
        """The page printed as Chromium prints it, with the page size and margins its CSS asks for."""
        answer = self.call("Page.printToPDF", preferCSSPageSize=True, printBackground=True, displayHeaderFooter=False)
        return base64.b64decode(answer["data"])
