"""The clause ledger (policies/dpa/clauses.yaml): every DPA heading has an entry, every quote is the DPA's
words, and the ledger and the catalogue agree on which control enforces which clause."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from support import POLICIES, REPO
from dpaguard.errors import PolicyError
from dpaguard.policy import load_policy
from dpaguard.report._shared import cited_clauses


def dpa_text() -> str:
    """The DPA, from DPAGUARD_DPA or ../shared/dpa/ beside the repository; the user's document, so skipped when absent."""
    path = Path(os.environ.get("DPAGUARD_DPA") or REPO.parent / "shared" / "dpa" / "data-processing-agreement.txt")
    if not path.is_file():
        pytest.skip(f"the DPA text is not here ({path}; set DPAGUARD_DPA): it is the user's document, not the repository's")
    return path.read_text(encoding="utf-8")


def dpa_headings(text: str) -> list[str]:
    """Every article, numbered paragraph and appendix section the DPA text heads, as the ledger names them."""
    headings: list[str] = []
    appendix: str | None = None
    body = text.split("THIS DATA PROCESSING AGREEMENT IS CONCLUDED BETWEEN:", 1)[1]  # past the table of contents
    for line in body.splitlines():
        if match := re.match(r"^APPENDIX ([A-Z]):", line):
            appendix = match.group(1)
            headings.append(f"Appendix {appendix}")
        elif match := re.match(r"^(\d+)\.(\d+) \S", line):
            number = f"{match.group(1)}.{match.group(2)}"
            headings.append(f"Appendix {appendix} §{number}" if appendix else f"Article {number}")
        elif match := re.match(r"^(\d+)\. [A-Z][A-Z &,:()]+$", line):
            headings.append(f"Appendix {appendix} §{match.group(1)}" if appendix else f"Article {match.group(1)}")
    return headings


def test_the_dpa_headings_are_found() -> None:
    headings = dpa_headings(dpa_text())
    # The parser must see what a reader sees, or the next test proves nothing.
    for expected in ("Article 1", "Article 2.4", "Article 6", "Article 15", "Appendix A", "Appendix B",
                     "Appendix C §1.1", "Appendix C §1.4", "Appendix C §8.2", "Appendix C §10"):
        assert expected in headings, expected
    assert len(headings) >= 45


def test_every_dpa_heading_has_a_ledger_entry() -> None:
    ledger = {c.id for c in load_policy(POLICIES).clauses}
    # A heading with numbered parts (Article 2, Appendix C, Appendix C §1) is covered by its parts.
    missing = [h for h in dpa_headings(dpa_text())
               if h not in ledger and not any(i.startswith((h + ".", h + " §")) for i in ledger)]
    assert not missing, f"DPA clauses without a ledger entry in policies/dpa/clauses.yaml: {missing}"


def test_every_ledger_entry_is_a_dpa_heading_and_quotes_it_exactly() -> None:
    text = dpa_text()
    headings = set(dpa_headings(text))
    flat = " ".join(text.split())
    for clause in (c for c in load_policy(POLICIES).clauses if not c.outside):
        assert clause.id in headings, f"{clause.id}: not a heading of the DPA"
        assert not any(h.startswith((clause.id + ".", clause.id + " §")) for h in headings), (
            f"{clause.id}: the DPA numbers its parts; the ledger must list each part instead")
        assert clause.quote in flat, f"{clause.id}: the quote is not the DPA's words: {clause.quote!r}"


def test_ledger_and_catalogue_agree() -> None:
    policy = load_policy(POLICIES)
    ledger = {c.id: c for c in policy.clauses}
    catalogue = {str(c.id) for c in policy.controls}
    for control in policy.controls:
        for cited in cited_clauses(control.clause):
            assert cited in ledger, f"{control.id} cites {cited}, which is not in the ledger"
            assert control.id in ledger[cited].controls, f"{control.id} cites {cited} but the ledger does not list it there"
    for clause in policy.clauses:
        assert set(clause.controls) <= catalogue, clause.id
        for control_id in clause.controls:
            assert clause.id in cited_clauses(policy.control(control_id).clause), (
                f"the ledger lists {control_id} under {clause.id} but the control does not cite it")
        if clause.status in ("organisational", "not-covered"):
            assert not clause.controls, clause.id
        else:
            assert clause.controls, clause.id
    # Every control of the catalogue is accounted for under at least one clause.
    assert {str(c) for clause in policy.clauses for c in clause.controls} == catalogue


