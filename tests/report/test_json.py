"""The JSON reporter: the documented shape, deterministic order, counts."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from dpaguard.model import Result
from dpaguard.report import json as json_report

FINDING_KEYS = {"control", "category", "clause", "severity", "enforcement", "stack", "urn", "type", "name",
                "message", "waived", "waiver", "status", "location", "resources"}


def test_json_has_the_documented_shape(result: Result) -> None:
    doc = json.loads(json_report.render(result))
    assert doc["tool"] == {"name": "dpaguard", "version": "0.1.0"}
    assert doc["policy"] == {"sha256": "b" * 64, "engine": None}
    assert [(s["name"], s["environment"], s["source"], s["resources"]) for s in doc["stacks"]] == [
        ("prod", "prod", "program", 40), ("dev", "dev", "state", 12)]
    assert all(set(f) == FINDING_KEYS for f in doc["findings"])
    assert doc["summary"] == {"resources": 52, "controls": 3, "mandatory": 3, "advisory": 1, "waived": 1}
    waived = [f for f in doc["findings"] if f["waived"]]
    assert len(waived) == 1 and waived[0]["waiver"] == {
        "control": "DPA-TLS-001", "urn": "*::cache", "stack": "prod", "reason": "migration ticket OPS-12",
        "approver": "dpo@example.com", "expires": "2027-01-31", "approved": None, "reference": None, "compensating": None}
    located = [f for f in doc["findings"] if f["location"]]
    assert located == [f for f in doc["findings"] if f["name"] == "main-db"]
    assert located[0]["location"] == {"path": "infra/estate/database.py", "line": 42, "column": 5}
    assert {f["status"] for f in doc["findings"]} == {"violation", "undetermined"}
    assert doc["coverage"][0] == {"control": "DPA-RES-001", "stack": "dev", "resources": 12}


def test_json_findings_are_sorted_whatever_the_input_order(result: Result) -> None:
    shuffled = dataclasses.replace(result, findings=tuple(sorted(result.findings, key=lambda f: f.message)))
    first, second = json_report.render(result), json_report.render(shuffled)
    assert first == second
    keys = [(f["stack"], f["control"], f["urn"]) for f in json.loads(first)["findings"]]
    assert keys == sorted(keys)


def test_json_of_a_clean_run(clean_result: Result) -> None:
    doc = json.loads(json_report.render(clean_result))
    assert doc["findings"] == [] and doc["summary"]["mandatory"] == 0 and doc["notices"] == []


def test_json_is_json_dumps_with_an_indent_of_two(result: Result) -> None:
    assert json_report.render(result) == json.dumps(json_report.result_json(result), indent=2, ensure_ascii=False) + "\n"


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
_KEYS = st.text(max_size=6) | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
_TREES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                      | st.dictionaries(_KEYS, inner, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(_TREES)
def test_the_indented_writer_is_json_dumps_for_any_tree(tree: object) -> None:
    pieces: list[str] = []
    json_report._indented(tree, pieces, "\n")
    assert "".join(pieces) == json.dumps(tree, indent=2, ensure_ascii=False)
