"""The HTML reporter without a browser: self-contained, escaped, organised by clause, numbers marked up."""

from __future__ import annotations

from dpaguard.model import Result
from dpaguard.report import html
from dpaguard.report._shared import clause_sort_key, clauses_of
from support.html_elements import Elements


def _page(result: Result) -> tuple[str, Elements]:
    source = html.render(result)
    page = Elements()
    page.feed(source)
    return source, page


def test_html_is_self_contained_and_escaped(result: Result) -> None:
    source, page = _page(result)
    tags = {tag for tag, _ in page.elements}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed"}
    assert "<script>alert(1)</script>" not in source and "&lt;script&gt;alert(1)&lt;/script&gt;" in source
    assert "\x1b" not in source
    urls = [a for _, attrs in page.elements for a in attrs.values() if a.startswith(("http:", "https:", "//"))]
    assert urls == ["http://www.w3.org/2000/svg"]  # the SVG namespace is a name, never fetched


def test_html_grid_has_a_cell_per_clause_and_stack(result: Result) -> None:
    _, page = _page(result)
    cells = {(a["data-clause"], a["data-stack"]): a for t, a in page.elements if t == "g" and "data-clause" in a}
    # Without a ledger, the clauses are those the controls cite, qualifiers ("(security | transit)") dropped.
    clauses = {"Appendix C §1.1", "Article 5.2", "Appendix A §2"}
    assert set(cells) == {(c, s) for c in clauses for s in ("prod", "dev")}
    assert cells[("Appendix C §1.1", "prod")]["data-status"] == "failed"
    assert cells[("Appendix C §1.1", "prod")]["data-findings"] == "2"
    assert cells[("Appendix C §1.1", "dev")]["data-status"] == "passed"
    assert cells[("Article 5.2", "prod")]["data-status"] == "waived"
    assert cells[("Article 5.2", "dev")]["data-status"] == "advisory"  # not the mandatory red
    # RET-001 is disabled in dev: nothing was examined there, so nothing is shown kept.
    assert cells[("Appendix A §2", "dev")]["data-status"] == "not-examined"
    order = [a["data-clause"] for t, a in page.elements if t == "section" and "data-clause" in a]
    assert order == ["Article 5.2", "Appendix A §2", "Appendix C §1.1"]


def test_html_numbers_and_evidence(result: Result) -> None:
    _, page = _page(result)
    summary = {k[len("data-summary-"):]: v for _, a in page.elements for k, v in a.items() if k.startswith("data-summary-")}
    assert summary == {k: str(v) for k, v in result.summary().items()}
    stacks = {a["data-stack"]: a for t, a in page.elements if t == "tr" and "data-resources" in a and "data-stack" in a}
    assert stacks["prod"]["data-mandatory"] == "3" and stacks["prod"]["data-waived"] == "1"
    assert stacks["dev"]["data-advisory"] == "1" and stacks["dev"]["data-resources"] == "12"
    covered = {(a["data-control"], a["data-stack"]): a["data-covered"] for t, a in page.elements
               if t == "td" and "data-covered" in a}
    assert covered[("DPA-RES-001", "prod")] == "40"
    text = "".join(page.text)
    for fact in ("b" * 64, "c" * 40, "2026-11-27T03:00:00Z", "a" * 64, "stacks/Pulumi.prod.yaml", "dpaguard 0.1.0",
                 "migration ticket OPS-12", "dpo@example.com", "2027-01-31"):
        assert fact in text, fact


def test_a_control_citing_several_clauses_appears_under_each() -> None:
    assert clauses_of("Appendix C §1.1; Article 8.2") == ["Appendix C §1.1", "Article 8.2"]
    assert clauses_of("Article 5.1; Appendix C §2, §8.1") == ["Article 5.1", "Appendix C §2", "Appendix C §8.1"]
    assert clauses_of("Appendix A (call recordings; transcripts)") == ["Appendix A (call recordings; transcripts)"]
    assert clauses_of("Appendix C §1.1; Appendix B (DATAPACKET, FRANCE)") == [
        "Appendix C §1.1", "Appendix B (DATAPACKET, FRANCE)"]
    ordered = sorted(["Appendix C §10", "Article 10.1", "Appendix C §9", "Article 2.4", "Appendix A"], key=clause_sort_key)
    assert ordered == ["Article 2.4", "Article 10.1", "Appendix A", "Appendix C §9", "Appendix C §10"]