# What each control cites, as the DPA text supports it (issue 13). A change to a citation is a change here.
CITATIONS = {
    "DPA-RES-001": ["Appendix C §1.1"],  # nl-ams and pl-waw are in the EEA: no Article 8.2 transfer
    "DPA-RES-002": ["Appendix C §1.1"],
    "DPA-WAI-001": ["Gate integrity"],  # the tool's own waivers: no clause of the DPA, shown apart (issue 22 §9)
    "DPA-WAI-002": ["Gate integrity"],
    "DPA-WAI-003": ["Gate integrity"],
    "DPA-HYG-099": ["Gate integrity"],  # checkov families no clause names
    "DPA-SEG-002": ["Inventory aids"],  # a tag separates nothing: not Appendix C §6
    "DPA-ACC-003": ["Appendix C §8.1", "Article 5.1"],  # the stores' exposure, not staff access (Article 3.2)
    "DPA-ACC-004": ["Appendix C §8.1", "Article 5.1"],
    "DPA-ACC-005": ["Appendix C §8.1", "Article 5.1"],
    "DPA-HYG-002": ["Article 5.1"],  # Dockerfile hygiene is not §7's patching
    "DPA-ACC-002": ["Appendix C §8.1"],  # firewalling, SSH tunnels; §9 is the client's user classes
    "DPA-ACC-006": ["Appendix C §8.1"],
    "DPA-ACC-007": ["Article 3.2", "Appendix C §4"],  # staff who strictly need access; access needs of employees
    "DPA-ACC-008": ["Article 5.1"],
    "DPA-SEC-001": ["Article 5.1"],  # §5 is password hashing in the application
    "DPA-SEC-002": ["Article 5.1"],
    "DPA-SEC-101": ["Article 5.1"],
    "DPA-SEC-103": ["Article 5.1"],
    "DPA-SUB-001": ["Article 4.3", "Appendix B"],  # 4.1 is the written agreement with each sub-processor
    "DPA-SUB-002": ["Appendix B"],
    "DPA-SUB-006": ["Article 4.3"],  # the notice of Article 4.3, undetermined where Appendix B gives no dates
    "DPA-BAK-001": ["Appendix C §8.1"],  # §1.3 is a business continuity *plan*
    "DPA-BAK-004": ["Appendix C §8.1"],  # "database clusters"; §1.3 is a business continuity *plan*
    "DPA-BAK-005": ["Article 5.1"],  # versioning is protection against accidental loss, not §8.1's backups
    "DPA-RET-002": ["Appendix A"],  # Article 8.3 is deletion at termination, not age-based expiry
    "DPA-RET-003": ["Appendix A"],
    "DPA-HYG-001": ["Article 5.1"],  # CI workflow hygiene is not §7's patching
    "DPA-RAT-001": ["Article 5.1", "Article 5.2"],
    "DPA-SUB-007": ["Article 4.3"],
    "DPA-RES-006": ["Appendix C §1.2"],
    "DPA-RES-007": ["Appendix C §1.2"],
    "DPA-RET-006": ["Appendix A"],  # "does not store transactional email history"
    "DPA-TLS-009": ["Appendix C §2"],  # SRTP for voice; RTP open to carriers is a necessary flow (§8.1)
    "DPA-ACC-012": ["Appendix C §8.1"],  # firewalling only the necessary flows
}


def test_retired_controls_are_out_of_the_catalogue_with_a_reason() -> None:
    policy = load_policy(POLICIES)
    assert "DPA-SUB-004" in policy.retired and "inventory" in policy.retired["DPA-SUB-004"]
    assert not any(c.id == "DPA-SUB-004" for c in policy.controls)


def test_bak_004_binds_production_only_and_bak_005_is_advisory() -> None:
    policy = load_policy(POLICIES)
    assert policy.control("DPA-BAK-004").enforcement == {"prod": "mandatory", "staging": "disabled", "dev": "disabled"}
    assert set(policy.control("DPA-BAK-005").enforcement.values()) == {"advisory"}
    assert "not a backup" in policy.control("DPA-BAK-005").description


@pytest.mark.parametrize("control", sorted(CITATIONS))
def test_control_cites_what_its_clause_says(control: str) -> None:
    assert cited_clauses(load_policy(POLICIES).control(control).clause) == CITATIONS[control]


