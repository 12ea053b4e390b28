"""The Python interpreter a Pulumi project runs its program with, found as `pulumi` finds it.

`Pulumi.yaml`'s `runtime.options` name it (pulumi/sdk/python/toolchain: pip.go, poetry.go, uv.go):

- `toolchain: pip` (the default) with `virtualenv: DIR`: DIR, relative to the project directory;
  without `virtualenv`, `pulumi` runs whatever `python3` is on its PATH;
- `toolchain: poetry`: the environment `poetry env info --path` names, asked in the directory of
  the nearest `pyproject.toml`; where `poetry` is not installed, the in-project `.venv` beside that
  file, which poetry itself uses when it exists;
- `toolchain: uv`: `virtualenv` when set, else `.venv` beside the nearest `uv.lock`, else beside the
  nearest `pyproject.toml`, else in the project directory (uv itself is not needed to find it).

Where the project names no environment, the activated one runs it (`VIRTUAL_ENV`, else the virtualenv
of the `python3` first on PATH), as `pulumi` would, and every report names it. Where there is none,
or the project names one that does not exist here, the program runs under dpaguard's own
interpreter and the answer says why (a notice in every report): its imports then resolve against
dpaguard's packages, which may not be the ones the program was written for.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dpaguard import contain
from dpaguard.source.interface import SourceError
from dpaguard.source.project import Project

TOOLCHAINS = ("pip", "poetry", "uv")
# How long `poetry env info --path` may take (it reads pyproject.toml and poetry's own config only).
POETRY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Interpreter:
    """The executable to run the program with, and, when it is dpaguard's own, the notice saying why."""

    executable: str
    environment: Path | None  # the virtual environment it belongs to (None: dpaguard's own interpreter)
    notice: str | None = None


_ABSOLUTE = re.compile(r"(?<![\w.~:/])/[^\s(),;:'\"]+")


def shown(text: str, root: Path) -> str:
    """`text` with no absolute path in it, as a report may print it: a path inside the project relative
    to it (`venv/bin/python`), any other by its last three parts (`…/.venv/bin/python`), so that no
    report names the machine it ran on (issue 22 §3) and it still says which interpreter ran."""
    base = str(root.resolve())

    def one(match: re.Match[str]) -> str:
        path = match.group(0)
        if path == base or path.startswith(base + "/"):
            return path[len(base) + 1:] or "."
        parts = PurePosixPath(path).parts[1:]
        return "…/" + "/".join(parts[-3:]) if parts else path

    return _ABSOLUTE.sub(one, text)


def _python_of(environment: Path) -> Path | None:
    for name in ("python", "python3"):
        candidate = environment / "bin" / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _search_up(start: Path, name: str) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / name).is_file():
            return directory
    return None


def _own(project: Project, why: str) -> Interpreter:
    return Interpreter(
        sys.executable, None,
        f"{project.name}: {why}; the program ran under dpaguard's own Python ({sys.executable}), "
        "so its imports resolved against dpaguard's packages",
    )


def _environment(project: Project, environment: Path, named: str, how: str, fix: str) -> Interpreter:
    python = _python_of(environment)
    if python is None:
        what = "does not exist" if not environment.exists() else "holds no bin/python"
        return _own(project, f"the virtualenv {named} {how} ({environment}) {what} ({fix})")
    # Not resolved: a venv's bin/python is a symlink to the base interpreter, and only its own path makes it the venv's.
    return Interpreter(str(python), environment)


