"""A cold start imports only what the command needs: `dpaguard --version` no stage, a command only its own modules."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from dpaguard.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(",".join(sorted(sys.modules)))
"""


def _imported(*argv: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True)
    return set(done.stdout.strip().splitlines()[-1].split(","))


def test_version_imports_no_stage_nor_yaml() -> None:
    imported = _imported("--version")
    dpaguard = {name for name in imported if name.startswith("dpaguard")}
    assert dpaguard == {"dpaguard", "dpaguard.cli", "dpaguard.cli._console", "dpaguard.errors"}
    assert not {"yaml", "json", "asyncio", "dpaguard.pipeline"} & imported


@pytest.mark.parametrize("command", ["audit", "evidence"])
def test_a_command_imports_no_other_command(command: str) -> None:
    imported = _imported(command, "--help")
    assert f"dpaguard.cli.{command}" in imported
    assert not {f"dpaguard.cli.{other}" for other in ("render", "check", "export", "bundle", "data", "controls",
                                                      "audit", "evidence") if other != command} & imported


def test_the_top_level_help_lists_every_command_with_its_help() -> None:
    from dpaguard.cli import SUBCOMMANDS, build_parser

    text = build_parser().format_help()
    for name in SUBCOMMANDS:
        help_line = __import__(f"dpaguard.cli.{name}", fromlist=["HELP"]).HELP.split()[0]
        assert any(line.split()[:2] == [name, help_line] for line in text.splitlines()), name


def test_a_reporter_is_imported_when_its_format_is_asked_for() -> None:
    imported = _imported("audit", "--help")
    assert "dpaguard.pipeline" in imported
    assert not {f"dpaguard.report.{name}" for name in ("html", "markdown", "sarif", "junit", "text")} & imported
