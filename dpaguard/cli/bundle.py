"""`dpaguard bundle`: write the policy set as an OPA bundle that `opa run --server --bundle` serves."""

from __future__ import annotations

import argparse
from pathlib import Path

from dpaguard.engine.bundle import bundle_bytes
from dpaguard.cli._common import STDOUT, check_outside, check_writable, load_policies, policies_folder, write_document

HELP = ("Write the policies as an OPA bundle (Rego, data.json, .manifest with the policy digest): "
        "opa run --server --bundle FILE, then check --opa-url.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `dpaguard bundle`."""
    parser.add_argument("--output", "-o", required=True, metavar="FILE",
                        help="the bundle file to write (a gzipped tar, e.g. dpa.tar.gz); '-': stdout")
    parser.add_argument("--policies", type=Path, metavar="DIR",
                        help="policy set (default: ./policies, else the policies shipped with dpaguard)")


def run(args: argparse.Namespace) -> int:
    """Load the policies and write their bundle."""
    target = None if args.output == STDOUT else Path(args.output)
    if target is not None:
        check_writable(target, "the bundle")
        check_outside("--output", target, policies_folder(args.policies), "the policy set")
    policy = load_policies(args.policies)
    write_document(target, bundle_bytes(policy), "the bundle")
    return 0
