"""French public holidays and working days (Article 4.3's ten working days)."""

from __future__ import annotations

import datetime as dt

from dpaguard.normalise.calendar import easter_sunday, french_public_holidays, is_working_day, working_days_between


def test_easter_known_years() -> None:
    assert easter_sunday(2024) == dt.date(2024, 3, 31)
    assert easter_sunday(2025) == dt.date(2025, 4, 20)
    assert easter_sunday(2026) == dt.date(2026, 4, 5)
    assert easter_sunday(2038) == dt.date(2038, 4, 25)


def test_holidays_2026() -> None:
    holidays = french_public_holidays(2026)
    assert len(holidays) == 11
    assert {dt.date(2026, 4, 6), dt.date(2026, 5, 14), dt.date(2026, 5, 25), dt.date(2026, 7, 14)} <= holidays


def test_working_days() -> None:
    assert not is_working_day(dt.date(2026, 5, 1))  # Friday, Fête du travail
    assert not is_working_day(dt.date(2026, 5, 2))  # Saturday
    assert is_working_day(dt.date(2026, 5, 4))
    # Monday 4 May 2026 to Monday 18 May: 8 May and 14 May are holidays -> 8 working days.
    assert working_days_between(dt.date(2026, 5, 4), dt.date(2026, 5, 18)) == 8
    assert working_days_between(dt.date(2026, 5, 4), dt.date(2026, 5, 4)) == 0
