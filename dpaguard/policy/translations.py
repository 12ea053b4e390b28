"""The French text of what the policy set shows a reader (policies/dpa/i18n/fr.yaml), complete or not loaded.

The file pairs each English text with the project's French, `en` beside `fr`, so a reviewer reads
both in one diff, and a changed English text no longer finds its French: a changed title, quote
or note is a load error until its French is changed with it. Three lists:

  texts     the catalogue's and the ledger's words: control titles, fixes and categories; clause
            quotes (translated by the project: the French report marks them so), notes, parts and
            why a part is not shown; Appendix B's services. Looked up whole.
  messages  the Rego rules' finding messages: `en` is the rule's sprintf format (or its literal
            message) exactly, `%v` where a value goes; `fr` has the same `%v`s in the same order.
  program   the texts dpaguard's own Python makes (stage details, notices, the messages of its own
            controls and of checkov's), as templates like `messages`.

Load fails closed: an English text of controls.yaml or clauses.yaml, or a Rego message, without its
French is an error naming exactly the entry to add. A `texts` or `messages` entry nothing shows any
more (its English changed or went) is `unused`: a test keeps the shipped file free of them, while a
policy set edited down (a control removed in a copy) still loads. Finding messages are translated by template, not by giving each Rego message an id and
parameters: the rules, their tests and the decision shape stay as they are, and the format string a
rule writes is the key, which a load check can compare with the Rego source word for word.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable

from dpaguard.errors import PolicyError
from dpaguard.model import Clause, Control, Translation
from dpaguard.policy.yaml_lines import located, line_of, read_yaml

FRENCH_FILE = Path("dpa") / "i18n" / "fr.yaml"
_LISTS = ("texts", "messages", "program")

_STRING = r'"((?:[^"\\]|\\.)*)"'
# A rule's message: a sprintf format, the literal message of result.violation/undetermined/config_violation, or `msg := "..."`.
_REGO_MESSAGES = (
    re.compile(r"\bsprintf\(\s*" + _STRING),
    re.compile(r"\bresult\.(?:violation|undetermined)\(\s*\"[^\"]*\"\s*,\s*\w+\s*,\s*" + _STRING + r"\s*\)"),
    re.compile(r"\bresult\.config_violation\(\s*\"[^\"]*\"\s*,\s*\w+\s*,\s*\"[^\"]*\"\s*,\s*" + _STRING + r"\s*\)"),
    re.compile(r"\b(?:msg|message)\s*:=\s*" + _STRING),
    re.compile(r"\bcontains\s*\[\s*\w+\s*,\s*\"[^\"]*\"\s*,\s*\"[^\"]*\"\s*,\s*" + _STRING + r"\s*\]"),  # [key, control, status, message]
)


def _one_line(text: object) -> str:
    return " ".join(str(text or "").split())


def rego_messages(modules: dict[str, str]) -> dict[str, str]:
    """Every message format the Rego modules write, with the module that writes it first."""
    found: dict[str, str] = {}
    for name, source in sorted(modules.items()):
        for pattern in _REGO_MESSAGES:
            for match in pattern.finditer(source):
                found.setdefault(_one_line(json.loads(f'"{match[1]}"')), name)
    return found


def shown_texts(controls: Iterable[Control], clauses: Iterable[Clause],
                services: Iterable[str] = ()) -> dict[str, str]:
    """Every English text of the catalogue and the ledger a report shows, with where it comes from."""
    texts: dict[str, str] = {}
    for control in controls:
        texts.setdefault(_one_line(control.title), f"control {control.id} title")
        if control.help:
            texts.setdefault(_one_line(control.help), f"control {control.id} help")
        texts.setdefault(control.category, f"control {control.id} category")
    for clause in clauses:
        if clause.quote:  # a section the report shows apart from the DPA's clauses quotes nothing
            texts.setdefault(clause.quote, f"clause {clause.id} quote")
        if clause.note:
            texts.setdefault(clause.note, f"clause {clause.id} note")
        for part in clause.parts:
            texts.setdefault(part.what, f"clause {clause.id} part")
            if part.why:
                texts.setdefault(part.why, f"clause {clause.id} part's why")
    for service in services:
        if service:
            texts.setdefault(_one_line(service), "Appendix B service")
    return texts


def _pairs(document: dict[str, Any], key: str, path: Path) -> list[tuple[str, str, int | None]]:
    raw = document.get(key) or []
    if not isinstance(raw, list):
        raise PolicyError(f"{path}: `{key}` must be a list of {{en, fr}} entries")
    pairs: list[tuple[str, str, int | None]] = []
    for entry in raw:
        if not isinstance(entry, dict) or set(entry) != {"en", "fr"} or not all(
                isinstance(entry[k], str) and entry[k].strip() for k in ("en", "fr")):
            raise PolicyError(f"{located(path, line_of(entry))}: `{key}`: each entry has a non-empty `en` and `fr`, nothing else")
        en, fr = _one_line(entry["en"]), _one_line(entry["fr"])
        if key != "texts" and en.count("%v") != fr.count("%v"):
            raise PolicyError(f"{located(path, line_of(entry))}: `{key}`: `fr` must have as many %v as `en` ({en.count('%v')})")
        if any(en == seen for seen, _, _ in pairs):
            raise PolicyError(f"{located(path, line_of(entry))}: `{key}`: {json.dumps(en, ensure_ascii=False)} is there twice")
        pairs.append((en, fr, line_of(entry)))
    return pairs


def _to_add(missing: dict[str, str]) -> str:
    entries = " ".join("- {en: " + json.dumps(en, ensure_ascii=False) + ', fr: "<en français>"}' for en in missing)
    return f"{', '.join(dict.fromkeys(missing.values()))}; add {entries}"


def load_french(root: Path, controls: Iterable[Control], clauses: Iterable[Clause], modules: dict[str, str],
                services: Iterable[str] = ()) -> Translation | None:
    """The policy set's French (policies/dpa/i18n/fr.yaml); None when it has none. PolicyError naming every missing entry."""
    path = root / FRENCH_FILE
    if not path.exists():
        return None
    document = read_yaml(path)
    if not isinstance(document, dict) or set(document) - set(_LISTS):
        raise PolicyError(f"{path}: expected a mapping of {list(_LISTS)}")
    texts, messages, program = (_pairs(document, key, path) for key in _LISTS)
    controls, clauses = list(controls), list(clauses)
    untitled = [c.id for c in clauses if not c.title_fr]
    if untitled:
        raise PolicyError(f"{root / 'dpa' / 'clauses.yaml'}: clauses {untitled} have no `title_fr` (the project's French heading)")
    wanted_texts = shown_texts(controls, clauses, services)
    wanted_messages = rego_messages(modules)
    faults = []  # every missing entry at once: a merge that adds controls and rules learns all it owes in one run
    for key, pairs, wanted in (("texts", texts, wanted_texts), ("messages", messages, wanted_messages)):
        have = {en for en, _, _ in pairs}
        missing = {en: (f"{where}'s message" if key == "messages" else where) for en, where in wanted.items() if en not in have}
        if missing:
            faults.append(f"no French under `{key}:` for {_to_add(missing)}")
    if faults:
        raise PolicyError(f"{path}: {'; '.join(faults)}")
    return Translation(
        texts={en: fr for en, fr, _ in texts},
        templates=tuple((en, fr) for en, fr, _ in messages + program),
        sourced=frozenset(en for en, _, _ in texts + messages),
    )


def unused(translation: Translation, controls: Iterable[Control], clauses: Iterable[Clause], modules: dict[str, str],
           services: Iterable[str] = ()) -> list[str]:
    """The English of the `texts` and `messages` entries nothing shows any more (their English changed or went)."""
    wanted = set(shown_texts(controls, clauses, services)) | set(rego_messages(modules))
    return sorted(translation.sourced - wanted)
