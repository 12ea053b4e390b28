"""The SARIF reporter: valid against the official 2.1.0 schema, one rule per control, located results."""

from __future__ import annotations

import json

import jsonschema

from dpaguard.model import Result
from dpaguard.report import sarif
from support.official_schemas import shared_schemas


def _validate(log: dict[str, object]) -> None:
    schema = json.loads((shared_schemas() / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class(schema, format_checker=validator_class.FORMAT_CHECKER).validate(log)


def test_sarif_validates_against_the_official_schema(result: Result, clean_result: Result) -> None:
    _validate(json.loads(sarif.render(result)))
    _validate(json.loads(sarif.render(clean_result)))


def test_the_schema_check_can_fail(result: Result) -> None:
    log = json.loads(sarif.render(result))
    log["runs"][0]["results"][0]["level"] = "fatal"
    try:
        _validate(log)
    except jsonschema.ValidationError:
        return
    raise AssertionError("an invalid level passed the schema")


def test_sarif_rules_and_results(result: Result) -> None:
    run = json.loads(sarif.render(result))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["DPA-RES-001", "DPA-TLS-001", "DPA-RET-001"]
    assert rules[0]["properties"]["clause"] == "Appendix C §1.1" and "Appendix C §1.1" in rules[0]["help"]["text"]
    assert "Set scaleway:region to fr-par." in rules[0]["help"]["text"]
    results = run["results"]
    assert len(results) == 5
    for entry in results:
        assert rules[entry["ruleIndex"]]["id"] == entry["ruleId"]
    by_name = {(r["properties"]["stack"], r["locations"][0]["logicalLocations"][0]["name"], r["ruleId"]): r
               for r in results}
    db = by_name[("prod", "main-db", "DPA-RES-001")]
    assert db["level"] == "error"
    assert db["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "infra/estate/database.py", "uriBaseId": "%SRCROOT%"}
    assert db["locations"][0]["physicalLocation"]["region"] == {"startLine": 42, "startColumn": 5}
    stack_level = by_name[("prod", "dpa-estate-prod", "DPA-RET-001")]
    assert stack_level["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "stacks/Pulumi.prod.yaml"
    dev = by_name[("dev", "cache", "DPA-TLS-001")]
    assert dev["level"] == "warning"
    # a state file outside the project (an absolute path) by its name alone: no report names the machine's folders
    assert dev["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "dev%20export.json", "uriBaseId": "%SRCROOT%"}
    waived = by_name[("prod", "cache", "DPA-TLS-001")]
    assert waived["suppressions"][0]["status"] == "accepted" and "OPS-12" in waived["suppressions"][0]["justification"]
    fingerprints = {r["partialFingerprints"]["dpaguardFinding/v1"] for r in results}
    assert len(fingerprints) == 5
