"""Find checkov and run it as a subprocess over a project's files; parse its JSON into plain results.

checkov lives in an environment of its own (it pins `packaging<24`, pulumi needs `packaging>=26`),
so it is only ever run as a program. Its JSON output carries `code_block` lines holding (partially
masked) secrets: nothing of them is kept. A result is the check id and name, the file, the line and
the framework, and nothing else.

The scanned tree is a pull request's, so nothing in it may choose what runs or how (SECURITY.md):
checkov is found only through DPAGUARD_CHECKOV, PATH or dpaguard's own installation, never in the
project; it runs contained (`dpaguard.contain`), with an allow-listed environment, and with
dpaguard's configuration only: a `.checkov.yaml` of the project (whose `external-checks-dir`
would make checkov import the project's Python) is never read.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from dpaguard import contain
from dpaguard.errors import DpaguardError, UsageError

CHECKOV_ENV = "DPAGUARD_CHECKOV"
TIMEOUT_ENV = "DPAGUARD_CHECKOV_TIMEOUT"
DEFAULT_TIMEOUT = 600.0
VENV_DIR = ".checkov-venv"
# The repository this package was installed from (an editable checkout holds its own .checkov-venv,
# which `.ci/setup` builds and refuses to take from a commit).
_REPO_ROOT = Path(__file__).resolve().parents[2]
# What checkov gets of dpaguard's environment: enough to start Python and read text, nothing that
# can be a credential (CI tokens, BC_API_KEY, cloud keys) nor a CKV_* setting that changes which
# checks run or loads external ones. Everything else checkov reads is set by run_checkov.
CHECKOV_ENV_ALLOWED = frozenset({"PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR"})
CHECKOV_ENV_ALLOWED_PREFIXES = ("LC_",)
# checkov's own configuration, passed with --config-file: empty, so that the command line decides.
_OWN_CONFIG = "{}\n"

# Directories that are never the project's own configuration: environments, caches, VCS data, tests
# (test fixtures hold fake credentials on purpose).
SKIP_DIRS = frozenset({
    ".git", ".hg", ".venv", "venv", ".checkov-venv", "node_modules", "__pycache__", ".mypy_cache",
    ".pytest_cache", ".hypothesis", ".tox", ".nox", ".terraform", "dist", "build", "tests", "test",
})
_BINARY_SUFFIXES = frozenset({
    ".pyc", ".pyo", ".so", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".pdf", ".zip", ".gz", ".tgz",
    ".whl", ".db", ".sqlite", ".bin", ".woff", ".woff2",
})
_MAX_FILE_BYTES = 2 * 1024 * 1024


class CheckovError(DpaguardError):
    """checkov could not be found or did not give a usable answer."""


@dataclass(frozen=True)
class CheckovResult:
    """One failed checkov check: which check, on which file and line. Never the offending text."""

    check_id: str
    check_name: str
    framework: str
    path: str  # relative to the project directory, POSIX
    line: int
    resource: str = ""  # the workflow step or Dockerfile instruction; empty for secrets


@dataclass(frozen=True)
class CheckovRun:
    """What one checkov run reported: failed checks, counts and the version that ran."""

    results: tuple[CheckovResult, ...]
    version: str
    suppressed: int
    parsing_errors: int


def find_checkov(project_dir: Path | None = None) -> Path | None:
    """checkov from DPAGUARD_CHECKOV, else PATH, else dpaguard's own installation's `.checkov-venv`; None if absent.

    Never from the scanned project nor the working directory: a `.checkov-venv/bin/checkov` a pull
    request commits is not checkov. A relative PATH entry (`.`, `bin`, an empty one) names a folder
    of the working directory, so PATH is searched through its absolute entries only, and a checkov
    on PATH that lies in `project_dir` (a `node_modules/.bin` of the checkout on PATH) is passed over.
    """
    configured = os.environ.get(CHECKOV_ENV)
    if configured:
        # absolute: checkov runs from a folder of dpaguard's, not from here
        path = Path(configured).expanduser().absolute()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise UsageError(f"{CHECKOV_ENV}={configured}: not an executable file")
        return path
    for entry in _absolute_path_entries(os.environ.get("PATH", "")).split(os.pathsep):
        on_path = shutil.which("checkov", path=entry) if entry else None
        if on_path and not (project_dir is not None and _inside(Path(on_path), project_dir)):
            return Path(on_path)
    candidate = _REPO_ROOT / VENV_DIR / "bin" / "checkov"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    return None


def _inside(path: Path, folder: Path) -> bool:
    """Whether `path` (or what it links to) is in `folder`."""
    try:
        root = folder.resolve()
        return any(candidate == root or root in candidate.parents for candidate in (path.absolute(), path.resolve()))
    except (OSError, RuntimeError):
        return True


def _absolute_path_entries(path: str) -> str:
    return os.pathsep.join(entry for entry in path.split(os.pathsep) if os.path.isabs(entry))


def _walk(directory: Path) -> Iterator[Path]:
    for current, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            yield Path(current) / name


def _scannable(path: Path) -> bool:
    if path.suffix.lower() in _BINARY_SUFFIXES:
        return False
    try:
        return path.is_file() and 0 < path.stat().st_size <= _MAX_FILE_BYTES
    except OSError:
        return False


def _is_dockerfile(name: str) -> bool:
    lower = name.lower()
    return lower in ("dockerfile", "containerfile") or lower.startswith("dockerfile.") or lower.endswith(".dockerfile")


def scan_targets(project_dir: Path, main_dir: Path, stack_config_dir: Path, policies_dir: Path | None) -> list[Path]:
    """The files checkov reads: project file, program, stack configs, policies, CI workflows, Dockerfiles."""
    found: dict[Path, None] = {}

    def add(paths: Iterable[Path]) -> None:
        for path in paths:
            if _scannable(path):
                found.setdefault(path.resolve(), None)

    add(project_dir / name for name in ("Pulumi.yaml", "Pulumi.yml"))
    if main_dir.resolve() == project_dir.resolve():
        # A program at the project root: its own files and Python packages, not every folder beside it.
        add(p for p in sorted(main_dir.iterdir()) if p.is_file())
        for folder in sorted(p for p in main_dir.iterdir() if p.is_dir() and p.name not in SKIP_DIRS):
            # A package, or a namespace package (Python modules without __init__.py), the program imports.
            if (folder / "__init__.py").is_file() or any(f.suffix == ".py" for f in _walk(folder)):
                add(_walk(folder))
    elif main_dir.is_dir():
        add(_walk(main_dir))
    elif main_dir.is_file():
        add([main_dir])
    if stack_config_dir.is_dir():
        add(sorted(stack_config_dir.glob("Pulumi.*.y*ml")))
    # The project's own policies only: the set dpaguard ships is dpaguard's, not the project's to scan.
    if policies_dir is not None and policies_dir.is_dir() and policies_dir.resolve().is_relative_to(project_dir.resolve()):
        add(_walk(policies_dir))
    workflows = project_dir / ".github" / "workflows"
    if workflows.is_dir():
        add(sorted(p for p in workflows.iterdir() if p.suffix in (".yml", ".yaml")))
    add(p for p in _walk(project_dir) if _is_dockerfile(p.name))
    return list(found)


def frameworks_for(files: Sequence[Path]) -> list[str]:
    """`secrets` always; `github_actions` and `dockerfile` when such files are among the targets."""
    frameworks = ["secrets"]
    if any(".github/workflows/" in p.as_posix() for p in files):
        frameworks.append("github_actions")
    if any(_is_dockerfile(p.name) for p in files):
        frameworks.append("dockerfile")
    return frameworks


def _documents(text: str) -> Iterator[Any]:
    """checkov prints one JSON value, or several one after another when it scans several roots."""
    decoder = json.JSONDecoder()
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return
        value, index = decoder.raw_decode(text, index)
        yield value


def _relative(result: dict[str, Any], project_dir: Path) -> str:
    raw = result.get("file_abs_path") or result.get("file_path") or ""
    path = Path(str(raw))
    if not path.is_absolute():
        path = project_dir / str(raw).lstrip("/")
    try:
        return path.resolve().relative_to(project_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def parse_output(text: str, project_dir: Path) -> CheckovRun:
    """checkov's `-o json` output -> failed checks (code blocks dropped), suppressed and parse-error counts.

    CheckovError when the output is not JSON, holds no report at all (nothing says what was
    checked), or has a shape checkov does not write.
    """
    try:
        documents = list(_documents(text))
    except (ValueError, RecursionError):
        raise CheckovError("checkov printed something that is not JSON (was `-o json` overridden by a config file?)") from None
    try:
        return _parse_documents(documents, project_dir)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError, RecursionError):
        raise CheckovError("checkov's JSON report does not have the shape checkov writes") from None


def _parse_documents(documents: Sequence[Any], project_dir: Path) -> CheckovRun:
    results: dict[tuple[str, str, int], CheckovResult] = {}
    suppressed: set[tuple[str, str, int]] = set()
    version = ""
    parsing_errors = 0
    reports = 0
    for document in documents:
        for report in document if isinstance(document, list) else [document]:
            if not isinstance(report, dict):
                continue
            summary = report.get("summary") if "summary" in report else report
            if isinstance(summary, dict):
                version = str(summary.get("checkov_version") or version)
                parsing_errors = max(parsing_errors, int(summary.get("parsing_errors") or 0))
                reports += "checkov_version" in summary or "passed" in summary or "failed" in summary
            framework = str(report.get("check_type") or "")
            block = report.get("results")
            if not isinstance(block, dict):
                continue
            reports += "summary" not in report
            for raw in block.get("failed_checks") or ():
                line_range = raw.get("file_line_range") or [1, 1]
                line = max(int(line_range[0] or 1), 1)
                path = _relative(raw, project_dir)
                check_id = str(raw.get("check_id") or "")
                resource = "" if framework == "secrets" else str(raw.get("resource") or "")
                results.setdefault((check_id, path, line), CheckovResult(
                    check_id=check_id,
                    check_name=str(raw.get("check_name") or ""),
                    framework=framework,
                    path=path,
                    line=line,
                    resource=resource,
                ))
            for raw in block.get("skipped_checks") or ():
                line_range = raw.get("file_line_range") or [1, 1]
                suppressed.add((str(raw.get("check_id")), _relative(raw, project_dir), int(line_range[0] or 1)))
    if not reports:
        raise CheckovError("checkov wrote no report (nothing says what it checked)")
    if not version:
        # checkov's summary always names its version: a report without one is not checkov's
        raise CheckovError("checkov's report names no checkov version (is it checkov that ran?)")
    ordered = sorted(results.values(), key=lambda r: (r.path, r.line, r.check_id))
    return CheckovRun(results=tuple(ordered), version=version, suppressed=len(suppressed), parsing_errors=parsing_errors)


def checkov_command(checkov: Path, files: Sequence[Path], config_file: Path, skip_checks: Sequence[str]) -> list[str]:
    """The command line: the files (absolute), dpaguard's config file, the matching frameworks, JSON output,
    no network, `--skip-check` passed through."""
    command = [str(checkov)]
    for path in files:
        command += ["-f", str(Path(path).resolve())]
    # checkov reads `.checkov.yaml` from its working directory and HOME as well (both dpaguard's own,
    # empty, folders); with --config-file, ours is the only one that has anything to say.
    command += ["--config-file", str(config_file)]
    command += ["--framework", *frameworks_for(files)]
    # Secrets hide in any file type of a Pulumi program (.py, .ts, .go, .yaml), not only IaC files.
    command += ["--enable-secret-scan-all-files", "--skip-download", "-o", "json", "--quiet"]
    checks = [c.strip() for check in skip_checks for c in check.split(",") if c.strip()]
    if checks:
        command += ["--skip-check", ",".join(checks)]
    return command


def _error_kind(stderr: str) -> str:
    """The exception class of checkov's last traceback line, never the line itself (it may quote a file)."""
    for line in reversed(stderr.strip().splitlines()):
        head = line.split(":", 1)[0].strip()
        if head and head.replace(".", "").replace("_", "").isalnum() and head.endswith(("Error", "Exception")):
            return f" ({head.rsplit('.', 1)[-1]})"
    return ""


