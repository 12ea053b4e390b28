"""`dpaguard evidence`: verify an evidence log and show each finding's history.

    dpaguard evidence verify FILE [--anchor DIGEST ...] [--format text|json]
        exit 0 intact, 1 tampered (an entry altered, removed, inserted or reordered, or an anchor
        missing), 2 unreadable or malformed (one line naming the file and line)
    dpaguard evidence history FILE [--format text|json]
        the runs, and when each finding first appeared and was fixed; the chain is verified as
        by `verify`: exit 0 intact, 1 tampered (the history of a tampered log cannot be trusted), 2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dpaguard.cli._console import write_stdout
from dpaguard.evidence import VerifyReport, verify

HELP = "Verify an evidence log (hash chain) and list when each finding first appeared and was fixed."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `dpaguard evidence verify|history`."""
    actions = parser.add_subparsers(dest="evidence_action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    check = actions.add_parser("verify", help="check that no entry was altered, removed, inserted or reordered")
    history = actions.add_parser("history", help="the runs and each finding's first-seen/fixed history")
    for sub in (check, history):
        sub.add_argument("file", type=Path, metavar="FILE", help="the evidence log (JSON lines)")
        sub.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    check.add_argument(
        "--anchor",
        action="append",
        default=[],
        metavar="DIGEST",
        help="an entry digest recorded elsewhere (a CI log) that must still be in the chain; repeatable",
    )


def run(args: argparse.Namespace) -> int:
    """Verify the log (both actions); print the report; 0 intact, 1 tampered (InputError -> 2 in the dispatcher)."""
    report = verify(args.file, anchors=args.anchor if args.evidence_action == "verify" else ())
    if args.format == "json":
        write_stdout(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    elif args.evidence_action == "verify":
        write_stdout(verify_text(report))
    else:
        write_stdout(history_text(report))
    return 0 if report.intact else 1


def verify_text(report: VerifyReport) -> str:
    """The integrity verdict, its problems with line numbers, then the findings' history."""
    lines: list[str] = []
    if report.intact:
        lines.append(f"{report.path}: intact, {report.entries} entries, head {report.head or '-'}")
    else:
        lines.append(f"{report.path}: TAMPERED, {len(report.problems)} problem(s) in {report.entries} entries")
        lines.extend(f"  line {p.line}: {p.message}" for p in report.problems)
    lines.append("")
    lines.extend(_findings_lines(report))
    return "\n".join(lines) + "\n"


def history_text(report: VerifyReport) -> str:
    """One line per run, then the findings' history."""
    lines = [f"{report.path}: {report.entries} runs" + ("" if report.intact else " (TAMPERED: this history cannot be trusted)")]
    lines.extend(f"  line {p.line}: {p.message}" for p in report.problems)
    for run in report.runs:
        lines.append(
            f"  #{run['seq']:<4} {run.get('generated_at') or '-':<25} policy {str(run.get('policy_sha256'))[:12]}"
            f"  stacks {','.join(str(s) for s in run['stacks']) or '-'}  findings {run['findings']}"
        )
    lines.append("")
    lines.extend(_findings_lines(report))
    return "\n".join(lines) + "\n"


def _findings_lines(report: VerifyReport) -> list[str]:
    if not report.findings:
        return ["no findings recorded"]
    lines = ["findings (first seen -> fixed):"]
    for item in report.findings:
        first = item.first_seen
        last = item.periods[-1]
        fixed = f"fixed in run #{last.fixed_seq} ({last.fixed_at or '-'})" if last.fixed_seq is not None else "OPEN"
        reopened = f", {len(item.periods)} periods" if len(item.periods) > 1 else ""
        lines.append(
            f"  {item.control} {item.stack} {item.urn}: first seen in run #{first.opened_seq} "
            f"({first.opened_at or '-'}) -> {fixed}{reopened}"
        )
    return lines
