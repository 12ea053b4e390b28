"""`dpaguard render`: run a stack's Pulumi program offline and write its deployment (stack export JSON)."""

from __future__ import annotations

import argparse
from pathlib import Path

from dpaguard.cli._common import check_distinct, check_not_project_input, seconds, write_document
from dpaguard.cli._console import say
from dpaguard.source.lookups import HELP as LOOKUPS_HELP, load_lookups
from dpaguard.source.program import render_stack
from dpaguard.source.state import export_json

HELP = "Render a stack's Pulumi program offline into a stack-export JSON deployment (no Pulumi CLI, no cloud)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `dpaguard render`."""
    parser.add_argument("--stack", required=True, metavar="NAME", help="stack to render (its Pulumi.<stack>.yaml)")
    parser.add_argument(
        "--project-dir", type=Path, default=Path("."), metavar="DIR", help="directory holding Pulumi.yaml (default: .)"
    )
    parser.add_argument("--output", "-o", type=Path, metavar="FILE", help="write the deployment here (default: stdout)")
    parser.add_argument(
        "--timeout", type=seconds, default=120.0, metavar="S", help="time limit of the program, in seconds (default: 120)"
    )
    parser.add_argument("--lookups", type=Path, metavar="FILE", help=LOOKUPS_HELP)


def run(args: argparse.Namespace) -> int:
    """Render the stack and write its deployment JSON; errors are raised for the dispatcher to print."""
    if args.output is not None:
        check_not_project_input("--output", args.output, args.project_dir)
        if args.lookups is not None:
            check_distinct([("--output", args.output)], [("--lookups", args.lookups)])
    lookups = load_lookups(args.lookups) if args.lookups is not None else ()
    deployment = render_stack(args.project_dir, args.stack, timeout=args.timeout, lookups=lookups)
    text = export_json(deployment)
    write_document(args.output, text, "the deployment")
    # the deployment has no room for them: the interpreter the program ran under, lookups that answered nothing
    for notice in deployment.notices:
        say(f"note: {notice}")
    return 0