def checkov_env(home: Path) -> dict[str, str]:
    """checkov's environment: CHECKOV_ENV_ALLOWED of ours (PATH through its absolute entries), `home` as HOME, quiet logs."""
    env = {k: v for k, v in os.environ.items() if k in CHECKOV_ENV_ALLOWED or k.startswith(CHECKOV_ENV_ALLOWED_PREFIXES)}
    env["PATH"] = _absolute_path_entries(env.get("PATH", "")) or os.defpath
    env.update(HOME=str(home), LOG_LEVEL="ERROR", BC_SKIP_MAPPING="TRUE", PYTHONWARNINGS="ignore", PYTHONNOUSERSITE="1",
               PYTHONDONTWRITEBYTECODE="1")
    return env


def run_checkov(checkov: Path, files: Sequence[Path], project_dir: Path, skip_checks: Sequence[str] = ()) -> CheckovRun:
    """Run checkov on `files`; exit code 1 is failed checks, anything else but 0 is a CheckovError.

    checkov runs contained, from an empty folder of dpaguard's (its working directory and HOME, so no
    `.checkov.yaml` of the project or the user is found), with dpaguard's own config file and
    `checkov_env`.
    """
    project_dir = project_dir.resolve()
    raw_timeout = os.environ.get(TIMEOUT_ENV)
    try:
        timeout = float(raw_timeout) if raw_timeout else DEFAULT_TIMEOUT
    except ValueError:
        timeout = math.nan
    if not contain.is_time_limit(timeout):
        raise UsageError(f"{TIMEOUT_ENV}={raw_timeout!r} is not a positive, finite number of seconds") from None
    with tempfile.TemporaryDirectory(prefix="dpaguard-checkov-") as work:
        home = Path(work) / "home"
        home.mkdir()
        config_file = Path(work) / "dpaguard-checkov.yaml"
        config_file.write_text(_OWN_CONFIG, encoding="utf-8")
        command = checkov_command(checkov, files, config_file, skip_checks)
        # Our own environment and memory are closed to what we start (see dpaguard.contain).
        contain.harden_self()
        try:
            # contained: its own PID namespace where the kernel allows; on timeout (or SIGINT/SIGTERM
            # to dpaguard) checkov's worker processes die with it
            completed = contain.run(
                command, cwd=home, env=checkov_env(home), capture_output=True, timeout=timeout, check=False,
                stdin=subprocess.DEVNULL, isolate=True,
            )
        except subprocess.TimeoutExpired:
            raise CheckovError(f"checkov did not finish within {timeout:g} s", hint=f"raise it with {TIMEOUT_ENV}") from None
        except OSError as error:
            raise CheckovError(f"{checkov}: cannot run checkov: {error.strerror or error}") from None
    stderr = completed.stderr.decode("utf-8", errors="replace")
    if completed.returncode not in (0, 1):
        raise CheckovError(
            f"checkov failed with exit code {completed.returncode}{_error_kind(stderr)}",
            hint=f"run `{checkov} -f <file> --framework secrets` to see its log",
        )
    try:
        stdout = completed.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckovError("checkov printed something that is not UTF-8 text") from None
    run = parse_output(stdout, project_dir)
    if completed.returncode == 1 and not run.results:
        # checkov exits 1 for failed checks only: a 1 with none reported means a report went missing
        raise CheckovError("checkov exited 1 but reported no failed check")
    return run
