"""How a text finds its French (dpaguard/report/i18n.py `french`): whole, by template, its values in turn."""

from __future__ import annotations

from dpaguard.model import Translation
from dpaguard.report.i18n import french, translator

_FRENCH = Translation(
    texts={"a role": "un rôle", "Backups are enabled": "Les sauvegardes sont activées"},
    templates=(
        ("%v or %v", "%v ou %v"),
        ("GCS bucket grants %v to %v: its objects are disclosed to anyone%v",
         "le bucket GCS accorde %v à %v : ses objets sont divulgués à tous%v"),
        ("%v: checkov did not run", "%v : checkov n'a pas été exécuté"),
        ("%v: no waivers to examine", "%v : aucune dérogation à examiner"),
        ("waiver for %v expired on %v", "la dérogation pour %v a expiré le %v"),
    ),
)


def test_a_whole_text_and_its_whitespace() -> None:
    assert french(_FRENCH, "Backups  are\nenabled") == "Les sauvegardes sont activées"
    assert french(_FRENCH, "Backups are disabled") is None and french(None, "a role") is None


def test_a_template_translates_its_values_keeping_their_spaces() -> None:
    message = "GCS bucket grants a role to allUsers: its objects are disclosed to anyone (asia-east1)"
    assert french(_FRENCH, message) == ("le bucket GCS accorde un rôle à allUsers : ses objets sont divulgués à tous "
                                        "(asia-east1)")


def test_the_most_literal_template_wins() -> None:
    # "%v or %v" would match too; the rule's own message says more
    assert french(_FRENCH, "GCS bucket grants a or b to c: its objects are disclosed to anyone") == (
        "le bucket GCS accorde a ou b à c : ses objets sont divulgués à tous")
    assert french(_FRENCH, "Scaleway DC 2 or Scaleway DC 3 or Equinix") == "Scaleway DC 2 ou Scaleway DC 3 ou Equinix"


def test_reasons_joined_by_semicolons_are_translated_one_by_one() -> None:
    joined = "DPA-SEC-101: checkov did not run; DPA-WAI-001: no waivers to examine"
    assert french(_FRENCH, joined) == "DPA-SEC-101 : checkov n'a pas été exécuté ; DPA-WAI-001 : aucune dérogation à examiner"
    assert french(_FRENCH, "DPA-SEC-101: checkov did not run; something else") is None  # not half French


def test_english_is_left_as_it_is() -> None:
    assert translator(_FRENCH, "en")("a role") == "a role"
    assert translator(_FRENCH, "fr")("a role") == "un rôle" and translator(_FRENCH, "fr")("unknown text") == "unknown text"


def test_a_date_in_a_message_reads_as_a_french_date() -> None:
    assert french(_FRENCH, "waiver for DPA-RES-001 expired on 2026-01-01") == "la dérogation pour DPA-RES-001 a expiré le 1er janvier 2026"
