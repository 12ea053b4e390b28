"""Every string the HTML and Markdown reports print, in English and French, in one dictionary (its tables
in i18n_strings.py); French dates, clause ids and the translation of the policies' texts.

Clause ids are the English DPA's ("Appendix C §1.1"); `clause_label` gives them as the French DPA
numbers them ("Annexe C §1.1"; articles keep "Article 8.2"). Clause titles come from the ledger
(`title`, `title_fr`), not from here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

from dpaguard.model import Translation
from dpaguard.report.i18n_strings import CHANGES_AND_SIGNOFF as CHANGES_AND_SIGNOFF
from dpaguard.report.i18n_strings import STRINGS as STRINGS  # the tables, kept in their own module

LANGUAGES: tuple[str, ...] = ("en", "fr")


_MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre")


def format_date(value: str, lang: str) -> str:
    """An ISO date or UTC time as a reader of that language writes it: "7 décembre 2026 à 18:29 UTC".

    English keeps ISO 8601 (unambiguous in an English report); an unreadable value is shown as given.
    """
    import datetime as dt

    if lang != "fr" or not value:
        return value
    try:
        if "T" in value:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            moment = moment.astimezone(dt.timezone.utc) if moment.tzinfo else moment
            return (f"{_day(moment.day)} {_MONTHS_FR[moment.month - 1]} {moment.year} à "
                    f"{moment.hour:02d}:{moment.minute:02d} UTC")
        day = dt.date.fromisoformat(value)
    except ValueError:
        return value
    return f"{_day(day.day)} {_MONTHS_FR[day.month - 1]} {day.year}"


def _day(day: int) -> str:
    return "1er" if day == 1 else str(day)  # "1er janvier 2026", "2 janvier 2026"


def strings(lang: str) -> dict[str, str]:
    """The strings of a language (English for an unknown one)."""
    language = lang if lang in STRINGS else "en"
    return {**STRINGS[language], **CHANGES_AND_SIGNOFF[language]}


def clause_label(clause_id: str, lang: str) -> str:
    """A clause id as the DPA of that language numbers it: "Appendix C §1.1" is "Annexe C §1.1" in French."""
    if lang == "fr" and clause_id.startswith("Appendix "):
        return "Annexe " + clause_id[len("Appendix "):]
    return clause_id


def citation_label(citation: str, lang: str) -> str:
    """A control's whole citation ("Appendix C §1.1; Article 5.1") as the DPA of that language numbers it."""
    return citation.replace("Appendix ", "Annexe ") if lang == "fr" else citation


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?")

# The mark beside every quote of the DPA the project translated: no French text of the DPA is in the repository.
QUOTE_TRANSLATED = "(traduction du projet ; le texte signé fait foi en anglais)"


@lru_cache(maxsize=8)
def _patterns(templates: tuple[tuple[str, str], ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """The templates as anchored patterns, the most literal first, so "%v or %v" loses to a rule's own message."""
    ordered = sorted(templates, key=lambda pair: -len(pair[0].replace("%v", "")))
    return tuple((re.compile("".join("(.*?)" if piece == "%v" else re.escape(piece)
                                     for piece in re.split(r"(%v)", en)), re.DOTALL), fr) for en, fr in ordered)


def french(translation: Translation | None, text: str, depth: int = 0) -> str | None:
    """The French of a text the policy set or dpaguard shows: whole, else by message template, its values
    translated in turn where they are texts of their own ("a role"); None when there is none."""
    if translation is None or not text:
        return None
    key = " ".join(text.split())
    if key in translation.texts:
        return translation.texts[key]
    pieces = key.split("; ")
    if len(pieces) > 1:  # several reasons joined ("DPA-SEC-101: checkov did not run; DPA-HYG-002: ...")
        shown = [french(translation, piece, depth) for piece in pieces]
        if all(shown):
            return " ; ".join(str(piece) for piece in shown)
    for pattern, fr in _patterns(translation.templates):
        match = pattern.fullmatch(key)
        if match is None:
            continue
        values = iter(_value(translation, v, depth) for v in match.groups())
        return re.sub("%v", lambda _: next(values), fr)
    return None


def _value(translation: Translation, value: str, depth: int) -> str:
    """A template's value, translated where it is a text of its own, its surrounding spaces kept (" (eu-west-1)")."""
    core = value.strip()
    if _ISO_DATE.fullmatch(core):  # a waiver's expiry in a message reads as a French date too
        shown = format_date(core, "fr")
    else:
        shown = (french(translation, core, depth + 1) if depth < 3 else None) or core
    return value[:len(value) - len(value.lstrip())] + shown + value[len(value.rstrip()):]


def translator(translation: Translation | None, lang: str) -> Callable[[str], str]:
    """A function giving a text in the report's language: French where the policy set has it, else as given."""
    if lang != "fr":
        return lambda text: text
    return lambda text: french(translation, text) or text
