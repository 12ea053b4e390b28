"""The French of the policy set (policies/dpa/i18n/fr.yaml): complete at load, or the policies do not load,
with the entry to add; every message the Rego tests expect has its French."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest

from dpaguard.errors import PolicyError
from dpaguard.model import ControlId, Translation
from dpaguard.policy import Policy, load_policy, test_modules
from dpaguard.policy.translations import FRENCH_FILE, load_french, rego_messages, unused
from dpaguard.report.i18n import french
from support import POLICIES
from support.english import english_words


def _services(policy: Policy) -> list[str]:
    return [str(e["service"]) for e in policy.data["subprocessors"]["entries"]]


def _load(root: Path, policy: Policy, **changes: object) -> object:
    services = _services(policy)
    controls = changes.get("controls", policy.controls)
    clauses = changes.get("clauses", policy.clauses)
    modules = changes.get("modules", dict(policy.rego_modules))
    return load_french(root, controls, clauses, modules, services)  # type: ignore[arg-type]


def _french_copy(tmp_path: Path, old: str = "", new: str = "") -> Path:
    (tmp_path / FRENCH_FILE).parent.mkdir(parents=True)
    text = (POLICIES / FRENCH_FILE).read_text(encoding="utf-8")
    assert old in text
    (tmp_path / FRENCH_FILE).write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path


def test_the_shipped_policies_have_their_whole_french(policy: Policy) -> None:
    assert policy.french is not None
    assert french(policy.french, policy.controls[0].title) and french(policy.french, policy.clauses[0].quote)


def test_a_new_control_without_french_is_a_load_error_saying_what_to_add(tmp_path: Path, policy: Policy) -> None:
    root = _french_copy(tmp_path)
    new = dataclasses.replace(policy.controls[0], id=ControlId("DPA-RES-999"), title="Backups are kept in France",
                              help="Set the backup region to fr-par.")
    with pytest.raises(PolicyError) as raised:
        _load(root, policy, controls=(*policy.controls, new))
    line = raised.value.one_line()
    assert "no French under `texts:` for control DPA-RES-999 title, control DPA-RES-999 help; add" in line
    assert ('- {en: "Backups are kept in France", fr: "<en français>"} '
            '- {en: "Set the backup region to fr-par.", fr: "<en français>"}') in line


def test_a_changed_english_text_loses_its_french(tmp_path: Path, policy: Policy) -> None:
    root = _french_copy(tmp_path)
    clauses = list(policy.clauses)
    index = next(i for i, c in enumerate(clauses) if c.note)
    clauses[index] = dataclasses.replace(clauses[index], note=clauses[index].note + " Reworded.")
    with pytest.raises(PolicyError, match=re.escape(f"clause {clauses[index].id} note; add")):
        _load(root, policy, clauses=tuple(clauses))


def test_the_shipped_french_has_no_entry_nothing_shows(tmp_path: Path, policy: Policy) -> None:
    assert policy.french is not None
    assert unused(policy.french, policy.controls, policy.clauses, dict(policy.rego_modules), _services(policy)) == []
    root = _french_copy(tmp_path, "texts:\n", 'texts:\n  - en: "A control retired long ago"\n    fr: "Un contrôle retiré"\n')
    stale = _load(root, policy)
    assert isinstance(stale, Translation)
    assert unused(stale, policy.controls, policy.clauses, dict(policy.rego_modules), _services(policy)) == [
        "A control retired long ago"]


def test_a_rego_message_without_french_is_a_load_error_with_the_texts_missing_too(tmp_path: Path, policy: Policy) -> None:
    root = _french_copy(tmp_path)
    modules = dict(policy.rego_modules)
    modules["rego/extra.rego"] = 'package x\nm := sprintf("bucket %v is in %v", ["a", "b"])\n'
    new = dataclasses.replace(policy.controls[0], id=ControlId("DPA-RES-999"), title="Backups are kept in France", help="")
    with pytest.raises(PolicyError) as raised:
        _load(root, policy, modules=modules, controls=(*policy.controls, new))
    line = raised.value.one_line()
    assert 'no French under `texts:` for control DPA-RES-999 title; add - {en: "Backups are kept in France"' in line
    assert 'no French under `messages:` for rego/extra.rego\'s message; add - {en: "bucket %v is in %v"' in line


def test_a_message_whose_french_drops_a_value_is_refused(tmp_path: Path, policy: Policy) -> None:
    root = _french_copy(tmp_path, 'fr: "l\'ACL Redis admet Internet (%v)"', 'fr: "l\'ACL Redis admet Internet"')
    with pytest.raises(PolicyError, match=re.escape("`fr` must have as many %v as `en` (1)")):
        _load(root, policy)


def test_a_clause_without_its_french_heading_does_not_load(tmp_path: Path, policy: Policy) -> None:
    root = _french_copy(tmp_path)
    clauses = (dataclasses.replace(policy.clauses[0], title_fr=""), *policy.clauses[1:])
    with pytest.raises(PolicyError, match=re.escape(f"clauses ['{policy.clauses[0].id}'] have no `title_fr`")):
        _load(root, policy, clauses=clauses)


def test_the_load_of_the_policies_checks_the_french(tmp_path: Path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    path = root / FRENCH_FILE
    text = path.read_text(encoding="utf-8")
    entry = '  - en: "Database read replicas are in France"\n    fr: "Les réplicas en lecture des bases de données sont en France"\n'
    assert entry in text
    path.write_text(text.replace(entry, ""), encoding="utf-8")
    with pytest.raises(PolicyError, match=re.escape("control DPA-RES-004 title; add")):
        load_policy(root)


def test_a_section_that_quotes_nothing_needs_no_french_quote(tmp_path: Path, policy: Policy) -> None:
    root = _french_copy(tmp_path)
    apart = dataclasses.replace(policy.clauses[0], id="Gate integrity", quote="")  # shown apart from the clauses
    assert isinstance(_load(root, policy, clauses=(*policy.clauses, apart)), Translation)


def test_a_policy_set_without_french_loads_without_it(tmp_path: Path, policy: Policy) -> None:
    assert _load(tmp_path, policy) is None


def test_every_message_the_rego_tests_expect_reads_in_french(policy: Policy) -> None:
    assert rego_messages(dict(policy.rego_modules))  # the formats are found at all
    expected = set()
    for name, source in test_modules(POLICIES).items():
        if name.startswith("rego/lib/"):
            continue  # the helpers' tests pass made-up messages ("no tag")
        expected |= {json.loads(f'"{m}"') for m in re.findall(r'"message":\s*"((?:[^"\\]|\\.)*)"', source)}
    assert len(expected) > 50
    translated = {m: french(policy.french, m) for m in expected}
    assert sorted(m for m, fr in translated.items() if not fr) == []
    # a value the rule puts in its message ("none of its hosting sites is named ...") is French too
    assert {m: fr for m, fr in translated.items() if english_words(str(fr))} == {}


def test_checkovs_findings_read_in_french_its_check_names_as_code(policy: Policy) -> None:
    secret = "CKV_SECRET_2 cloud or service credential: AWS Access Key at infra/__main__.py:2 (value not shown)"
    assert french(policy.french, secret) == (
        "CKV_SECRET_2, identifiant de cloud ou de service : `AWS Access Key`, en infra/__main__.py:2 (valeur non affichée)")
    hygiene = "CKV_GHA_7 The build output cannot be affected by user parameters at .github/workflows/ci.yml:12"
    assert french(policy.french, hygiene) == (
        "CKV_GHA_7 `The build output cannot be affected by user parameters`, en .github/workflows/ci.yml:12")
    # "or" is not translated out of its phrase ("cloud ou service credential" once was)
    assert french(policy.french, "cloud or service credential") == "identifiant de cloud ou de service"
