"""JUnit XML for CI test tabs: one test suite per stack, one test case per control.

A case fails when the control has unwaived findings in the stack, is skipped when the control
does not apply there (disabled in the environment, nothing to examine) and passes otherwise;
waived findings are listed in the passing case's output.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from dpaguard.model import Finding, Result
from dpaguard.report._shared import Outcome, outcomes, stack_label

# Characters XML 1.0 cannot carry at all, even escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    return _INVALID_XML.sub(" ", value)


def _describe(finding: Finding) -> str:
    status = " (undetermined)" if finding.status == "undetermined" else ""
    line = f"[{finding.enforcement}{status}] {finding.name} ({finding.type}): {finding.message}\n    urn: {finding.urn}"
    line += "".join(f"\n    resource: {urn}" for urn in finding.resources)
    if finding.waiver is not None:
        waiver = finding.waiver
        line += f"\n    waived by {waiver.approver} until {waiver.expires.isoformat()}: {waiver.reason}"
    return _text(line)


def _fails(outcome: Outcome) -> bool:
    """Whether a case fails: unwaived findings of a control about the program (not the DPA's own register)."""
    return outcome.status == "failed" and outcome.control.about != "dpa"


def _case(suite: ET.Element, outcome: Outcome) -> None:
    control = outcome.control
    case = ET.SubElement(suite, "testcase", {
        "classname": _text(f"dpaguard.{outcome.stack.name}.{control.category}"),
        "name": _text(f"{control.id} {control.title}"),
        "time": "0",
    })
    properties = ET.SubElement(case, "properties")
    for name, value in (("clause", control.clause), ("severity", control.severity),
                        ("enforcement", outcome.enforcement),
                        ("resources", "" if outcome.covered is None else str(outcome.covered))):
        ET.SubElement(properties, "property", {"name": name, "value": _text(value)})
    if outcome.status == "failed" and control.about == "dpa":
        # About the DPA and its register, which no program can fix: not a failure of the stack.
        ET.SubElement(case, "skipped", {"message": _text("about the DPA and its register, not the program (the clause ledger)")})
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(_describe(f) for f in outcome.unwaived)
    elif outcome.status == "failed":
        unwaived = outcome.unwaived
        failure = ET.SubElement(case, "failure", {
            "message": _text(f"{len(unwaived)} finding(s) against {control.clause}"),
            "type": unwaived[0].enforcement,
        })
        failure.text = "\n".join(_describe(f) for f in unwaived)
    elif outcome.status == "not-applicable":
        reason = ("disabled in environment " + outcome.stack.environment if outcome.enforcement == "disabled"
                  else "no resource to examine")
        ET.SubElement(case, "skipped", {"message": _text(reason)})
    if outcome.waived:
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(_describe(f) for f in outcome.waived)


def render(result: Result) -> str:
    """The run as a JUnit XML document (`testsuites` > one `testsuite` per stack)."""
    all_outcomes = outcomes(result)
    root = ET.Element("testsuites", {"name": "dpaguard"})
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    stacks: list[str] = []
    for outcome in all_outcomes:
        if outcome.stack.name not in stacks:
            stacks.append(outcome.stack.name)
    for stack in stacks:
        mine = [o for o in all_outcomes if o.stack.name == stack]
        counts = {
            "tests": len(mine),
            "failures": sum(1 for o in mine if _fails(o)),
            "skipped": sum(1 for o in mine if o.status == "not-applicable" or o.status == "failed" and not _fails(o)),
        }
        for key, value in counts.items():
            totals[key] += value
        summary = mine[0].stack
        suite = ET.SubElement(root, "testsuite", {
            "name": _text(stack_label(stack)), "tests": str(counts["tests"]), "failures": str(counts["failures"]),
            "errors": "0", "skipped": str(counts["skipped"]), "time": "0",
        })
        properties = ET.SubElement(suite, "properties")
        for key, text in (("environment", summary.environment), ("source", summary.source),
                          ("resources", str(summary.resources)), ("policy.sha256", result.policy_sha256)):
            ET.SubElement(properties, "property", {"name": key, "value": _text(text)})
        for outcome in mine:
            _case(suite, outcome)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
