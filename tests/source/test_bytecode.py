"""The bytecode cache of a program's imports: filled by dpaguard, read by the program, never written by it (issue 21 §7)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from dpaguard.source import bytecode
from dpaguard.source.program import render_stack

pytestmark = pytest.mark.e2e  # renders a program in a virtualenv it builds

# The program reports which bytecode folder its interpreter reads, and whether it could write to it.
PROGRAM = """
    import sys
    import pulumi
    import helper_without_bytecode

    wrote = "no cache"
    if sys.pycache_prefix:
        try:
            with open(sys.pycache_prefix + "/planted.pyc", "wb") as planted:
                planted.write(b"planted")
            wrote = "written"
        except OSError as error:
            wrote = type(error).__name__
    pulumi.export("prefix", sys.pycache_prefix or "")
    pulumi.export("write", wrote)
    pulumi.export("helper", helper_without_bytecode.NAME)
"""


def _venv(path: Path) -> Path:
    """A virtualenv whose own package has no bytecode, the SDK reached through a `.pth` (see test_interpreter)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, capture_output=True)
    site = Path(subprocess.run([str(path / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    own = sysconfig.get_paths()["purelib"]
    paths = [own] + [p for p in sys.path if p.endswith("site-packages") and p != own]
    (site / "sdk-of-the-test-runner.pth").write_text("".join(f"{p}\n" for p in paths))
    (site / "helper_without_bytecode.py").write_text("NAME = 'helper'\n")
    return site / "helper_without_bytecode.py"


def _cached_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """The PROGRAM project in a virtualenv of its own, dpaguard's cache in tmp_path: (project, helper module, cache)."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: cached\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n")
    (project / "Pulumi.dev.yaml").write_text("config: {}\n")
    (project / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    helper = _venv(project / "venv")
    cache = tmp_path / "cache"
    monkeypatch.setenv(bytecode.CACHE_ENV, str(cache))
    return project, helper, cache


def test_the_cache_is_filled_after_a_render_read_by_the_next_and_never_written_by_the_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, helper, cache = _cached_project(tmp_path, monkeypatch)

    first = render_stack(project, "dev", timeout=180)
    bytecode.finish_pending()  # the fill runs beside the rest of the run; the command waits for it before exiting
    outputs = first.resources[0]["outputs"]
    assert (outputs["prefix"], outputs["helper"]) == ("", "helper")  # the cache was empty: not read yet
    # Filled after the render: the helper (it had no bytecode), as a checked-hash pyc; never the program's own
    # __main__.py, which Python compiles anew on every run as `pulumi` runs it.
    entry = cache / str(helper.parent).lstrip("/") / f"{helper.stem}.{sys.implementation.cache_tag}.pyc"
    assert entry.is_file()
    assert int.from_bytes(entry.read_bytes()[4:8], "little") == 0b11  # checked against its source on every import
    assert not list(cache.rglob("__main__*.pyc"))

    second = render_stack(project, "dev", timeout=180)
    outputs = second.resources[0]["outputs"]
    assert outputs["prefix"] == str(cache.resolve()) and outputs["helper"] == "helper"
    assert outputs["write"] == "OSError"  # the cache is outside the program's writable folders: nothing planted
    assert not list(cache.rglob("planted*"))


def test_a_cache_it_cannot_make_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(bytecode.CACHE_ENV, "off")
    assert bytecode.cache_dir() is None
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(bytecode.CACHE_ENV, str(tmp_path / "file" / "cache"))
    assert bytecode.cache_dir() is None


def test_only_existing_python_files_outside_the_cache_are_compiled(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    source, data, cached = tmp_path / "site.py", tmp_path / "data.txt", cache / "in_cache.py"
    for path in (source, data, cached):
        path.write_text("x = 1\n")
    reported = [str(source), str(data), str(cached), "relative.py", str(tmp_path / "missing.py"), 7]
    assert bytecode.to_compile(reported, cache) == [str(source)]
    assert bytecode.to_compile("not a list", cache) == []


def test_a_check_fills_the_cache_beside_its_run_and_waits_for_it_before_exiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fill is started by the command's thread, after the renders' threads ended (a launcher dies with the
    thread that started it), and `main` returns only once it is done: the cache is then stamped for the interpreter."""
    from dpaguard.cli import main

    project, helper, cache = _cached_project(tmp_path, monkeypatch)

    code = main(["check", "--project-dir", str(project), "--stack", "dev", "--no-checkov", "--quiet",
                 "--format", "json", "--output", str(tmp_path / "report.json"), "--fail-on", "never"])
    assert code == 0
    assert (bytecode._queued, bytecode._pending) == ([], [])
    assert bytecode.primed(cache.resolve(), str(project / "venv" / "bin" / "python"))
    entry = cache / str(helper.parent).lstrip("/") / f"{helper.stem}.{sys.implementation.cache_tag}.pyc"
    assert entry.is_file()