def test_no_control_cites_a_clause_the_gate_cannot_show() -> None:
    policy = load_policy(POLICIES)
    unshowable = {c.id for c in policy.clauses if c.status in ("organisational", "not-covered")}
    for control in policy.controls:
        assert not set(cited_clauses(control.clause)) & unshowable, control.id
    for clause in ("Article 7", "Article 8.2", "Appendix C §1.3", "Appendix C §5", "Appendix C §9"):
        assert clause in unshowable, clause


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    return root


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("    status: organisational\n    controls: []\n", "    status: organisational\n    controls: [DPA-RES-001]\n",
     "a clause whose status is organisational has no controls"),
    ("controls: [DPA-RET-001]\n", "controls: [DPA-XYZ-999]\n", "not in the catalogue"),
    ("status: declared\n", "status: proven\n", "status `proven` is not one of"),
    ("  - id: Article 1\n", "  - id: Article 1\n    colour: red\n", "unknown keys"),
])
def test_a_malformed_ledger_is_refused_with_its_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    root = _copy(tmp_path)
    path = root / "dpa" / "clauses.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PolicyError, match=re.escape(expected)) as raised:
        load_policy(root)
    assert re.search(r"clauses\.yaml:\d+: clause ", str(raised.value)), str(raised.value)


def test_the_ledger_is_part_of_the_policy_digest(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    before = load_policy(root).sha256
    path = root / "dpa" / "clauses.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Audits may be conducted", "Audits may  be conducted"),
                    encoding="utf-8")
    assert load_policy(root).sha256 != before


_ATTESTED = ("  - id: Article 7\n    title: Audits\n    title_fr: Audits\n"
             "    quote: Audits may be conducted no more than once per year per Client\n    status: organisational\n")


def test_an_organisational_clause_cites_its_attesting_document(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "dpa" / "clauses.yaml"
    text = path.read_text(encoding="utf-8")
    assert _ATTESTED in text
    path.write_text(text.replace(_ATTESTED, _ATTESTED + "    attested_by: {document: Audit procedure, owner: CISO, "
                                 "date: 2026-10-01, reference: SEC-PROC-7}\n"), encoding="utf-8")
    seven = {c.id: c for c in load_policy(root).clauses}["Article 7"]
    assert seven.attestation is not None
    assert (seven.attestation.owner, seven.attestation.date, seven.attestation.reference) == ("CISO", "2026-10-01", "SEC-PROC-7")


@pytest.mark.parametrize(("attestation", "expected"), [
    ("{document: Audit procedure, owner: CISO, date: 2026-10-01}", "gives exactly"),  # no reference
    ("{document: Audit procedure, owner: CISO, date: soon, reference: SEC-7}", "must be a date (YYYY-MM-DD)"),
    ("{document: Audit procedure, owner: CISO, date: '2026-13-01', reference: SEC-7}", "must be a date (YYYY-MM-DD)"),
    ("{document: Audit procedure, owner: CISO, date: '1 Oct 2026', reference: SEC-7}", "must be a date (YYYY-MM-DD)"),
    ("{document: Audit procedure, owner: '  ', date: 2026-10-01, reference: SEC-7}", "needs a non-empty owner"),
    ("{document: Audit procedure, owner: CISO, date: 2026-10-01, reference: SEC-7, colour: red}", "gives exactly"),
    ("SEC-PROC-7", "gives exactly"),
])
def test_a_malformed_attestation_is_a_load_error(tmp_path: Path, attestation: str, expected: str) -> None:
    root = _copy(tmp_path)
    path = root / "dpa" / "clauses.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(_ATTESTED, _ATTESTED + f"    attested_by: {attestation}\n"), encoding="utf-8")
    with pytest.raises(PolicyError, match=re.escape(expected)) as raised:
        load_policy(root)
    assert re.search(r"clauses\.yaml:\d+: clause Article 7: ", str(raised.value)), str(raised.value)


def test_only_a_clause_a_person_attests_cites_an_attesting_document(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "dpa" / "clauses.yaml"
    text = path.read_text(encoding="utf-8")
    old = "    status: not-covered\n    controls: []\n"
    assert old in text
    path.write_text(text.replace(old, old + "    attested_by: {document: d, owner: o, date: 2026-10-01, reference: r}\n", 1),
                    encoding="utf-8")
    with pytest.raises(PolicyError, match="`attested_by` is for a clause only a person can attest"):
        load_policy(root)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("  - id: Gate integrity\n", "  - id: Appendix C §6\n", "not named like one"),
    ("    status: verified-code\n    controls: [DPA-WAI-001", "    status: organisational\n    controls: [DPA-WAI-001",
     "status is verified-deployed, verified-code or declared"),
    ("  - id: Inventory aids\n", "  - id: Inventory aids\n    quote: x\n", "unknown keys"),
])
def test_a_malformed_outside_section_is_refused(tmp_path: Path, old: str, new: str, expected: str) -> None:
    root = _copy(tmp_path)
    path = root / "dpa" / "clauses.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PolicyError, match=re.escape(expected)):
        load_policy(root)
