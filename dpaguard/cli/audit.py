"""`dpaguard audit`: evaluate deployed state (`pulumi stack export` files) against the DPA controls."""

from __future__ import annotations

import argparse
from pathlib import Path

from dpaguard.cli._common import add_report_arguments, check_distinct, emit, plan_outputs, run_options, written_files
from dpaguard.errors import UsageError
from dpaguard.pipeline import run_audit

HELP = "Check deployed state (pulumi stack export files) against the DPA controls; catches drift made outside code."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `dpaguard audit`."""
    state = parser.add_argument_group("state")
    state.add_argument("--state", action="extend", nargs="+", type=Path, default=[], metavar="FILE", required=True,
                       help="stack export file(s) (`pulumi stack export`, `dpaguard render`); several are audited together")
    state.add_argument("--stack-config", action="append", type=Path, default=[], metavar="FILE",
                       help="a stack's config file (Pulumi.<stack>.yaml), repeatable: it goes with the state of "
                            "that stack (default: stack from the URNs, config from the default providers)")
    state.add_argument("--project-dir", "-C", type=Path, default=Path("."), metavar="DIR",
                       help="project whose policies/ and git commit apply (default: .)")
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Audit the state files and write the reports; exit code from the result (errors raise)."""
    if not args.state:
        raise UsageError("--state needs at least one stack export file")
    plan = plan_outputs(args.format, args.output)
    check_distinct(written_files(plan, args.evidence),
                   [("--state", p) for p in args.state] + [("--stack-config", p) for p in args.stack_config]
                   + ([("--baseline", args.baseline)] if args.baseline is not None else []))
    options = run_options(args, args.project_dir)
    result = run_audit(args.state, args.stack_config, options)
    return emit(result, plan, args)
