"""The evidence log: one JSON line per run, hash-chained, appended under a file lock.

Each line is one entry, written as canonical JSON (sorted keys, no spaces, UTF-8):

    {"seq": 3,                                  1, 2, 3 ... in file order
     "previous": "<digest of entry 2>",         64 zeros for the first entry
     "run_digest": sha256(canonical(run)),      what the run found, on its own
     "run": {...},                              the run, below
     "digest": sha256(canonical(entry without "digest"))}

The run holds only what an auditor needs and nothing secret: when the run was made and recorded,
the tool version, the git commit (with `git_dirty`, whether the work tree differed from it, and
`git_diff_sha256`, the digest of the difference), the policy sha256, the versions of Pulumi, the
Scaleway provider and checkov (`versions`), the stages that ran (`stages`), each stack (name,
environment, source, resource count, config sha256, deployment sha256) and each finding as (control, stack, urn, status, enforcement,
waived, message_sha256). Finding messages themselves are left out: they are secret-free by
construction, but they carry resource values an evidence trail does not need; their sha256 tells
apart two findings of one control on one URN and lets a reviewer tie a report's finding to its
entry.

Config digests: by default each stack's `config_sha256` comes from the Result
(StackSummary.config_sha256, the sha256 of the stack config file the run read). The
`config_digests` keyword, a mapping stack name -> sha256, overrides or completes them for
callers that digest configuration themselves (a state file audited without its stack file).

What the chain proves: any edited, removed, inserted or reordered entry breaks a digest or a
link, and verify() names the line. What it cannot prove alone: that the newest entries were not
cut off, or that someone with write access did not rewrite the whole chain. Record the head
digest append() returns somewhere else (the CI log, a release note) and pass it back as an
anchor: verify(path, anchors=[...]) fails unless every anchor is still in the chain.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from dpaguard import __version__
from dpaguard.errors import InputError, OutputError
from dpaguard.inputs import MAX_RECORD_BYTES, check_regular, read_input
from dpaguard.model import Result

GENESIS = "0" * 64
FORMAT = "dpaguard-evidence/1"
_ENTRY_KEYS = frozenset({"seq", "previous", "run_digest", "run", "digest"})


def canonical(value: Any) -> bytes:
    """The canonical JSON bytes digests are computed over (sorted keys, no whitespace, UTF-8)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def sha256(value: Any) -> str:
    """Hex sha256 of a value's canonical JSON."""
    return hashlib.sha256(canonical(value)).hexdigest()


def entry_digest(entry: Mapping[str, Any]) -> str:
    """The digest of an entry: sha256 of its canonical JSON without the `digest` field."""
    return sha256({key: value for key, value in entry.items() if key != "digest"})


def _refuse_constant(text: str) -> Any:
    """NaN and Infinity are not JSON: canonical() never writes them, so a line holding one was not written by append()."""
    raise ValueError("non-standard number")


def run_record(result: Result, *, config_digests: Mapping[str, str] | None = None, recorded_at: str | None = None) -> dict[str, Any]:
    """The secret-free record of one run that goes into the log."""
    digests = {s.name: s.config_sha256 for s in result.stacks}
    digests.update(config_digests or {})
    return {
        "format": FORMAT,
        "generated_at": result.generated_at or None,
        "today": result.today.isoformat() if result.today else None,  # the date waivers were judged against
        "recorded_at": recorded_at or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "tool_version": result.tool_version,
        "recorder_version": __version__,
        "git_commit": result.git_commit,
        "git_dirty": result.git_dirty,
        "git_diff_sha256": result.git_diff_sha256,
        "versions": dict(result.versions),
        "stages": [{"name": s.name, "ran": s.ran} for s in result.stages],
        "policy_sha256": result.policy_sha256,
        "stacks": [
            {
                "name": s.name,
                "environment": s.environment,
                "source": s.source,
                "resources": s.resources,
                "config_sha256": digests.get(s.name),
                "deployment_sha256": s.deployment_sha256,
            }
            for s in sorted(result.stacks, key=lambda s: s.name)
        ],
        "findings": sorted(
            (
                {
                    "control": f.control,
                    "stack": f.stack,
                    "urn": f.urn,
                    "status": f.status,
                    "enforcement": f.enforcement,
                    "waived": f.waived,
                    # tells apart findings of one control on one URN, and ties a report's finding
                    # to its entry, without recording the message
                    "message_sha256": hashlib.sha256(f.message.encode()).hexdigest(),
                }
                for f in result.findings
            ),
            key=lambda f: (f["stack"], f["control"], f["urn"], f["status"], f["message_sha256"]),
        ),
        "summary": result.summary(),
    }


def _last_line(handle: Any) -> tuple[bytes, int]:
    """The file's last line (without its newline) and how many lines the file has."""
    handle.seek(0)
    count = 0
    last = b""
    for raw in handle:
        count += 1
        last = raw
    if last and not last.endswith(b"\n"):
        raise ValueError("the last line is incomplete (no newline): the log was cut or a write was interrupted")
    return last.rstrip(b"\n"), count


