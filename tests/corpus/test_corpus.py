"""The corpus of third-party-style programs, scored: no finding outside what a reviewer allows, every required one found."""

from __future__ import annotations

from pathlib import Path

import pytest
from scoring import CORPUS, Score, programs, score

from dpaguard.source.program import render_stack
from dpaguard.source.project import load_project

# A program pinned to an older SDK runs in its own virtualenv, which .ci/setup makes from its requirements.txt.
OLD_SDK = CORPUS / "old_sdk_rdb"


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


@pytest.mark.slow
def test_a_program_pinned_to_an_older_sdk_runs_under_that_sdk() -> None:
    missing = _missing_environment(OLD_SDK)
    if missing:
        pytest.skip(missing)
    deployment = render_stack(OLD_SDK, "prod", timeout=120)
    # The SDK the program pinned, not dpaguard's: its default provider is the version it asks for.
    providers = [r for r in deployment.resources if r["type"] == "pulumi:providers:scaleway"]
    assert [p["inputs"]["version"] for p in providers] == ["1.30.0"]
    assert not any("dpaguard's own Python" in notice for notice in deployment.notices)
