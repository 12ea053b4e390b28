"""The JUnit reporter: one suite per stack, one case per control, failed/skipped/passed as the outcome says."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dpaguard.model import Result
from dpaguard.report import junit


def _cases(result: Result) -> tuple[ET.Element, dict[tuple[str, str], ET.Element]]:
    root = ET.fromstring(junit.render(result).encode("utf-8"))
    cases = {(suite.get("name", ""), case.get("name", "").split()[0]): case
             for suite in root.iter("testsuite") for case in suite.iter("testcase")}
    return root, cases


def test_junit_one_case_per_control_and_stack(result: Result) -> None:
    root, cases = _cases(result)
    assert root.tag == "testsuites"
    assert [s.get("name") for s in root.iter("testsuite")] == ["prod", "dev"]
    assert len(cases) == 6 and root.get("tests") == "6"
    prod_res = cases[("prod", "DPA-RES-001")].find("failure")
    assert prod_res is not None and "main-db" in (prod_res.text or "") and "undetermined" in (prod_res.text or "")
    prod_tls = cases[("prod", "DPA-TLS-001")]
    assert prod_tls.find("failure") is None and "OPS-12" in (prod_tls.findtext("system-out") or "")
    assert cases[("dev", "DPA-RET-001")].find("skipped") is not None  # disabled in dev
    assert cases[("dev", "DPA-RES-001")].find("failure") is None and cases[("dev", "DPA-RES-001")].find("skipped") is None
    assert cases[("dev", "DPA-TLS-001")].find("failure") is not None
    assert root.get("failures") == "3" and root.get("skipped") == "1"


def test_junit_carries_hostile_text_as_text(result: Result) -> None:
    _, cases = _cases(result)
    failure = cases[("prod", "DPA-RET-001")].find("failure")
    assert failure is not None and "<script>alert(1)</script>" in (failure.text or "")
    assert "\x1b" not in (failure.text or "")


def test_junit_of_a_clean_run(clean_result: Result) -> None:
    root, cases = _cases(clean_result)
    assert root.get("failures") == "0" and all(c.find("failure") is None for c in cases.values())
