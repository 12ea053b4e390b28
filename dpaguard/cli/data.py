"""`dpaguard data`: write the DPA tables as OPA data, `{"dpa": ...}`, for `opa eval -d` and `opa test`."""

from __future__ import annotations

import argparse
from pathlib import Path

from dpaguard.engine.bundle import data_json
from dpaguard.cli._common import STDOUT, check_outside, check_writable, load_policies, policies_folder, write_document

HELP = "Write the DPA tables as OPA data ({\"dpa\": ...}): opa eval -d policies/rego -d data.json, opa test."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `dpaguard data`."""
    parser.add_argument("--output", "-o", metavar="FILE", help="write the data here; '-' or none: stdout")
    parser.add_argument("--policies", type=Path, metavar="DIR",
                        help="policy set (default: ./policies, else the policies shipped with dpaguard)")


def run(args: argparse.Namespace) -> int:
    """Load the policies and write their data document."""
    target = None if args.output in (None, STDOUT) else Path(args.output)
    if target is not None:
        check_writable(target, "the OPA data")
        check_outside("--output", target, policies_folder(args.policies), "the policy set")
    policy = load_policies(args.policies)
    write_document(target, data_json(policy), "the OPA data")
    return 0
