"""What `check` and `audit` share: the common options, the format/output pairing, writing the reports.

Pairing rule: the n-th `--output` goes with the n-th `--format`. A format without an output (or
with `--output -`) goes to stdout; only one format may go to stdout. With no `--format`, each
`--output` takes the format its extension names (.json, .sarif, .xml, .md, .html, else text),
and with neither, text goes to stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import stat
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Sequence

from dpaguard.contain import MAX_SECONDS, is_time_limit
from dpaguard.cli._console import WRITE_CHARACTERS, printable, say, silence_stdout, write_stdout
from dpaguard.engine import ENGINES, OPA_URL_FORM, is_opa_url
from dpaguard.model import ENVIRONMENTS
from dpaguard.errors import OutputError, UsageError
from dpaguard.model import Result
from dpaguard.dpa_text import dpa_document_sha256
from dpaguard.gitstate import git_commit, git_worktree
from dpaguard.pipeline import CHECKOV_TASK, RunOptions, default_policies_dir
from dpaguard.provenance import utc_today
from dpaguard.report import EXTENSIONS, FORMATS, LANGUAGES, render

if TYPE_CHECKING:
    from dpaguard.policy import Policy

STDOUT = "-"


@dataclass(frozen=True)
class Output:
    """One report to produce: a format and where it goes (`-` for stdout)."""

    format: str
    target: str

    @property
    def to_stdout(self) -> bool:
        """Whether the report goes to stdout."""
        return self.target == STDOUT


def seconds(text: str) -> float:
    """A time limit flag: a positive, finite number of seconds (not nan, inf or 1e309), at most MAX_SECONDS."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not is_time_limit(value):
        raise argparse.ArgumentTypeError(f"must be a positive, finite number of seconds (at most {MAX_SECONDS:.0f}): {text!r}")
    return value


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


EPILOG = """\
reports: the n-th --output goes with the n-th --format; a format without an --output (or with
'-') goes to stdout, and only one may. Example:
  --format text --format sarif --output - --output dpaguard.sarif
With no --format, each --output takes the format of its extension (.json .sarif .xml .md .html).

exit codes: 0 nothing unwaived at or above --fail-on; 1 something is; 2 usage error, bad input,
policy or engine failure (one line on stderr)."""


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every evaluating subcommand takes (formats, outputs, engine, exit policy, evidence)."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    group = parser.add_argument_group("reports")
    group.add_argument("--format", "-f", action="append", choices=FORMATS, default=[], metavar="FORMAT",
                       help=f"report format, repeatable: {', '.join(FORMATS)} (default: text)")
    group.add_argument("--output", "-o", action="append", default=[], metavar="FILE",
                       help="where the report of the same position in --format goes; '-' or none: stdout")
    group.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                       help="colour text on stdout: auto (a terminal, unless NO_COLOR is set), always, never")
    group.add_argument("--quiet", "-q", action="store_true", help="no progress or notices on stderr")
    group.add_argument("--lang", choices=LANGUAGES, default="en",
                       help="language of the text, html and markdown reports: en (default) or fr (clauses as the French DPA numbers them)")
    evaluation = parser.add_argument_group("evaluation")
    evaluation.add_argument("--policies", type=Path, metavar="DIR",
                            help="policy set (default: <project-dir>/policies, else the policies shipped with dpaguard)")
    evaluation.add_argument("--engine", choices=ENGINES, default=None,
                            help="the in-process engine: opa (the real OPA, default) or regopy (rego-cpp); "
                                 "by default opa, falling back to regopy with a notice where OPA cannot load")
    evaluation.add_argument("--opa-url", metavar="URL",
                            help="evaluate with an OPA server at URL instead of an in-process engine")
    evaluation.add_argument("--opa-timeout", type=seconds, default=10.0, metavar="S",
                            help="time limit of each OPA query, in seconds (default: 10)")
    evaluation.add_argument("--environment", choices=ENVIRONMENTS,
                            help="evaluate every stack as this environment (default: each stack's dpaguard:environment)")
    evaluation.add_argument("--today", type=_date, metavar="YYYY-MM-DD",
                            help="the date waivers expire against (default: today, UTC); for reproducible runs")
    evaluation.add_argument("--fail-on", choices=("mandatory", "advisory", "never"), default="mandatory",
                            help="exit 1 when an unwaived finding at or above this level remains (default: mandatory)")
    evaluation.add_argument("--evidence", type=Path, metavar="FILE",
                            help="append this run to an evidence log (JSON lines, hash-chained)")
    evaluation.add_argument("--baseline", type=Path, metavar="FILE",
                            help="an earlier JSON report: every report shows what changed since (findings, waivers, "
                                 "ledger, catalogue); a stack with controls that passed then and fail now, and each "
                                 "control removed or downgraded since, is a DPA-RAT-001 finding (Article 5.1)")


