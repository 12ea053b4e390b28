"""`dpaguard export`: write a stack's deployment in another tool's format (Terraform plan JSON)."""

from __future__ import annotations

import argparse
from pathlib import Path

from dpaguard.cli._common import check_distinct, check_not_project_input, seconds, write_document
from dpaguard.errors import UsageError
from dpaguard.export.tfplan import tfplan_json
from dpaguard.model import Deployment
from dpaguard.source.lookups import HELP as LOOKUPS_HELP, load_lookups

HELP = "Export a stack (rendered offline, or a state file) as Terraform plan JSON for existing scanners."
FORMATS = ("tfplan",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `dpaguard export`."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", metavar="NAME", help="render this stack's Pulumi program offline and export it")
    source.add_argument("--state", type=Path, metavar="FILE", help="export a stack export / `dpaguard render` file")
    parser.add_argument("--format", choices=FORMATS, default="tfplan",
                        help="output format: tfplan = Terraform plan JSON, format 1.2 (default)")
    parser.add_argument("--project-dir", type=Path, default=Path("."), metavar="DIR",
                        help="directory holding Pulumi.yaml (default: .)")
    parser.add_argument("--stack-config", type=Path, metavar="FILE",
                        help="with --state: the stack's Pulumi.<stack>.yaml, for its provider region and zone")
    parser.add_argument("--output", "-o", type=Path, metavar="FILE", help="write here (default: stdout)")
    parser.add_argument("--timeout", type=seconds, default=120.0, metavar="S",
                        help="with --stack: time limit of the program, in seconds (default: 120)")
    parser.add_argument("--lookups", type=Path, metavar="FILE", help=f"with --stack: {LOOKUPS_HELP}")


def _deployment(args: argparse.Namespace) -> Deployment:
    if args.state is not None:
        from dpaguard.source.state import load_state

        return load_state(args.state, stack_config=args.stack_config)
    if args.stack_config is not None:
        raise UsageError("--stack-config goes with --state (with --stack the project's own stack config is read)")
    from dpaguard.source.program import render_stack

    lookups = load_lookups(args.lookups) if args.lookups is not None else ()
    return render_stack(args.project_dir, args.stack, timeout=args.timeout, lookups=lookups)


def run(args: argparse.Namespace) -> int:
    """Load the deployment, translate it and write the document; errors are raised for the dispatcher."""
    if args.lookups is not None and args.state is not None:
        raise UsageError("--lookups goes with --stack (a state file holds the lookups' real answers)")
    if args.output is not None and args.state is None:
        check_not_project_input("--output", args.output, args.project_dir)
    if args.output is not None:
        check_distinct([("--output", args.output)],
                       [(flag, path) for flag, path in (("--state", args.state), ("--stack-config", args.stack_config))
                        if path is not None])
    text = tfplan_json(_deployment(args))
    write_document(args.output, text, "the export")
    return 0
