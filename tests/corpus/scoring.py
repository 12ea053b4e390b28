"""The corpus of third-party-style programs: render each, evaluate it, score its findings against its expectations.

Each program folder holds a Pulumi project, its stack files and `expected.yaml`:

    stack: prod
    required:            # findings a careful reviewer requires: control + resource name (the URN's last part)
      - {control: DPA-TLS-008, resource: api}
      - {control: DPA-SUB-001, resource: "default_7_*", contains: us-east-1}   # and its message names this
    allowed:             # findings a reviewer accepts but does not require (advisories, debatable calls)
      - {control: DPA-SEG-002, resource: "*"}
    pending:             # required findings dpaguard does not make yet, each with why (scored as missed)
      - {control: DPA-SEC-001, resource: web, why: "..."}

`resource` is an fnmatch pattern over the finding's resource name. Precision: the share of findings
that are required or allowed; recall: the share of
required (and pending) findings found.
`python tests/corpus/scoring.py` prints the table of docs/corpus.md (`-v`: every finding, marked UNEXPECTED or
MISSED); with `PYTHONPATH=<another checkout>` it scores that checkout's dpaguard and policies.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CORPUS = Path(__file__).resolve().parent
TODAY = dt.date(2026, 6, 1)


@dataclass(frozen=True)
class Expectation:
    """One expected finding: a control on the resources whose name matches `resource`."""

    control: str
    resource: str
    contains: str = ""  # text the finding's message must hold (a region, say)
    why: str = ""

    def matches(self, control: str, name: str, message: str) -> bool:
        """Whether a finding (control, resource name, message) is this one."""
        return control == self.control and fnmatch.fnmatchcase(name, self.resource) and self.contains in message


@dataclass(frozen=True)
class Score:
    """How a program's findings compare with its expectations."""

    program: str
    stack: str
    findings: tuple[tuple[str, str, str], ...]  # (control, resource name, message)
    unexpected: tuple[tuple[str, str, str], ...]
    missed: tuple[Expectation, ...]
    pending_found: tuple[Expectation, ...]
    required: int

    @property
    def precision(self) -> float:
        """Share of the findings a reviewer requires or allows (1.0 with none)."""
        return 1.0 if not self.findings else sum(1 for f in self.findings if f not in self.unexpected) / len(self.findings)

    @property
    def recall(self) -> float:
        """Share of required findings made (pending ones count as required)."""
        return 1.0 if not self.required else (self.required - len(self.missed)) / self.required


def programs() -> list[Path]:
    """The corpus's program folders, by name."""
    return sorted(p.parent for p in CORPUS.glob("*/expected.yaml"))


def expectations(program: Path) -> dict[str, Any]:
    """A program's expected.yaml, read."""
    data = yaml.safe_load((program / "expected.yaml").read_text(encoding="utf-8"))
    return {
        "stack": data["stack"],
        "required": [Expectation(**e) for e in data.get("required") or ()],
        "allowed": [Expectation(**e) for e in data.get("allowed") or ()],
        "pending": [Expectation(**e) for e in data.get("pending") or ()],
    }


def findings_of(program: Path, stack: str) -> list[tuple[str, str, str]]:
    """(control, resource name, message) of every unwaived finding of the program's stack, rendered offline."""
    import dpaguard
    from dpaguard.pipeline import RunOptions, evaluate, load_policy
    from dpaguard.source.program import render_stack

    # The policies beside the dpaguard imported: `PYTHONPATH=<another checkout>` scores that checkout.
    policies = Path(dpaguard.__file__).resolve().parents[1] / "policies"
    deployment = render_stack(program, stack, timeout=120)
    policy = load_policy(policies)
    result = evaluate([deployment], policy, RunOptions(policies_dir=policies, today=TODAY))
    return sorted((str(f.control), f.name, f.message) for f in result.findings if not f.waived)


def score(program: Path) -> Score:
    """Render and evaluate one program and compare its findings with its expectations."""
    expected = expectations(program)
    found = findings_of(program, expected["stack"])
    accepted = expected["required"] + expected["allowed"] + expected["pending"]
    unexpected = tuple(f for f in found if not any(e.matches(*f) for e in accepted))
    missed = tuple(e for e in expected["required"] + expected["pending"] if not any(e.matches(*f) for f in found))
    pending_found = tuple(e for e in expected["pending"] if e not in missed)
    return Score(program.name, expected["stack"], tuple(found), unexpected, missed, pending_found,
                 len(expected["required"]) + len(expected["pending"]))


def table(scores: list[Score]) -> str:
    """The Markdown table of the scores (docs/corpus.md)."""
    lines = ["| Program | Stack | Findings | Required | Unexpected | Missed | Precision | Recall |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for s in scores:
        lines.append(f"| `{s.program}` | {s.stack} | {len(s.findings)} | {s.required} | {len(s.unexpected)} | {len(s.missed)} "
                     f"| {s.precision:.2f} | {s.recall:.2f} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Print each program's findings (with -v) and the table."""
    scores = []
    for program in programs():
        s = score(program)
        scores.append(s)
        if "-v" in argv:
            print(f"## {s.program}")
            for control, name, message in s.findings:
                mark = "UNEXPECTED " if (control, name, message) in s.unexpected else ""
                print(f"  {mark}{control} {name}: {message}")
            for e in s.missed:
                print(f"  MISSED {e.control} {e.resource} {e.why}")
    print(table(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
