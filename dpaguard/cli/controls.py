"""`dpaguard controls`: list the control catalogue (id, category, clause, severity, enforcement per environment)."""

from __future__ import annotations

import argparse
from pathlib import Path

from dpaguard.cli._common import load_policies
from dpaguard.cli._console import write_stdout
from dpaguard.errors import UsageError
from dpaguard.report.catalogue import render_json, render_text

HELP = "List the DPA controls of the policy set, optionally of one category."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `dpaguard controls`."""
    parser.add_argument("--category", action="append", default=[], metavar="C",
                        help="only controls of this category, repeatable (residency, backup, secrets, ...)")
    parser.add_argument("--format", "-f", choices=("text", "json"), default="text", help="text table or JSON")
    parser.add_argument("--policies", type=Path, metavar="DIR",
                        help="policy set (default: ./policies, else the policies shipped with dpaguard)")


def run(args: argparse.Namespace) -> int:
    """Print the catalogue."""
    policy = load_policies(args.policies)
    controls = list(policy.controls)
    categories = sorted({c.category for c in controls})
    for category in args.category:
        if category not in categories:
            raise UsageError(f"unknown category '{category}' (categories: {', '.join(categories)})")
    if args.category:
        controls = [c for c in controls if c.category in args.category]
    write_stdout(render_json(controls) if args.format == "json" else render_text(controls))
    return 0
