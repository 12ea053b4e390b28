"""A program runs under the interpreter its project names (virtualenv, toolchain pip, poetry or uv), as `pulumi` runs it.

The environments are real virtual environments made by the tests (`python -m venv --without-pip`, a
fraction of a second each). The Pulumi SDK is not installed into them, which would need the network: a
`.pth` line makes this interpreter's site-packages importable in them, the way a `--system-site-packages`
environment sees the base interpreter's. That line adds a folder, not its `.pth` files, so dpaguard itself
(installed there as an editable package, through a `.pth` finder) is not importable in them: the render
must not need it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from support.cli import dpaguard_command

from dpaguard.errors import ProgramError
from dpaguard.source.interpreter import program_interpreter
from dpaguard.source.program import render_stack
from dpaguard.source.project import load_project

pytestmark = pytest.mark.e2e  # renders programs in virtual environments it builds

SITE_PACKAGES = sysconfig.get_paths()["purelib"]
# Where this interpreter finds the SDK: its site-packages, and any other a `.pth` of it layers on (a
# development environment made over another's).
SDK_PATHS = [SITE_PACKAGES] + [p for p in sys.path if p.endswith("site-packages") and p != SITE_PACKAGES]


def make_venv(path: Path, *, with_pulumi: bool = True, modules: dict[str, str] | None = None) -> Path:
    """A real virtual environment at `path`, with the SDK importable (or not) and some modules of its own."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, capture_output=True)
    python = path / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    if with_pulumi:
        Path(site, "sdk-of-the-test-runner.pth").write_text("".join(f"{p}\n" for p in SDK_PATHS))
    for name, text in (modules or {}).items():
        target = Path(site, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    return path


def make_project(root: Path, program: str, *, options: str = "", stacks: tuple[str, ...] = ("dev",)) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    runtime = "runtime: python\n" if not options else f"runtime:\n  name: python\n  options:\n{textwrap.indent(textwrap.dedent(options), '    ')}"
    (root / "Pulumi.yaml").write_text(f"name: venvs\n{runtime}")
    (root / "__main__.py").write_text(textwrap.dedent(program))
    for stack in stacks:
        (root / f"Pulumi.{stack}.yaml").write_text("config:\n  scaleway:region: fr-par\n")
    return root


# A program that needs a module only its own environment holds, and reports which `dpaguard` it sees.
NEEDS_ITS_OWN = """
    import sys
    import pulumi
    import pulumiverse_scaleway as scaleway
    import only_in_this_venv

    scaleway.network.Vpc("vpc", name=only_in_this_venv.NAME)
    pulumi.export("python", sys.executable)
"""


def test_program_renders_with_a_module_only_its_virtualenv_holds(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", NEEDS_ITS_OWN, options="virtualenv: venv\n")
    make_venv(project / "venv", modules={"only_in_this_venv.py": "NAME = 'from-the-venv'\n"})
    deployment = render_stack(project, "dev")
    (vpc,) = [r for r in deployment.resources if r["type"] == "scaleway:network/vpc:Vpc"]
    assert vpc["inputs"]["name"] == "from-the-venv"
    stack = next(r for r in deployment.resources if r["type"] == "pulumi:pulumi:Stack")
    assert stack["outputs"]["python"] == str(project / "venv" / "bin" / "python")
    assert not any("dpaguard's own Python" in n for n in deployment.notices)


def test_neither_dpaguard_nor_the_programs_dpaguard_shadows_the_other(tmp_path: Path) -> None:
    # The program's environment holds a package named dpaguard (an old copy, say) without the runner:
    # `python -m dpaguard.source._runner` would find that one, and the program must get its own.
    program = """
        import dpaguard
        import pulumiverse_scaleway as scaleway

        scaleway.network.Vpc("vpc", name=dpaguard.WHOSE)
    """
    project = make_project(tmp_path / "project", program, options="virtualenv: venv\n")
    make_venv(project / "venv", modules={"dpaguard/__init__.py": "WHOSE = 'the-programs'\n"})
    deployment = render_stack(project, "dev")
    (vpc,) = [r for r in deployment.resources if r["type"] == "scaleway:network/vpc:Vpc"]
    assert vpc["inputs"]["name"] == "the-programs"


def test_virtualenv_without_pulumi_is_one_line_saying_what_to_install_where(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", NEEDS_ITS_OWN, options="virtualenv: venv\n")
    make_venv(project / "venv", with_pulumi=False)
    python = project / "venv" / "bin" / "python"
    with pytest.raises(ProgramError) as caught:
        render_stack(project, "dev")
    line = caught.value.one_line()
    assert f"({python}) cannot import pulumi" in line and f"{python} -m pip install pulumi" in line
    answer = subprocess.run([*dpaguard_command(), "check", "--project-dir", str(project), "--no-checkov"],
                            capture_output=True, text=True, timeout=120)
    assert answer.returncode == 2 and answer.stdout == ""
    assert len(answer.stderr.strip().splitlines()) == 1 and "cannot import pulumi" in answer.stderr


def test_missing_virtualenv_falls_back_to_dpaguards_python_with_a_notice_in_every_report(tmp_path: Path) -> None:
    program = """
        import pulumiverse_scaleway as scaleway
        scaleway.network.Vpc("vpc", name="v")
    """
    project = make_project(tmp_path / "project", program, options="virtualenv: .venv\n")
    (project / "requirements.txt").write_text("pulumi\npulumiverse-scaleway\n")
    answer = subprocess.run(
        [*dpaguard_command(), "check", "--project-dir", str(project), "--no-checkov", "--format", "json", "--output", "-"],
        capture_output=True, text=True, timeout=120,
    )
    assert answer.returncode in (0, 1), answer.stderr
    (notice,) = [n for n in json.loads(answer.stdout)["notices"] if "dpaguard's own Python" in n]
    assert "the virtualenv .venv named by Pulumi.yaml (.venv) does not exist" in notice  # no absolute path in a report
    own = "…/" + "/".join(Path(sys.executable).parts[-3:])  # dpaguard's Python, no absolute path in a report
    assert ".venv/bin/pip install -r requirements.txt" in notice and own in notice


def test_project_without_virtualenv_says_it_ran_under_dpaguards_python(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", "import pulumi\n")
    interpreter = program_interpreter(load_project(project))
    assert interpreter.executable == sys.executable and interpreter.environment is None
    assert interpreter.notice and "names no virtualenv" in interpreter.notice


def test_project_without_virtualenv_runs_under_the_activated_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As `pulumi` runs it: `source venv/bin/activate` (VIRTUAL_ENV), then `pulumi preview`.
    active = make_venv(tmp_path / "active", modules={"only_in_this_venv.py": "NAME = 'activated'\n"})
    project = make_project(tmp_path / "project", NEEDS_ITS_OWN)
    monkeypatch.setenv("VIRTUAL_ENV", str(active))
    deployment = render_stack(project, "dev")
    (vpc,) = [r for r in deployment.resources if r["type"] == "scaleway:network/vpc:Vpc"]
    assert vpc["inputs"]["name"] == "activated"
    (notice,) = deployment.notices
    assert "the program ran under …/active/bin/python, of the activated virtualenv (VIRTUAL_ENV)" in notice


def test_the_virtualenv_of_the_python3_first_on_path_is_the_activated_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    active = make_venv(tmp_path / "active")
    project = make_project(tmp_path / "project", "import pulumi\n")
    monkeypatch.setenv("PATH", os.pathsep.join([str(active / "bin"), os.environ.get("PATH", "")]))
    interpreter = program_interpreter(load_project(project))
    assert interpreter.environment == active and interpreter.notice and "the python3 first on PATH" in interpreter.notice


def test_an_activated_virtualenv_inside_the_project_is_not_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The pull request's tree does not choose the interpreter by shipping a virtualenv where PATH points.
    project = make_project(tmp_path / "project", "import pulumi\n")
    planted = make_venv(project / "planted")
    monkeypatch.setenv("VIRTUAL_ENV", str(planted))
    monkeypatch.setenv("PATH", os.pathsep.join([str(planted / "bin"), "planted/bin", os.environ.get("PATH", "")]))
    interpreter = program_interpreter(load_project(project))
    assert interpreter.executable == sys.executable and interpreter.environment is None


def test_uv_uses_the_venv_beside_its_lock_file(tmp_path: Path) -> None:
    # Pulumi's uv toolchain: no virtualenv option, so `.venv` beside the nearest uv.lock (here the parent folder).
    (tmp_path / "uv.lock").write_text("version = 1\n")
    make_venv(tmp_path / ".venv", modules={"only_in_this_venv.py": "NAME = 'uv-env'\n"})
    project = make_project(tmp_path / "infra", NEEDS_ITS_OWN, options="toolchain: uv\n")
    deployment = render_stack(project, "dev")
    (vpc,) = [r for r in deployment.resources if r["type"] == "scaleway:network/vpc:Vpc"]
    assert vpc["inputs"]["name"] == "uv-env"


def test_uv_without_its_venv_falls_back_and_says_to_sync(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", "import pulumi\n", options="toolchain: uv\n")
    interpreter = program_interpreter(load_project(project))
    assert interpreter.executable == sys.executable
    assert interpreter.notice and "uv sync" in interpreter.notice and str(project / ".venv") in interpreter.notice


def _path_without(tool: str) -> str:
    kept = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not Path(d, tool).exists()]
    return os.pathsep.join(kept)


def test_poetry_absent_uses_the_in_project_venv_poetry_would_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", _path_without("poetry"))
    project = make_project(tmp_path / "project", NEEDS_ITS_OWN, options="toolchain: poetry\n")
    (project / "pyproject.toml").write_text("[tool.poetry]\nname = 'venvs'\n")
    make_venv(project / ".venv", modules={"only_in_this_venv.py": "NAME = 'poetry-in-project'\n"})
    deployment = render_stack(project, "dev")
    (vpc,) = [r for r in deployment.resources if r["type"] == "scaleway:network/vpc:Vpc"]
    assert vpc["inputs"]["name"] == "poetry-in-project"
    (notice,) = [n for n in deployment.notices if "poetry" in n]
    assert "poetry is not installed here: used .venv," in notice


def test_poetry_absent_and_no_venv_falls_back_honestly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", _path_without("poetry"))
    project = make_project(tmp_path / "project", "import pulumi\n", options="toolchain: poetry\n")
    interpreter = program_interpreter(load_project(project))
    assert interpreter.executable == sys.executable
    assert interpreter.notice and "poetry is not installed here" in interpreter.notice


def _poetry_environment(tmp_path: Path) -> Path:
    """A virtualenv where poetry keeps a project's environments, holding a module only it has."""
    return make_venv(tmp_path / "cache" / "venvs-abc123-py3.11", modules={"only_in_this_venv.py": "NAME = 'poetry-env'\n"})


def _poetry_stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """poetry is not installed on this machine: a shell script of `body` first on PATH stands in for it."""
    tools = tmp_path / "tools"
    tools.mkdir()
    poetry = tools / "poetry"
    poetry.write_text("#!/bin/sh\n" + body)
    poetry.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{_path_without('poetry')}")


def _poetry_project(tmp_path: Path) -> Path:
    """A project of toolchain poetry whose program needs the module only poetry's environment has."""
    project = make_project(tmp_path / "project", NEEDS_ITS_OWN, options="toolchain: poetry\n")
    (project / "pyproject.toml").write_text("[tool.poetry]\nname = 'venvs'\n")
    return project


def test_poetry_present_is_asked_for_its_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # poetry is not installed on this machine: a stand-in on PATH answers `poetry env info --path` as poetry does
    # (the environment's path on one line), from the folder holding pyproject.toml.
    environment = _poetry_environment(tmp_path)
    _poetry_stand_in(tmp_path, monkeypatch, f'[ "$*" = "env info --path" ] && [ -f pyproject.toml ] && echo "{environment}" && exit 0\nexit 1\n')
    project = _poetry_project(tmp_path)
    deployment = render_stack(project, "dev")
    (vpc,) = [r for r in deployment.resources if r["type"] == "scaleway:network/vpc:Vpc"]
    assert vpc["inputs"]["name"] == "poetry-env"
    # no fallback to explain: the one notice names the interpreter and what the program ran with
    (notice,) = deployment.notices
    shown = f"…/{environment.name}/bin/python"  # outside the project: its last parts, no absolute path
    assert notice.startswith(f"venvs: the program ran under {shown} (Python ")
    assert deployment.runtime["interpreter"] == shown and deployment.runtime["pulumi"]


def test_poetry_runs_contained_read_only_and_without_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # poetry reads the project's pyproject.toml (poetry 2 installs the plugins it asks for): a stand-in that
    # acts on it as a hostile plugin would tries to write the project and to read a CI secret.
    environment = _poetry_environment(tmp_path)
    _poetry_stand_in(tmp_path, monkeypatch, (
        '[ -n "$CI_CANARY_TOKEN" ] && exit 1\n'  # a secret of dpaguard's environment reached it
        'echo planted > planted 2>/dev/null\n'
        'echo cache > "$HOME/own-cache" || exit 1\n'
        f'echo "{environment}"\n'
    ))
    monkeypatch.setenv("CI_CANARY_TOKEN", "canary-7d1e")
    project = _poetry_project(tmp_path)
    interpreter = program_interpreter(load_project(project))
    assert interpreter.executable.startswith(str(environment))  # it answered, from a writable HOME of its own
    assert not (project / "planted").exists()  # the project is read-only to it


def test_unknown_toolchain_is_refused_in_one_line(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", "import pulumi\n", options="toolchain: conda\n")
    from dpaguard.errors import DpaguardError

    with pytest.raises(DpaguardError, match="toolchain must be one of pip, poetry, uv"):
        render_stack(project, "dev")


def test_a_report_shows_the_interpreter_with_no_absolute_path(tmp_path: Path) -> None:
    from dpaguard.source.interpreter import shown

    root = tmp_path / "estate"
    assert shown(f"p: the program ran under {root}/venv/bin/python (Python 3.11)", root) == \
        "p: the program ran under venv/bin/python (Python 3.11)"
    assert shown("ran under /opt/envs/blog/bin/python, of the activated virtualenv", root) == \
        "ran under …/blog/bin/python, of the activated virtualenv"
    assert shown("dpaguard's own Python (/usr/bin/python3)", root) == "dpaguard's own Python (…/usr/bin/python3)"
    assert shown("see https://example.com/a/b, 3/4", root) == "see https://example.com/a/b, 3/4"
