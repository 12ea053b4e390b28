"""`support.real_tools.real_tool`: a missing real tool skips a test locally and fails it on CI."""

from __future__ import annotations

from pathlib import Path

import pytest

import support.real_tools
from support.real_tools import real_tool


@pytest.fixture
def tools_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty `.tools/bin` in place of the repository's."""
    monkeypatch.setattr(support.real_tools, "TOOLS_BIN", tmp_path)
    return tmp_path


def test_a_built_tool_is_found(tools_bin: Path) -> None:
    tool = tools_bin / "opa"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    assert real_tool("opa") == tool


@pytest.mark.parametrize("ci", ["", "false", "0"])
def test_a_missing_tool_skips_the_test_off_ci_saying_how_to_build_it(tools_bin: Path, monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match=r"regal is not built .*\.ci/real-tools"):
        real_tool("regal")


@pytest.mark.parametrize("ci", ["true", "TRUE"])
def test_a_missing_tool_fails_the_test_on_ci(tools_bin: Path, monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match=r"CI=true: regal is not built"):
        real_tool("regal")


def test_a_file_that_cannot_run_is_no_tool(tools_bin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tools_bin / "opa").write_text("not a program")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        real_tool("opa")


def test_the_tools_live_in_the_repository_tools_bin() -> None:
    assert support.real_tools.TOOLS_BIN.parts[-2:] == (".tools", "bin")
    assert (support.real_tools.TOOLS_BIN.parents[1] / "pyproject.toml").is_file()