def plan_outputs(formats: Sequence[str], outputs: Sequence[str]) -> list[Output]:
    """Pair formats with outputs (see the module docstring); UsageError when they cannot be paired."""
    if not formats:
        if not outputs:
            return [Output("text", STDOUT)]
        formats = [EXTENSIONS.get(Path(o).suffix.lower(), "text") if o != STDOUT else "text" for o in outputs]
    if len(outputs) > len(formats):
        raise UsageError(f"{len(outputs)} --output for {len(formats)} --format: each --output pairs with the "
                         "--format at the same position")
    plan = [Output(fmt, outputs[i] if i < len(outputs) else STDOUT) for i, fmt in enumerate(formats)]
    on_stdout = [o.format for o in plan if o.to_stdout]
    if len(on_stdout) > 1:
        raise UsageError(f"formats {' and '.join(on_stdout)} would both go to stdout: give all but one an --output FILE")
    targets = [o.target for o in plan if not o.to_stdout]
    for target in targets:
        if targets.count(target) > 1:
            raise UsageError(f"{target}: named by more than one --output")
    for output in plan:
        if not output.to_stdout:
            check_writable(Path(output.target))
    return plan


def _identity(path: Path) -> tuple[object, ...]:
    """What makes two names one file: the device and inode when it exists, else its resolved path."""
    real = os.path.realpath(path)
    try:
        info = os.stat(real)
    except OSError:
        return ("path", real)
    return ("inode", info.st_dev, info.st_ino)


def check_distinct(writes: Sequence[tuple[str, Path]], reads: Sequence[tuple[str, Path]] = ()) -> None:
    """UsageError when two files the run writes, or a file it writes and one it reads, are one file.

    Names are compared after resolving `..` and symlinks, and by inode when the file exists (a hard
    link): `--output X --evidence X` would otherwise rename the report over the evidence log.
    """
    seen: list[tuple[tuple[object, ...], str, Path]] = []
    for flag, path in writes:
        identity = _identity(path)
        for other_identity, other_flag, other in seen:
            if identity == other_identity:
                raise UsageError(f"{flag} {path} and {other_flag} {other} are the same file: "
                                 "each file a run writes must be a file of its own")
        seen.append((identity, flag, path))
    for read_flag, read in reads:
        identity = _identity(read)
        for other_identity, flag, path in seen:
            if identity == other_identity:
                raise UsageError(f"{flag} {path} is the same file as {read_flag} {read}: a run never writes over its input")


def _inside(path: Path, folder: Path) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(folder)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def check_outside(flag: str, path: Path, folder: Path, what: str) -> None:
    """UsageError when `path` is in `folder` (a file the run reads from), by name after symlinks or as a hard link of one of its files."""
    if not folder.is_dir():
        return
    if _inside(path, folder):
        raise UsageError(f"{flag} {path} is inside {what} {folder}: a run never writes over its input")
    if os.path.exists(path):
        identity = _identity(path)
        for current, _, names in os.walk(folder):
            for name in names:
                if _identity(Path(current, name)) == identity:
                    raise UsageError(f"{flag} {path} is the same file as {Path(current, name)} of {what} {folder}: "
                                     "a run never writes over its input")


