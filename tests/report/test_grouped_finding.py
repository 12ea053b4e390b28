"""A finding on a group (DPA-SUB-001: every resource of a provider in a stack) in each machine-readable report."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET

import jsonschema
import pytest
from support.official_schemas import shared_schemas
from support.report_samples import RES_001, finding

from dpaguard.model import Result
from dpaguard.report import json as json_report
from dpaguard.report import junit, sarif

PROVIDER = "urn:pulumi:prod::dpa-estate::pulumi:providers:aws::default_7_51_1"
MEMBERS = (
    "urn:pulumi:prod::dpa-estate::aws:s3/bucket:Bucket::backups",
    "urn:pulumi:prod::dpa-estate::aws:s3/bucketAcl:BucketAcl::share-acl",
)


@pytest.fixture()
def grouped(result: Result) -> Result:
    """The sample run with one finding on the AWS provider's two resources."""
    group = finding(RES_001, "prod", PROVIDER, "provider aws is not an approved sub-processor of Appendix B: 2 resources (s3) in us-east-1",
                    resources=MEMBERS)
    return dataclasses.replace(result, findings=(*result.findings, group))


def test_json_lists_the_resources_of_a_grouped_finding(grouped: Result) -> None:
    doc = json.loads(json_report.render(grouped))
    (group,) = [f for f in doc["findings"] if f["urn"] == PROVIDER]
    assert group["resources"] == list(MEMBERS)
    assert group["name"] == "default_7_51_1" and "us-east-1" in group["message"]
    assert all(f["resources"] == [] for f in doc["findings"] if f["urn"] != PROVIDER)


def test_sarif_gives_each_resource_of_a_grouped_finding_a_related_location(grouped: Result) -> None:
    log = json.loads(sarif.render(grouped))
    jsonschema.validate(log, json.loads((shared_schemas() / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")))
    (group,) = [r for r in log["runs"][0]["results"] if r["properties"]["urn"] == PROVIDER]
    assert [loc["logicalLocations"][0]["fullyQualifiedName"] for loc in group["relatedLocations"]] == list(MEMBERS)
    assert group["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == PROVIDER
    assert group["properties"]["resources"] == list(MEMBERS)


def test_junit_names_each_resource_of_a_grouped_finding(grouped: Result) -> None:
    root = ET.fromstring(junit.render(grouped))
    failures = [f.text or "" for f in root.iter("failure")]
    (text,) = [t for t in failures if PROVIDER in t]
    assert all(f"resource: {urn}" in text for urn in MEMBERS)