def append(path: Path | str, result: Result, *, config_digests: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Append the run to the evidence log at `path` (created if missing); returns the entry written.

    Concurrent appends (several CI jobs, --all-stacks in parallel) are serialised with an
    exclusive flock on the file; the newest entry is checked before it is chained to.
    """
    target = Path(path)
    run = run_record(result, config_digests=config_digests)
    try:
        # O_NONBLOCK: a fifo named as the log is refused rather than waited on; /dev/zero would be read
        # for its last line for ever.
        fd = os.open(target, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
        try:
            check_regular(fd, MAX_RECORD_BYTES)
        except OSError:
            os.close(fd)
            raise
        with os.fdopen(fd, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                try:
                    last, count = _last_line(handle)
                except ValueError as error:
                    raise OutputError(f"evidence log {target}: line {count_lines(handle)}: {error}; "
                                      f"run 'dpaguard evidence verify {target}'") from None
                previous, seq = GENESIS, 1
                if last:
                    try:
                        tail = json.loads(last, parse_constant=_refuse_constant)
                        if not isinstance(tail, dict) or entry_digest(tail) != tail.get("digest"):
                            raise ValueError("digest mismatch")
                        previous, seq = str(tail["digest"]), int(tail["seq"]) + 1
                    except (ValueError, KeyError, TypeError, RecursionError):
                        raise OutputError(
                            f"evidence log {target}: line {count}: the newest entry is malformed or altered; "
                            f"run 'dpaguard evidence verify {target}'"
                        ) from None
                entry: dict[str, Any] = {"seq": seq, "previous": previous, "run_digest": sha256(run), "run": run}
                entry["digest"] = entry_digest(entry)
                handle.seek(0, os.SEEK_END)
                handle.write(canonical(entry) + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except OSError as error:
        raise OutputError(f"evidence log {target}: cannot append: {error.strerror or error}") from None
    return entry


def count_lines(handle: Any) -> int:
    """How many lines (complete or not) the open file has."""
    handle.seek(0)
    return sum(1 for _ in handle)


# -- verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One integrity failure, at a line of the log."""

    line: int
    message: str

    def to_json(self) -> dict[str, Any]:
        """The problem in JSON output."""
        return {"line": self.line, "message": self.message}


@dataclass(frozen=True)
class Period:
    """A span during which a finding was present: from the run that first showed it to the run that no longer did."""

    opened_seq: int
    opened_at: str | None
    fixed_seq: int | None = None
    fixed_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The period in JSON output."""
        return {"first_seen": {"seq": self.opened_seq, "at": self.opened_at},
                "fixed": None if self.fixed_seq is None else {"seq": self.fixed_seq, "at": self.fixed_at}}


@dataclass(frozen=True)
class FindingHistory:
    """When one finding (control, stack, urn) appeared and was fixed, possibly several times."""

    control: str
    stack: str
    urn: str
    periods: tuple[Period, ...]

    @property
    def first_seen(self) -> Period:
        """The first period: when the finding first appeared."""
        return self.periods[0]

    @property
    def fixed(self) -> Period | None:
        """The latest period when it is closed (the finding is fixed now), else None."""
        last = self.periods[-1]
        return last if last.fixed_seq is not None else None

    def to_json(self) -> dict[str, Any]:
        """The history in JSON output."""
        last = self.periods[-1]
        return {
            "control": self.control,
            "stack": self.stack,
            "urn": self.urn,
            "first_seen": {"seq": self.first_seen.opened_seq, "at": self.first_seen.opened_at},
            "fixed": None if last.fixed_seq is None else {"seq": last.fixed_seq, "at": last.fixed_at},
            "open": last.fixed_seq is None,
            "periods": [p.to_json() for p in self.periods],
        }


@dataclass(frozen=True)
class VerifyReport:
    """What `verify` found: integrity problems (none when intact), the runs and each finding's history."""

    path: str
    entries: int
    head: str | None
    problems: tuple[Problem, ...]
    runs: tuple[Mapping[str, Any], ...] = field(default=())
    findings: tuple[FindingHistory, ...] = field(default=())

    @property
    def intact(self) -> bool:
        """No entry was altered, removed, inserted or reordered (and every anchor is present)."""
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        """The report as `dpaguard evidence verify --format json` prints it."""
        return {
            "file": self.path,
            "intact": self.intact,
            "entries": self.entries,
            "head": self.head,
            "problems": [p.to_json() for p in self.problems],
            "runs": [dict(r) for r in self.runs],
            "findings": [f.to_json() for f in self.findings],
        }


def read_entries(path: Path | str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, entry) of every line; InputError naming the file and line for anything malformed."""
    target = Path(path)
    try:
        raw = read_input(target, MAX_RECORD_BYTES)
    except OSError as error:
        raise InputError(f"evidence log {target}: cannot read: {error.strerror or error}") from None
    entries: list[tuple[int, dict[str, Any]]] = []
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines and raw:
        # the last line has no newline: append() always writes one, so the file was cut
        raise InputError(f"evidence log {target}: line {len(lines)}: incomplete last line (the log was truncated)")
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line, parse_constant=_refuse_constant)
        except (UnicodeDecodeError, ValueError):
            raise InputError(f"evidence log {target}: line {number}: not a JSON object") from None
        except RecursionError:
            raise InputError(f"evidence log {target}: line {number}: nested too deeply") from None
        if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
            raise InputError(f"evidence log {target}: line {number}: not an evidence entry (fields {sorted(_ENTRY_KEYS)})")
        if not isinstance(entry["seq"], int) or not isinstance(entry["run"], dict):
            raise InputError(f"evidence log {target}: line {number}: not an evidence entry (seq, run)")
        for key in ("previous", "run_digest", "digest"):
            if not isinstance(entry[key], str):
                raise InputError(f"evidence log {target}: line {number}: '{key}' is not a digest")
        findings = entry["run"].get("findings", [])
        if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
            raise InputError(f"evidence log {target}: line {number}: 'run.findings' is not a list of objects")
        entries.append((number, entry))
    return entries


def verify(path: Path | str, *, anchors: Iterable[str] = ()) -> VerifyReport:
    """Check every digest and link of the log, and build each finding's first-seen/fixed history.

    Raises InputError (file unreadable, or a line that is not an evidence entry); integrity
    failures are returned as problems with their line numbers.
    """
    entries = read_entries(path)
    problems: list[Problem] = []
    previous = GENESIS
    digests: set[str] = set()
    for index, (line, entry) in enumerate(entries):
        if entry["seq"] != index + 1:
            problems.append(Problem(line, f"entry numbered {entry['seq']} where {index + 1} was expected "
                                          "(an entry was removed, inserted or moved)"))
        if entry["run_digest"] != sha256(entry["run"]):
            problems.append(Problem(line, "run digest mismatch: the run's content was altered"))
        if entry["digest"] != entry_digest(entry):
            problems.append(Problem(line, "entry digest mismatch: the entry was altered"))
        if entry["previous"] != previous:
            problems.append(Problem(line, "chain broken: 'previous' is not the digest of the entry before "
                                          "(an entry was removed, inserted, moved or altered)"))
        previous = entry["digest"]
        digests.add(entry["digest"])
    for anchor in anchors:
        if anchor not in digests:
            problems.append(Problem(len(entries), f"anchor {anchor[:16]}... is not in the chain "
                                                  "(entries were cut off or the chain was rewritten)"))
    runs = tuple(_run_summary(entry) for _, entry in entries)
    return VerifyReport(
        path=str(path),
        entries=len(entries),
        head=entries[-1][1]["digest"] if entries else None,
        problems=tuple(problems),
        runs=runs,
        findings=timeline(entry["run"] for _, entry in entries),
    )


def _run_summary(entry: Mapping[str, Any]) -> dict[str, Any]:
    run = entry["run"]
    return {
        "seq": entry["seq"],
        "generated_at": run.get("generated_at"),
        "policy_sha256": run.get("policy_sha256"),
        "stacks": [s.get("name") for s in run.get("stacks", []) if isinstance(s, dict)],
        "findings": len(run.get("findings", [])),
        "digest": entry["digest"],
    }


def timeline(runs: Iterable[Mapping[str, Any]]) -> tuple[FindingHistory, ...]:
    """Each finding's periods over the runs, in order.

    A finding is fixed in the first later run that evaluated its stack and no longer reports it;
    a run that did not evaluate the stack says nothing about it. A finding that comes back opens
    a new period.
    """
    open_since: dict[tuple[str, str, str], tuple[int, str | None]] = {}
    periods: dict[tuple[str, str, str], list[Period]] = {}
    for seq, run in enumerate(runs, start=1):
        at = run.get("generated_at") or run.get("recorded_at")
        stacks = {s.get("name") for s in run.get("stacks", []) if isinstance(s, dict)}
        present = {(str(f.get("control")), str(f.get("stack")), str(f.get("urn"))) for f in run.get("findings", [])}
        for key in present:
            if key not in open_since:
                open_since[key] = (seq, at)
                periods.setdefault(key, [])
        for key in list(open_since):
            if key not in present and key[1] in stacks:
                opened_seq, opened_at = open_since.pop(key)
                periods[key].append(Period(opened_seq, opened_at, seq, at))
    for key, (opened_seq, opened_at) in open_since.items():
        periods[key].append(Period(opened_seq, opened_at))
    return tuple(
        FindingHistory(control, stack, urn, tuple(sorted(found, key=lambda p: p.opened_seq)))
        for (control, stack, urn), found in sorted(periods.items())
    )
