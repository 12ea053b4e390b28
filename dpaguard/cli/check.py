"""`dpaguard check`: render the project's stacks offline, evaluate every control over them, report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dpaguard.cli._common import (
    ProgressLine,
    add_report_arguments,
    check_distinct,
    emit,
    plan_outputs,
    seconds,
    run_options,
    written_files,
)
from dpaguard.errors import UsageError
from dpaguard.pipeline import CheckovOptions, resolve_stacks, run_check
from dpaguard.source.lookups import HELP as LOOKUPS_HELP, load_lookups
from dpaguard.source.project import load_project

HELP = "Render stacks of a Pulumi project offline and check them against the DPA controls (and checkov)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `dpaguard check`."""
    stacks = parser.add_argument_group("stacks")
    stacks.add_argument("--stack", "-s", action="append", default=[], metavar="NAME",
                        help="stack to check, repeatable (several are also checked together for segregation)")
    stacks.add_argument("--all-stacks", action="store_true", help="check every stack of the project")
    stacks.add_argument("--project-dir", "-C", type=Path, default=Path("."), metavar="DIR",
                        help="directory holding Pulumi.yaml (default: .)")
    stacks.add_argument("--timeout", type=seconds, default=120.0, metavar="S",
                        help="time limit of each stack's program, in seconds (default: 120)")
    stacks.add_argument("--lookups", type=Path, metavar="FILE", help=LOOKUPS_HELP)
    checkov = parser.add_argument_group("checkov")
    checkov.add_argument("--no-checkov", action="store_true", help="skip the checkov stage (secrets, IaC hygiene)")
    checkov.add_argument("--require-checkov", action="store_true",
                         help="a missing checkov is an error (exit 2) instead of a notice")
    checkov.add_argument("--checkov-skip-check", action="append", default=[], metavar="ID",
                         help="checkov check id to skip, repeatable")
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Check the stacks and write the reports; exit code from the result (errors raise)."""
    if args.stack and args.all_stacks:
        raise UsageError("--stack and --all-stacks exclude each other")
    if args.no_checkov and (args.require_checkov or args.checkov_skip_check):
        raise UsageError("--no-checkov excludes --require-checkov and --checkov-skip-check")
    project_dir: Path = args.project_dir
    if not project_dir.is_dir():
        raise UsageError(f"{project_dir}: project folder not found (--project-dir DIR)")
    plan = plan_outputs(args.format, args.output)
    lookups = load_lookups(args.lookups) if args.lookups is not None else ()
    stacks = resolve_stacks(project_dir, args.stack, args.all_stacks)
    project = load_project(project_dir)
    check_distinct(written_files(plan, args.evidence),
                   [("project file", project.file)] + [("stack config", project.stack_file(s)) for s in stacks]
                   + ([("--baseline", args.baseline)] if args.baseline is not None else [])
                   + ([("--lookups", args.lookups)] if args.lookups is not None else []))
    options = run_options(args, project_dir)
    checkov = CheckovOptions(enabled=not args.no_checkov, required=args.require_checkov,
                              skip_checks=tuple(args.checkov_skip_check))
    progress = ProgressLine(stacks, enabled=not args.quiet, stream=sys.stderr, checkov=checkov.enabled)
    try:
        result = run_check(project_dir, stacks, options, checkov, timeout=args.timeout, progress=progress, lookups=lookups)
    finally:
        progress.clear()
    return emit(result, plan, args)
