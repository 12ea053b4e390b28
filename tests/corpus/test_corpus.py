"""The corpus of third-party-style programs, scored: no finding outside what a reviewer allows, every required one found."""

from __future__ import annotations

from pathlib import Path

import pytest
from scoring import CORPUS, Score, expectations, programs, score

from dpaguard.source.program import render_stack
from dpaguard.source.project import load_project

# Programs pinned to older SDKs (requirements.txt) run in their own virtualenvs, which .ci/setup makes from it.
PINNED = sorted(p.parent for p in CORPUS.glob("*/requirements.txt"))


def _pinned(program: Path, package: str) -> str:
    """The version of `package` a program's requirements.txt pins (`package==X`)."""
    for line in (program / "requirements.txt").read_text(encoding="utf-8").splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower() == package:
            return version.strip()
    raise AssertionError(f"{program.name}/requirements.txt pins no {package}")


def _missing_environment(program: Path) -> str | None:
    """Why a program cannot run as written here: the virtualenv its Pulumi.yaml names is not made (None: it can)."""
    virtualenv = load_project(program).runtime_options.get("virtualenv")
    if isinstance(virtualenv, str) and not (program / virtualenv / "bin" / "python").exists():
        return f"{program.name}/{virtualenv} is made by .ci/setup (python -m venv, pip install -r requirements.txt)"
    return None


@pytest.mark.slow
@pytest.mark.parametrize("program", programs(), ids=lambda p: p.name)
def test_program_is_scored_without_false_or_missed_findings(program) -> None:  # type: ignore[no-untyped-def]
    missing = _missing_environment(program)
    if missing:
        pytest.skip(missing)
    result: Score = score(program)
    assert not result.unexpected, "findings a reviewer would not accept:\n" + "\n".join(" ".join(f) for f in result.unexpected)
    missed = [e for e in result.missed if not e.why]
    assert not missed, f"required findings not made: {missed}"
    # A pending finding (a known gap, with why) that is now made must move to `required`.
    assert not result.pending_found, f"pending findings now made (move them to required): {result.pending_found}"


def test_the_corpus_has_at_least_eight_programs() -> None:
    assert len(programs()) >= 8


def test_the_corpus_runs_under_at_least_three_sdk_versions() -> None:
    # dpaguard's own (the newest) for most programs, and each pinned one in its program's own virtualenv.
    assert len({_pinned(p, "pulumi") for p in PINNED}) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("program", PINNED, ids=lambda p: p.name)
def test_a_program_pinned_to_an_older_sdk_runs_under_that_sdk(program: Path) -> None:
    missing = _missing_environment(program)
    if missing:
        pytest.skip(missing)
    deployment = render_stack(program, expectations(program)["stack"], timeout=120)
    # The SDKs the program pinned, not dpaguard's: its default provider is the version it asks for.
    providers = [r for r in deployment.resources if r["type"] == "pulumi:providers:scaleway"]
    assert [p["inputs"]["version"] for p in providers] == [_pinned(program, "pulumiverse-scaleway")]
    assert not any("dpaguard's own Python" in notice for notice in deployment.notices)