def check_not_project_input(flag: str, path: Path, project_dir: Path) -> None:
    """UsageError when `path` is a file a render reads: the project file, a stack's config, the program's Python source."""
    from dpaguard.errors import InputError
    from dpaguard.source.project import load_project

    try:
        project = load_project(project_dir)
    except InputError:
        return  # the render itself says what is wrong with the project
    reads = [("project file", project.file)] + [("stack config", project.stack_file(s)) for s in project.stacks]
    if project.program is not None:
        reads.append(("program", project.program))
    check_distinct([(flag, path)], reads)
    if os.path.isfile(path) and os.path.realpath(path).endswith(".py") and _inside(path, project.main_dir):
        raise UsageError(f"{flag} {path} is a source file of the program in {project.main_dir}: a run never writes over its input")


def written_files(plan: Sequence[Output], evidence: Path | None) -> list[tuple[str, Path]]:
    """The files a run of `check` or `audit` writes, with the flag that names each."""
    writes = [("--output", Path(o.target)) for o in plan if not o.to_stdout]
    if evidence is not None:
        writes.append(("--evidence", evidence))
    return writes


def check_writable(path: Path, what: str = "the report") -> None:
    """Fail before the run, not after it, when a report cannot be written where asked."""
    if path.is_dir():
        raise OutputError(f"{path}: is a directory, cannot write {what} there")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise OutputError(f"{path}: cannot write {what}: permission denied")
        return
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{path}: cannot write {what}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: cannot write {what}: folder {parent} is not writable")


def _write_utf8(stream: IO[bytes], text: str | bytes) -> None:
    """Write text in UTF-8, a slice at a time (a text that cannot be encoded fails part-way: into a temporary file only)."""
    if isinstance(text, bytes):
        stream.write(text)
        return
    for start in range(0, len(text), WRITE_CHARACTERS):
        stream.write(text[start:start + WRITE_CHARACTERS].encode("utf-8"))


def write_report(path: Path, text: str | bytes, what: str = "the report") -> None:
    """Write a report atomically (a temporary file renamed over it); pipes and devices are written in place."""
    try:
        if path.exists() and not stat.S_ISREG(path.stat().st_mode):
            payload = text.encode("utf-8") if isinstance(text, str) else text  # whole: nothing is written unless all can be
            with open(path, "wb") as stream:
                stream.write(payload)
            return
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as stream:
                _write_utf8(stream, text)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
    except OSError as error:
        raise OutputError(f"{path}: cannot write {what}: {error.strerror or error}") from None


def write_document(path: Path | None, text: str | bytes, what: str) -> None:
    """Write a document to stdout (no path) or atomically to a file, as `render` and `export` do."""
    if path is None:
        if isinstance(text, bytes):
            try:
                sys.stdout.flush()
                sys.stdout.buffer.write(text)
                sys.stdout.buffer.flush()
            except BrokenPipeError:
                silence_stdout()
        else:
            write_stdout(text)
        return
    write_report(path, text, what)


def policies_folder(policies: Path | None) -> Path:
    """The folder of `--policies DIR` (default: ./policies, else the shipped one)."""
    return policies if policies is not None else default_policies_dir(Path("."))


def load_policies(policies: Path | None) -> Policy:
    """The policy set of `--policies DIR` (default: ./policies, else the shipped one), as `controls` reads it."""
    folder = policies_folder(policies)
    if not folder.is_dir():
        raise UsageError(f"{folder}: policies folder not found (--policies DIR)")
    from dpaguard.pipeline import load_policy

    return load_policy(folder)


def use_color(choice: str, stream: IO[str]) -> bool:
    """Colour when asked, or on a terminal that did not set NO_COLOR (https://no-color.org) or TERM=dumb."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def run_options(args: argparse.Namespace, project_dir: Path) -> RunOptions:
    """The run's options from the common options."""
    if args.opa_url is not None:
        check_opa_url(args.opa_url)
    if args.opa_url is not None and args.engine is not None:
        raise UsageError("--engine and --opa-url exclude each other (--opa-url evaluates on the server)")
    policies = args.policies if args.policies is not None else default_policies_dir(project_dir)
    if not policies.is_dir():
        raise UsageError(f"{policies}: policies folder not found (--policies DIR)")
    baseline = None
    if getattr(args, "baseline", None) is not None:
        from dpaguard.ratchet import load_baseline

        baseline = load_baseline(args.baseline)
    dirty, diff_sha256 = git_worktree(project_dir)
    return RunOptions(
        policies_dir=policies,
        engine=args.engine,
        opa_url=args.opa_url,
        opa_timeout=args.opa_timeout,
        today=args.today or utc_today(),
        environment_override=args.environment,
        git_commit=git_commit(project_dir),
        git_dirty=dirty,
        git_diff_sha256=diff_sha256,
        baseline=baseline,
        dpa_sha256=dpa_document_sha256(project_dir),
    )


