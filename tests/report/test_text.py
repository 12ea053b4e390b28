"""The text reporter: grouping, colour only when asked, no control characters from messages, summary line."""

from __future__ import annotations

from dpaguard.model import Result
from dpaguard.report import text


def test_text_groups_by_stack_then_control_and_ends_with_the_summary(result: Result) -> None:
    output = text.render(result)
    lines = output.splitlines()
    assert lines[-1] == "dpaguard: 3 mandatory, 1 advisory, 1 waived finding(s); 3 controls over 52 resources in 2 stack(s)"
    assert lines[0] == "prod (prod, program, 40 resources)"  # the run's stack order
    assert "dev (dev, state, 12 resources)" in lines
    prod = 0
    dev = lines.index("dev (dev, state, 12 resources)")
    controls = [line.split()[0] for line in lines[prod:dev] if line.startswith("  DPA-")]
    assert controls == ["DPA-RES-001", "DPA-RET-001", "DPA-TLS-001"]
    assert "      at infra/estate/database.py:42" in lines
    assert any("waived by dpo@example.com until 2027-01-31" in line for line in lines)
    assert any(line.startswith("note: checkov is not installed") for line in lines)


def test_text_is_plain_unless_colour_is_asked_for(result: Result) -> None:
    plain, coloured = text.render(result), text.render(result, color=True)
    assert "\x1b" not in plain
    assert "\x1b[1;31m" in coloured
    assert plain.replace("\n", "") in coloured or len(coloured) > len(plain)


def test_text_of_a_clean_run(clean_result: Result) -> None:
    lines = text.render(clean_result).splitlines()
    assert "prod (prod, program, 40 resources): no findings" in lines
    assert lines[-1].startswith("dpaguard: 0 mandatory, 0 advisory, 0 waived")
