"""Every string the HTML and Markdown reports print, in English and French, in one dictionary.

Clause ids are the English DPA's ("Appendix C §1.1"); `clause_label` gives them as the French DPA
numbers them ("Annexe C §1.1"; articles keep "Article 8.2"). Clause titles come from the ledger
(`title`, `title_fr`), not from here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

from dpaguard.model import Translation

LANGUAGES: tuple[str, ...] = ("en", "fr")

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "DPA compliance report",
        "scope": "Scope",
        "in_part": "in part (not every site of the place)",
        "lvl_mandatory": "mandatory",
        "lvl_advisory": "advisory",
        "lvl_disabled": "disabled",
        "source_line": "Source:",
        "fix": "Fix:",
        "scope_projects": "Pulumi project",
        "scope_commit": "Estate commit",
        "scope_modified": "work tree modified",
        "scope_no_commit_state": "not known: a stack export records no commit",
        "scope_program": "the program, rendered offline (what the program says, not what is deployed)",
        "scope_state": "a stack export written {time} by {version}",
        "scope_dpa": "DPA text sha256",
        "scope_dpa_missing": "DPA text not found (set DPAGUARD_DPA)",
        "scope_today": "Waivers judged on",
        "scope_report_id": "Report id (sha256 of the JSON report)",
        "scope_checker_commit": "run from commit",
        "stacks": "Stacks",
        "environments": "Environments",
        "stack": "Stack",
        "environment": "Environment",
        "source": "Source",
        "resources": "Resources",
        "mandatory": "Mandatory",
        "advisory": "Advisory",
        "waived": "Waived",
        "controls": "Controls",
        "control": "Control",
        "what_it_checks": "What it checks",
        "verdict_failed": "{n} mandatory finding(s): outside the DPA",
        "verdict_advisory": "No mandatory findings; {n} advisory",
        "verdict_passed": "Inside the DPA: no unwaived findings",
        "grid": "Clauses by stack",
        "grid_title": "DPA clauses by stack",
        "by_clause": "By DPA clause",
        "clause_summary": "Clause by clause",
        "outside": "Outside the DPA's clauses",
        "outside_intro": ("The gate's own integrity (its waivers, checkov findings no clause names) and inventory aids: "
                          "shown for the record, never counted towards a clause of the DPA."),
        "attested_by": "Attested by",
        "attested_line": "{document}, kept by {owner}, reviewed {date} (reference {reference})",
        "not_attested": "No attesting document is cited in the ledger (clauses.yaml attested_by): a person must attest it.",
        "clause": "Clause",
        "heading": "Heading",
        "evidence_grade": "Evidence",
        "status": "Status",
        "examined": "Resources examined",
        "quote": "The DPA says",
        "failed_findings": "Violations",
        "undetermined_findings": "Undetermined: the gate could not decide",
        "waived_findings": "Waived",
        "resource": "Resource",
        "level": "Level",
        "finding": "Finding",
        "reason": "Reason",
        "approver": "Approver",
        "expires": "Expires",
        "not_examined_note": "No control examined a resource for this clause in this run: it is not shown kept.",
        "partly_verified_note": "Nothing was found, but not every part of this clause was verified: the parts below say which, and why.",
        "parts": "Parts of the promise",
        "part": "Part",
        "why": "Why not verified",
        "files": "files",
        "examined_total": "Resources examined",
        "quote_language": "DPA text (English)",
        "translation_note": "",
        "organisational_note": "Infrastructure cannot show this clause; it rests on the processor's organisation.",
        "not_covered_note": "Infrastructure could show this clause, but no control checks it yet.",
        "inventory": "Inventory",
        "inventory_intro": "What the evaluated stacks actually use, against Appendix B and Appendix C §1.2.",
        "subprocessors": "Sub-processors",
        "subprocessor": "Sub-processor",
        "listed": "In Appendix B",
        "service": "Service (Appendix B)",
        "country": "Country",
        "total": "Total",
        "listed_unused": "Listed in Appendix B, used by no evaluated stack",
        "locations": "Hosting locations",
        "location": "Location",
        "site": "Hosting site",
        "named": "Named in Appendix C §1.2",
        "sites_unused": "Hosting sites named in Appendix C §1.2 that no resource is known to use",
        "yes": "yes",
        "no": "no",
        "unknown": "unknown",
        "none": "none",
        "stages": "What ran",
        "stage": "Stage",
        "ran": "ran",
        "not_run": "not run",
        "evidence": "Evidence",
        "tool": "Tool",
        "policy_digest": "Policy digest",
        "engine": "Engine",
        "git_commit": "Git commit",
        "checker_commit": "Commit dpaguard ran from (not the estate's: a stack export records none)",
        "checker_versions": "Versions in dpaguard's environment (not the estate's)",
        "work_tree": "Work tree",
        "clean": "clean (the commit as recorded)",
        "modified": "modified: not the commit alone; sha256 of the modification",
        "not_git": "not a git work tree",
        "generated": "Generated",
        "versions": "Versions",
        "deployment_digest": "deployment sha256",
        "config_digest": "config sha256",
        "not_available": "not available",
        "not_recorded": "not recorded",
        "no_config_file": "no config file",
        "signoff": "Sign-off",
        "signoff_intro": "Reviewed against the Data Processing Agreement by:",
        "name": "Name",
        "role": "Role",
        "date": "Date",
        "signature": "Signature",
        "project_files": "project files",
        "notes": "Notes",
        "st_failed": "failed (mandatory)",
        "st_advisory": "advisory findings",
        "st_undetermined": "undetermined",
        "st_partly-verified": "partly verified",
        "st_waived": "waived",
        "st_passed": "passed",
        "st_not-examined": "not examined",
        "st_organisational": "organisational",
        "st_not-covered": "not covered",
        "gr_verified-deployed": "verified on the deployed state (stack export)",
        "gr_verified-program": "verified on the program (rendered, not deployed)",
        "gr_verified-code": "verified in code",
        "gr_declared": "declared",
        "gr_organisational": "organisational",
        "gr_not-covered": "not covered",
        "gr_unmapped": "not in the clause ledger",
        "stage_render": "render the programs offline",
        "stage_state": "read stack exports",
        "stage_rego": "Rego controls",
        "stage_checkov": "checkov (secrets, CI and Dockerfile hygiene)",
        "stage_baseline": "ratchet against a baseline report (Article 5.1)",
        "stage_credentials": "Scaleway and DataPacket credentials in the project's files",
        "md_clauses": "By DPA clause",
        "md_inventory": "Inventory",
        "md_stages": "What ran",
        "md_failed": "❌ {n} mandatory finding(s) block this change",
        "md_advisory": "⚠️ no mandatory findings, {n} advisory",
        "md_passed": "✅ inside the DPA: no unwaived findings",
        "md_findings": "Findings",
        "md_waived": "Waived",
        "md_note": "Note:",
        "md_more": "{n} more not shown; see the JSON or SARIF report.",
        "md_severity": "Severity",
        "md_message": "Message",
        "md_policy": "policy",
        "no_french": "",
        "colon": ": ",
        "sites_or": " or ",
        "sev_critical": "critical",
        "sev_high": "high",
        "sev_medium": "medium",
        "sev_low": "low",
        "src_program": "program",
        "src_state": "state",
    },
    "fr": {
        "title": "Rapport de vérification au regard de l'accord de traitement des données",
        "scope": "Périmètre",
        "in_part": "en partie (pas tous les sites du lieu)",
        "lvl_mandatory": "bloquant",
        "lvl_advisory": "non bloquant",
        "lvl_disabled": "désactivé",
        "source_line": "Source :",
        "fix": "Correction :",
        "scope_projects": "Projet Pulumi",
        "scope_commit": "Commit du parc",
        "scope_modified": "arbre de travail modifié",
        "scope_no_commit_state": "inconnu : un export de stack n'enregistre aucun commit",
        "scope_program": "le programme, rendu hors ligne (ce que dit le programme, non ce qui est déployé)",
        "scope_state": "un export de stack écrit le {time} par {version}",
        "scope_dpa": "sha256 du texte de l'accord",
        "scope_dpa_missing": "texte de l'accord introuvable (définir DPAGUARD_DPA)",
        "scope_today": "Dérogations évaluées au",
        "scope_report_id": "Identifiant du rapport (sha256 du rapport JSON)",
        "scope_checker_commit": "exécuté depuis le commit",
        "stacks": "Stacks",
        "environments": "Environnements",
        "stack": "Stack",
        "environment": "Environnement",
        "source": "Source",
        "resources": "Ressources",
        "mandatory": "Écarts bloquants",
        "advisory": "Écarts non bloquants",
        "waived": "Dérogations",
        "controls": "Contrôles",
        "control": "Contrôle",
        "what_it_checks": "Ce qu'il vérifie",
        "verdict_failed": "{n} écart(s) bloquant(s) : hors de l'accord",
        "verdict_advisory": "Aucun écart bloquant ; {n} écart(s) non bloquant(s)",
        "verdict_passed": "Aucun écart sans dérogation au regard des contrôles exécutés",
        "grid": "Clauses par stack",
        "grid_title": "Clauses de l'accord par stack",
        "by_clause": "Par clause de l'accord",
        "clause_summary": "Clause par clause",
        "outside": "En dehors des clauses de l'accord",
        "outside_intro": ("L'intégrité du contrôle lui-même (ses dérogations, les constats checkov qu'aucune clause ne vise) "
                          "et les aides à l'inventaire : présentées pour mémoire, jamais comptées pour une clause de l'accord."),
        "attested_by": "Attesté par",
        "attested_line": "{document}, tenu par {owner}, revu le {date} (référence {reference})",
        "not_attested": "Aucun document attestant n'est cité au registre (clauses.yaml attested_by) : une personne doit l'attester.",
        "clause": "Clause",
        "heading": "Intitulé",
        "evidence_grade": "Preuve",
        "status": "État",
        "examined": "Ressources examinées",
        "quote": "L'accord stipule",
        "failed_findings": "Écarts",
        "undetermined_findings": "Indéterminés : le contrôle n'a pas pu conclure",
        "waived_findings": "Sous dérogation",
        "resource": "Ressource",
        "level": "Niveau",
        "finding": "Écart",
        "reason": "Motif",
        "approver": "Approbateur",
        "expires": "Expire le",
        "not_examined_note": "Aucun contrôle n'a examiné de ressource pour cette clause : elle n'est pas démontrée.",
        "partly_verified_note": "Aucun écart relevé, mais certaines parties de cette clause n'ont pas été vérifiées : le tableau ci-dessous dit lesquelles, et pourquoi.",
        "parts": "Parties de l'engagement",
        "part": "Partie",
        "why": "Motif de non-vérification",
        "files": "fichiers",
        "examined_total": "Ressources examinées",
        "quote_language": "Texte de l'accord (anglais)",
        "translation_note": "† Traduction du projet : aucune version française de l'accord ne figure dans le dépôt ; les intitulés et les citations en français sont traduits par le projet, et seul le texte signé en anglais fait foi (il apparaît au survol de chaque citation).",
        "organisational_note": "L'infrastructure ne peut pas démontrer cette clause ; elle relève de l'organisation du sous-traitant.",
        "not_covered_note": "L'infrastructure pourrait démontrer cette clause, mais aucun contrôle ne la vérifie encore.",
        "inventory": "Inventaire",
        "inventory_intro": "Ce que les stacks évaluées utilisent réellement, au regard de l'Annexe B et de l'Annexe C §1.2.",
        "subprocessors": "Sous-traitants ultérieurs",
        "subprocessor": "Sous-traitant ultérieur",
        "listed": "À l'Annexe B",
        "service": "Prestation (Annexe B)",
        "country": "Pays",
        "total": "Total",
        "listed_unused": "Listés à l'Annexe B, utilisés par aucune stack évaluée",
        "locations": "Lieux d'hébergement",
        "location": "Lieu",
        "site": "Site d'hébergement",
        "named": "Nommé à l'Annexe C §1.2",
        "sites_unused": "Sites nommés à l'Annexe C §1.2 qu'aucune ressource connue n'utilise",
        "yes": "oui",
        "no": "non",
        "unknown": "inconnu",
        "none": "aucun",
        "stages": "Étapes exécutées",
        "stage": "Étape",
        "ran": "exécutée",
        "not_run": "non exécutée",
        "evidence": "Éléments de preuve",
        "tool": "Outil",
        "policy_digest": "Empreinte des politiques",
        "engine": "Moteur",
        "git_commit": "Commit git",
        "checker_commit": "Commit depuis lequel dpaguard a été exécuté (pas celui du parc : un export de stack n'en enregistre aucun)",
        "checker_versions": "Versions de l'environnement de dpaguard (pas celles du parc)",
        "work_tree": "Arbre de travail",
        "clean": "propre (le commit tel qu'enregistré)",
        "modified": "modifié : pas le seul commit ; sha256 de la modification",
        "not_git": "pas un arbre de travail git",
        "generated": "Généré le",
        "versions": "Versions",
        "deployment_digest": "sha256 du déploiement",
        "config_digest": "sha256 de la configuration",
        "not_available": "non disponible",
        "not_recorded": "non enregistré",
        "no_config_file": "pas de fichier de configuration",
        "signoff": "Validation",
        "signoff_intro": "Revu au regard de l'accord de traitement des données par :",
        "name": "Nom",
        "role": "Fonction",
        "date": "Date",
        "signature": "Signature",
        "project_files": "fichiers du projet",
        "notes": "Remarques",
        "st_failed": "écart bloquant",
        "st_advisory": "écarts non bloquants",
        "st_undetermined": "indéterminée",
        "st_partly-verified": "partiellement vérifiée",
        "st_waived": "sous dérogation",
        "st_passed": "vérifiée",
        "st_not-examined": "non examinée",
        "st_organisational": "organisationnelle",
        "st_not-covered": "non couverte",
        "gr_verified-deployed": "vérifiée sur l'état déployé (export de stack)",
        "gr_verified-program": "vérifiée sur le programme (rendu, non déployé)",
        "gr_verified-code": "vérifiée dans le code",
        "gr_declared": "déclarée",
        "gr_organisational": "organisationnelle",
        "gr_not-covered": "non couverte",
        "gr_unmapped": "absente du registre des clauses",
        "stage_render": "rendu des programmes hors ligne",
        "stage_state": "lecture des exports de stack",
        "stage_rego": "contrôles Rego",
        "stage_checkov": "checkov (secrets, hygiène CI et Dockerfile)",
        "stage_baseline": "contrôle de non-régression par rapport à un rapport de référence (Article 5.1)",
        "stage_credentials": "identifiants Scaleway et DataPacket dans les fichiers du projet",
        "md_clauses": "Par clause de l'accord",
        "md_inventory": "Inventaire",
        "md_stages": "Étapes exécutées",
        "md_failed": "❌ {n} écart(s) bloquant(s) : ce changement est bloqué",
        "md_advisory": "⚠️ aucun écart bloquant, {n} écart(s) non bloquant(s)",
        "md_passed": "✅ aucun écart sans dérogation au regard des contrôles exécutés",
        "md_findings": "Écarts",
        "md_waived": "Sous dérogation",
        "md_note": "Remarque :",
        "md_more": "{n} de plus non affichés ; voir le rapport JSON ou SARIF.",
        "md_severity": "Gravité",
        "md_message": "Message",
        "md_policy": "politiques",
        "colon": " : ",
        "sites_or": " ou ",
        "ctl_undetermined": "indéterminé",
        "ctl_passed": "vérifié",
        "ctl_not-examined": "non examiné",
        "no_french": "Ce jeu de politiques n'a pas de traduction française (dpa/i18n/fr.yaml) : les intitulés des contrôles, les citations, les notes et les messages des écarts restent en anglais.",
        "sev_critical": "gravité critique",
        "sev_high": "gravité élevée",
        "sev_medium": "gravité moyenne",
        "sev_low": "gravité faible",
        "src_program": "programme",
        "src_state": "état déployé",
    },
}


# The changes section (--baseline) and the sign-off (issue 22 §5, §7), kept apart so the two can be read together.
CHANGES_AND_SIGNOFF: dict[str, dict[str, str]] = {
    "en": {
        "changes": "Changes since the last report",
        "changes_baseline": "Compared with the report {baseline} ({when}).",
        "changes_none": "Nothing changed since that report.",
        "changes_gate": "A regression still fails the gate: one DPA-RAT-001 finding per stack names the controls that "
                        "passed then and fail now; their own findings are listed once, under their clauses.",
        "changes_waivers_unrecorded": "That report lists no waivers (it predates waiver records): waiver changes are not shown.",
        "changes_none_run": "No earlier report was given (--baseline): changes are not shown.",
        "change": "Change",
        "subject": "Control or clause",
        "before": "Before",
        "after": "Now",
        "chg_new": "new finding",
        "chg_fixed": "fixed finding",
        "chg_regressed": "regressed control",
        "chg_waiver-added": "waiver added",
        "chg_waiver-removed": "waiver removed",
        "chg_waiver-expired": "waiver expired",
        "chg_waiver-changed": "waiver changed",
        "chg_clause-added": "clause added to the ledger",
        "chg_clause-removed": "clause removed from the ledger",
        "chg_clause-changed": "clause changed in the ledger",
        "chg_control-added": "control added",
        "chg_control-removed": "control removed",
        "chg_control-changed": "control changed",
        "attestation": "I have reviewed this report, id {report_id}, against the Data Processing Agreement. I accept the "
                       "exceptions listed below until their expiry. Every other clause stands as the report shows it; "
                       "clauses shown as organisational, not covered, not examined or partly verified rest on evidence "
                       "outside this report.",
        "exceptions": "Accepted exceptions (waivers in force on {today})",
        "no_exceptions": "No waiver is in force: no exception is accepted.",
        "approved": "Approved",
        "reference": "Reference",
        "compensating": "Compensating measures",
        "running_header": "dpaguard · DPA compliance report · id {report_id}",
        "page_of": "Page {page} of {pages}",
    },
    "fr": {
        "changes": "Changements depuis le rapport précédent",
        "changes_baseline": "Comparaison avec le rapport {baseline} ({when}).",
        "changes_none": "Rien n'a changé depuis ce rapport.",
        "changes_gate": "Une régression bloque toujours le contrôle : un écart DPA-RAT-001 par stack nomme les contrôles "
                        "conformes alors et en écart aujourd'hui ; leurs propres écarts ne figurent qu'une fois, sous leurs clauses.",
        "changes_waivers_unrecorded": "Ce rapport ne liste pas ses dérogations (il est antérieur à leur enregistrement) : "
                                      "leurs changements ne sont pas présentés.",
        "changes_none_run": "Aucun rapport antérieur n'a été fourni (--baseline) : les changements ne sont pas présentés.",
        "change": "Changement",
        "subject": "Contrôle ou clause",
        "before": "Avant",
        "after": "Maintenant",
        "chg_new": "nouvel écart",
        "chg_fixed": "écart corrigé",
        "chg_regressed": "contrôle en régression",
        "chg_waiver-added": "dérogation ajoutée",
        "chg_waiver-removed": "dérogation retirée",
        "chg_waiver-expired": "dérogation expirée",
        "chg_waiver-changed": "dérogation modifiée",
        "chg_clause-added": "clause ajoutée au registre",
        "chg_clause-removed": "clause retirée du registre",
        "chg_clause-changed": "clause modifiée dans le registre",
        "chg_control-added": "contrôle ajouté",
        "chg_control-removed": "contrôle retiré",
        "chg_control-changed": "contrôle modifié",
        "attestation": "J'ai examiné ce rapport, identifiant {report_id}, au regard de l'accord de traitement des données. "
                       "J'accepte les dérogations listées ci-dessous jusqu'à leur échéance. Les autres clauses sont telles "
                       "que le rapport les présente ; celles indiquées comme organisationnelles, non couvertes, non examinées "
                       "ou partiellement vérifiées reposent sur des éléments extérieurs à ce rapport.",
        "exceptions": "Dérogations acceptées (en vigueur le {today})",
        "no_exceptions": "Aucune dérogation n'est en vigueur : aucune exception n'est acceptée.",
        "approved": "Approuvée le",
        "reference": "Référence",
        "compensating": "Mesures compensatoires",
        "running_header": "dpaguard · rapport de conformité à l'accord de traitement · identifiant {report_id}",
        "page_of": "Page {page} sur {pages}",
    },
}


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