def _poetry_environment(project: Project) -> Interpreter:
    directory = _search_up(project.root, "pyproject.toml") or project.root
    poetry = shutil.which("poetry")
    if poetry is None:
        in_project = directory / ".venv"
        python = _python_of(in_project)
        if python is not None:
            return Interpreter(
                str(python), in_project,
                f"{project.name}: toolchain poetry, but poetry is not installed here: used {in_project}, "
                "the in-project environment poetry itself uses when it exists",
            )
        return _own(project, "toolchain poetry, but poetry is not installed here and there is no in-project .venv "
                             f"beside {directory / 'pyproject.toml'}")
    try:
        # poetry reads the pull request's pyproject.toml (poetry 2 may install the plugins it asks for):
        # contained like the program, an allow-listed environment, a read-only view but for a scratch HOME.
        with tempfile.TemporaryDirectory(prefix="dpaguard-poetry-") as home:
            answer = contain.run(
                [poetry, "env", "info", "--path"], cwd=directory, env={**contain.clean_env(), "HOME": home},
                timeout=POETRY_TIMEOUT_S, text=True, required=True, scratch=[home],
            )
    except (OSError, subprocess.SubprocessError):
        return _own(project, "toolchain poetry, but `poetry env info --path` could not run")
    path = answer.stdout.strip().splitlines()[-1].strip() if answer.stdout.strip() else ""
    if answer.returncode != 0 or not path:
        return _own(project, f"toolchain poetry, but `poetry env info --path` in {directory} names no environment "
                             "(run `poetry install`)")
    return _environment(project, Path(path), path, "named by poetry", "run `poetry install`")


def _uv_environment(project: Project, virtualenv: str | None) -> Interpreter:
    if virtualenv:
        path = Path(virtualenv) if os.path.isabs(virtualenv) else project.root / virtualenv
        return _environment(project, path, virtualenv, f"named by {project.file.name} (toolchain uv)", "run `uv sync`")
    directory = _search_up(project.root, "uv.lock") or _search_up(project.root, "pyproject.toml") or project.root
    return _environment(project, directory / ".venv", ".venv", "of toolchain uv", "run `uv sync`")


def program_interpreter(project: Project) -> Interpreter:
    """The interpreter `pulumi` would run the project's program with; dpaguard's own, with a notice, where there is none."""
    options = project.runtime_options
    toolchain = options.get("toolchain", "pip")
    virtualenv = options.get("virtualenv")
    if not isinstance(toolchain, str) or toolchain not in TOOLCHAINS:
        raise SourceError(f"{project.file}: runtime option toolchain must be one of {', '.join(TOOLCHAINS)} ({toolchain!r})")
    if virtualenv is not None and (not isinstance(virtualenv, str) or not virtualenv.strip()):
        raise SourceError(f"{project.file}: runtime option virtualenv must be a path")
    if toolchain == "poetry":
        return _poetry_environment(project)
    if toolchain == "uv":
        return _uv_environment(project, virtualenv)
    if virtualenv:
        path = Path(virtualenv) if os.path.isabs(virtualenv) else project.root / virtualenv
        install = (f"{virtualenv}/bin/pip install -r requirements.txt" if (project.root / "requirements.txt").is_file()
                   else "install the program's dependencies into it")
        return _environment(project, path, virtualenv, f"named by {project.file.name}",
                            f"python -m venv {virtualenv}, then {install}")
    return _activated(project) or _own(project, "Pulumi.yaml names no virtualenv (runtime.options.virtualenv) and no virtualenv is activated")


def _activated(project: Project) -> Interpreter | None:
    """The virtualenv activated where dpaguard runs, which `pulumi` would run a program naming none under.

    `VIRTUAL_ENV` (what `activate` sets), else the virtualenv of the `python3` first on PATH. An entry
    that is relative or inside the project is skipped: a pull request's tree does not choose it. A
    `python3` on PATH outside any virtualenv (the system's) is not taken: it rarely holds a program's
    packages, so dpaguard's own Python, with its notice, is the likelier match.
    """
    candidates: list[tuple[Path, str]] = []
    activated = os.environ.get("VIRTUAL_ENV", "")
    if activated:
        candidates.append((Path(activated), "VIRTUAL_ENV"))
    trusted = [entry for entry in os.environ.get("PATH", "").split(os.pathsep) if os.path.isabs(entry) and not _inside(Path(entry), project.root)]
    found = shutil.which("python3", path=os.pathsep.join(trusted)) if trusted else None
    if found and (Path(found).parent.parent / "pyvenv.cfg").is_file():
        candidates.append((Path(found).parent.parent, "the python3 first on PATH"))
    for environment, how in candidates:
        python = _python_of(environment) if environment.is_absolute() and not _inside(environment, project.root) else None
        if python is not None:
            return Interpreter(
                str(python), environment,
                f"{project.name}: Pulumi.yaml names no virtualenv: the program ran under {python}, of the activated "
                f"virtualenv ({how}), as pulumi runs it",
            )
    return None


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True
