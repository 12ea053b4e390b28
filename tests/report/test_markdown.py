"""The Markdown reporter: summary table, findings table with escaped cells, waived findings apart."""

from __future__ import annotations

from dpaguard.model import Result
from dpaguard.report import markdown
from support.markdown_table import cells as _cells


def _table(lines: list[str], heading: str) -> list[str]:
    start = lines.index(heading) + 2
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_markdown_summary_findings_and_waived(result: Result) -> None:
    lines = markdown.render(result).splitlines()
    assert lines[0] == "## dpaguard: ❌ 3 mandatory finding(s) block this change"
    summary = [_cells(line) for line in lines[4:7]]
    assert summary[0][:7] == ["prod", "prod", "program", "40", "3", "0", "1"]
    assert summary[1][:7] == ["dev", "dev", "state", "12", "0", "1", "0"]
    assert summary[2][0] == "**total**"
    findings = [_cells(row) for row in _table(lines, "### Findings")]
    assert len(findings) == 4 and all(len(row) == 7 for row in findings)
    hostile = [row for row in findings if row[2] == "DPA-RET-001"][0]
    assert "&lt;script&gt;" in hostile[6] and "\\|" in hostile[6] and "<script>" not in hostile[6]
    waived = [_cells(row) for row in _table(lines, "### Waived")]
    assert waived == [["DPA-TLS-001", "Article 5.2 (security \\| transit)", "prod",
                       "cache (scaleway:redis/cluster:Cluster)", "migration ticket OPS-12", "dpo@example.com",
                       "2027-01-31"]]


def test_markdown_of_a_clean_run(clean_result: Result) -> None:
    output = markdown.render(clean_result)
    assert output.startswith("## dpaguard: ✅") and "### Findings" not in output
