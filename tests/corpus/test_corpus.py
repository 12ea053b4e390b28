"""The corpus of third-party-style programs, scored: no finding outside what a reviewer allows, every required one found."""

from __future__ import annotations

import pytest
from scoring import Score, programs, score


@pytest.mark.slow
@pytest.mark.parametrize("program", programs(), ids=lambda p: p.name)
def test_program_is_scored_without_false_or_missed_findings(program) -> None:  # type: ignore[no-untyped-def]
    result: Score = score(program)
    assert not result.unexpected, "findings a reviewer would not accept:\n" + "\n".join(" ".join(f) for f in result.unexpected)
    missed = [e for e in result.missed if not e.why]
    assert not missed, f"required findings not made: {missed}"
    # A pending finding (a known gap, with why) that is now made must move to `required`.
    assert not result.pending_found, f"pending findings now made (move them to required): {result.pending_found}"


def test_the_corpus_has_at_least_eight_programs() -> None:
    assert len(programs()) >= 8
