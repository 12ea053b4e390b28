"""A pull request hides credentials where dpaguard prints text: no output shows them (issue 24, H4, L5, L6, L7).

Each case puts a canary credential somewhere dpaguard writes about (a URL it names in an error, a
property or tag name, a resource name, a type token, a source path, a crafted wrapper) and reads every
output of the installed `dpaguard`: the canary never appears, and DPA-SEC-001 reports the finding.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from support import CLI_FIXTURES
from support.cli import assert_one_line_error, dpaguard

from dpaguard.errors import shown_url

STATE = CLI_FIXTURES / "prod-drifted.json"
URL_CANARY = "CANARYc0ffee5e1d"


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("url, shown", [
    ("http://127.0.0.1:8181/v1/secret/x?token=t#f", "http://127.0.0.1:8181"),
    ("https://user:pass@opa.example:443/a", "https://opa.example:443"),
    ("http://[::1]:8181/path", "http://[::1]:8181"),
    ("http://opa.example", "http://opa.example"),
    ("http://[::1", "(a malformed URL)"),
    ("http://host:99999/", "(a malformed URL)"),
    ("not a url /with/path", "(a malformed URL)"),
])
def test_a_url_is_shown_as_scheme_host_and_port(url: str, shown: str) -> None:
    assert shown_url(url) == shown


def test_an_opa_url_error_names_the_server_only(tmp_path: Path) -> None:
    """The path, query, fragment and userinfo of `--opa-url` can hold a token: the error line shows none (L6)."""
    port = _closed_port()
    url = f"http://u:{URL_CANARY}@127.0.0.1:{port}/v1/{URL_CANARY}/?key={URL_CANARY}#{URL_CANARY}"
    run = dpaguard("audit", "--state", STATE, "--opa-url", url, "--opa-timeout", "5")
    assert_one_line_error(run, f"OPA server http://127.0.0.1:{port}: ")
    assert URL_CANARY not in run.stderr + run.stdout
