"""Each rule's `# METADATA` names the control its decisions carry, as OPA reads the annotation.

A rule names its control id literally in its body (`result.violation("DPA-...", ...)`, or the second
element of a `_judged` tuple), and documents it in its METADATA (`custom.control`); a copy edited in
one place and not the other would send reviewers to the wrong control. The METADATA blocks are read
by OPA itself (each block is given to a probe rule that returns `rego.metadata.rule()`), so the check
holds what OPA makes of the YAML, not what a second parser does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from opa_bindings import OpaEngine

from dpaguard.policy import Policy
from support.rego_statements import Statement, CONTROL_LITERAL, DECISION_HEAD, PACKAGE, policy_statements, statements


def opa_annotations(blocks: list[tuple[str, ...]]) -> list[dict[str, Any]]:
    """What OPA reads from each METADATA block: the value of `rego.metadata.rule()` in a rule under it."""
    engine = OpaEngine()
    try:
        for number, block in enumerate(blocks):
            comment = "\n".join(f"# {line}" if line else "#" for line in block)
            engine.add_policy(
                f"probe/b{number}.rego",
                f"package dpaguard_metadata_probe.b{number}\n\nimport rego.v1\n\n# METADATA\n{comment}\nannotation := rego.metadata.rule()\n",
            )
        results = engine.eval_query("x = data.dpaguard_metadata_probe")
    finally:
        engine.close()
    read: dict[str, Any] = results[0]["x"] if results else {}
    return [read[f"b{number}"]["annotation"] for number in range(len(blocks))]


def _controls(annotation: Mapping[str, Any]) -> set[str]:
    custom = annotation.get("custom") or {}
    control = custom.get("control")
    if control is None:
        return set()
    return {control} if isinstance(control, str) else set(control)


@pytest.fixture(scope="module")
def annotated(policy: Policy) -> list[tuple[Statement, dict[str, Any]]]:
    """Every rule that has a METADATA block, with OPA's reading of it."""
    ruled = [statement for statement in policy_statements(policy.rego_modules) if statement.metadata is not None]
    return list(zip(ruled, opa_annotations([statement.metadata or () for statement in ruled])))


def test_opa_reads_every_metadata_block(annotated: list[tuple[Statement, dict[str, Any]]]) -> None:
    assert len(annotated) >= 60
    for statement, annotation in annotated:
        assert annotation.get("scope") == "rule", f"{statement.where}: {annotation}"
        assert isinstance(annotation.get("title"), str) and annotation["title"], f"{statement.where}: METADATA without a title"


def test_metadata_control_is_the_control_the_rule_emits(annotated: list[tuple[Statement, dict[str, Any]]]) -> None:
    problems = []
    for statement, annotation in annotated:
        documented = _controls(annotation)
        if documented and documented != statement.emitted:
            problems.append(f"{statement.where}: METADATA says {sorted(documented)}, the rule emits {sorted(statement.emitted)}")
    assert not problems, "\n".join(problems)


def test_every_rule_emitting_a_control_has_metadata_naming_it(annotated: list[tuple[Statement, dict[str, Any]]], policy: Policy) -> None:
    documented = {statement.where: _controls(annotation) for statement, annotation in annotated}
    emitting = [s for s in policy_statements(policy.rego_modules) if s.emitted]
    assert len(emitting) >= 60
    problems = []
    for statement in emitting:
        if not DECISION_HEAD.match(statement.code):
            problems.append(f"{statement.where}: emits {sorted(statement.emitted)} outside decisions and _judged")
        elif not documented.get(statement.where):
            problems.append(f"{statement.where}: emits {sorted(statement.emitted)} with no METADATA custom.control")
    assert not problems, "\n".join(problems)


def test_every_control_literal_is_an_emitted_control(policy: Policy) -> None:
    """No control id hides in a form the check above does not read (a literal bound to a variable, say)."""
    for statement in policy_statements(policy.rego_modules):
        literals = set(CONTROL_LITERAL.findall(statement.code))
        assert literals == statement.emitted, f"{statement.where}: control literals {sorted(literals)}, emitted {sorted(statement.emitted)}"


def test_metadata_names_a_catalogue_control_of_the_package_category(annotated: list[tuple[Statement, dict[str, Any]]], policy: Policy) -> None:
    category: dict[str, str] = {str(control.id): control.category for control in policy.controls}
    for statement, annotation in annotated:
        package = PACKAGE.search(policy.rego_modules[statement.path])
        assert package
        for control in _controls(annotation):
            assert control in category, f"{statement.where}: {control} is not in controls.yaml"
            assert category[control].replace("-", "_") == package.group(1).rsplit(".", 1)[-1], (
                f"{statement.where}: {control} is a {category[control]} control, in package {package.group(1)}"
            )


def _probe(module: str) -> Iterator[Statement]:
    yield from statements("rego/probe.rego", module)


def test_the_check_sees_a_metadata_control_that_differs_from_the_body() -> None:
    module = '''package dpaguard.probe

import rego.v1

# METADATA
# title: Backups enabled
# custom:
#   control: DPA-BAK-002
decisions contains result.violation("DPA-BAK-001", r, "off") if {
	some r in input.resources
}

# Judged per group.
_judged contains [k, "DPA-RET-001", "violation", "no tag"] if {
	some k, _ in input.index.shape.bucket
}
'''
    found = list(_probe(module))
    assert [s.line for s in found] == [9, 14]
    (annotation,) = opa_annotations([found[0].metadata or ()])
    assert _controls(annotation) == {"DPA-BAK-002"}
    assert found[0].emitted == {"DPA-BAK-001"}
    assert found[1].metadata is None and found[1].emitted == {"DPA-RET-001"}
