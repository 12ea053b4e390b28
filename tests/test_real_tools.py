"""`support.real_tools.real_tool`: a missing real tool skips a test locally and fails it on CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.real_tools import TOOLS, real_tool


def test_a_built_tool_is_found_by_its_absolute_path(tmp_path: Path) -> None:
    tool = tmp_path / "opa"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    assert real_tool("opa", tmp_path) == tool


@pytest.mark.parametrize("ci", ["", "false", "0"])
def test_a_missing_tool_skips_the_test_off_ci_saying_how_to_build_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match=r"real pulumi is not built .*\.ci/real-tools"):
        real_tool("pulumi", tmp_path)


@pytest.mark.parametrize("ci", ["true", "TRUE", "1", "yes"])
def test_a_missing_tool_fails_the_test_on_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match=r"real pulumi is not built .*CI=true"):
        real_tool("pulumi", tmp_path)


def test_a_file_that_cannot_run_is_no_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "opa").write_text("not a program")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        real_tool("opa", tmp_path)


def test_the_tools_live_in_the_repository_tools_bin() -> None:
    assert TOOLS.parts[-2:] == (".tools", "bin")
    assert (TOOLS.parent.parent / "pyproject.toml").is_file()