def check_opa_url(url: str) -> None:
    """UsageError unless `url` is an http(s)://host[:port] URL; the message never repeats it (it may hold a password)."""
    if not is_opa_url(url):
        raise UsageError(f"--opa-url must be {OPA_URL_FORM}")


def emit(result: Result, plan: Sequence[Output], args: argparse.Namespace) -> int:
    """Write every report, print notices, append the evidence, and return the run's exit code.

    The code is the result's, decided before anything is written: a stdout whose reader left early
    does not change it.
    """
    code = result.exit_code(args.fail_on)
    real_today = utc_today()
    if args.today is not None and args.today != real_today:
        # Shown even with --quiet: a date in the past revives expired waivers (the date is also
        # recorded in the JSON report and the evidence log).
        say(f"note: waivers judged as of --today {args.today.isoformat()}, not the UTC date {real_today.isoformat()}")
    text_on_stdout = any(o.to_stdout and o.format == "text" for o in plan)
    if result.notices and not args.quiet and not text_on_stdout:
        for notice in result.notices:
            say(f"note: {notice}")
    for output in plan:
        if output.to_stdout:
            continue
        write_report(Path(output.target), render(output.format, result, lang=args.lang))
    if args.evidence is not None:
        from dpaguard.evidence import append

        append(args.evidence, result)
    for output in plan:
        if output.to_stdout:
            write_stdout(render(output.format, result, color=use_color(args.color, sys.stdout), lang=args.lang))
    return code


class ProgressLine:
    """Render progress on stderr: one live line on a terminal, a plain line per stack otherwise.

    Shown only while several stacks render; the checkov scan alongside is shown as one more task.
    """

    def __init__(self, stacks: Sequence[str], *, enabled: bool, stream: IO[str] | None = None,
                 checkov: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled and len(stacks) > 1
        self.live = self.enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self.state = {stack: "waiting" for stack in stacks}
        if checkov:
            self.state[CHECKOV_TASK] = "waiting"
        self.lock = threading.Lock()

    def __call__(self, stack: str, event: str, detail: str) -> None:
        if not self.enabled:
            return
        with self.lock:
            running = "scanning" if stack == CHECKOV_TASK else "rendering"
            self.state[stack] = {"start": running, "done": "done", "failed": "failed"}.get(event, event)
            if self.live:
                stacks = [name for name in self.state if name != CHECKOV_TASK]
                done = sum(1 for name in stacks if self.state[name] in ("done", "failed"))
                parts = " ".join(f"{name}:{status}" for name, status in self.state.items())
                text = f"\r\033[2Kdpaguard: rendering {done}/{len(stacks)} stacks  {printable(parts)}"
                if all(status in ("done", "failed") for status in self.state.values()):
                    text += "\r\033[2K"
                self._write(text)
            elif event != "start":
                suffix = f" ({detail})" if detail else ""
                if stack == CHECKOV_TASK:
                    what = "checkov scan finished" if event == "done" else "checkov scan failed"
                else:
                    what = f"{'rendered' if event == 'done' else 'failed to render'} stack {stack}"
                self._write(f"dpaguard: {printable(what + suffix)}\n")

    def _write(self, text: str) -> None:
        """Progress is best effort: a closed or broken stderr must not stop the run."""
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError, AttributeError):
            pass

    def clear(self) -> None:
        """Erase the live line (after an error, before the one-line message)."""
        if self.live:
            with self.lock:
                self._write("\r\033[2K")
