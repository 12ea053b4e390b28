"""The Terraform plan export: types, attribute names, block shapes, secrets, unknowns, the untranslated note."""

from __future__ import annotations

import json
from typing import Any

from dpaguard.export import to_tfplan
from dpaguard.export.scaleway import type_table
from dpaguard.model import Deployment

from support.export_estate import urn


def _planned(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["address"]: r for r in plan["planned_values"]["root_module"]["resources"]}


def test_document_has_the_plan_format_fields(estate: Deployment) -> None:
    plan = to_tfplan(estate)
    assert plan["format_version"] == "1.2"
    assert plan["terraform_version"]
    for item in plan["planned_values"]["root_module"]["resources"]:
        assert item["mode"] == "managed"
        assert item["provider_name"] == "registry.terraform.io/scaleway/scaleway"
        assert item["address"] == f"{item['type']}.{item['name']}"
        assert {"values", "sensitive_values", "schema_version"} <= item.keys()
    changes = {c["address"]: c for c in plan["resource_changes"]}
    assert changes.keys() == _planned(plan).keys()
    for change in changes.values():
        assert change["change"]["actions"] == ["create"] and change["change"]["before"] is None
    assert plan["configuration"]["provider_config"]["scaleway"]["expressions"] == {
        "region": {"constant_value": "fr-par"}, "zone": {"constant_value": "fr-par-1"}}


def test_current_and_deprecated_tokens_map_to_the_terraform_type(estate: Deployment) -> None:
    planned = _planned(to_tfplan(estate))
    assert "scaleway_rdb_instance.main-db" in planned
    assert "scaleway_rdb_instance.legacy-db" in planned  # scaleway:index/databaseInstance:DatabaseInstance
    assert type_table()["scaleway:index/objectBucket:ObjectBucket"].terraform_type == "scaleway_object_bucket"


def test_wire_names_become_terraform_attribute_names_and_blocks(estate: Deployment) -> None:
    planned = _planned(to_tfplan(estate))
    db = planned["scaleway_rdb_instance.main-db"]["values"]
    assert db["backup_same_region"] is True and db["node_type"] == "DB-DEV-S"
    assert db["private_network"] == [{"pn_id": "pn-1", "enable_ipam": True}]  # MaxItems=1 block -> list of one
    assert db["settings"] == {"work_mem": "4"}  # a map stays a map, its keys untouched
    sg = planned["scaleway_instance_security_group.web-sg"]["values"]
    assert sg["inbound_rule"] == [{"action": "accept", "ip_range": "10.0.0.0/8", "port": 443, "protocol": "TCP"}]
    assert "inboundRules" not in sg and "inbound_rules" not in sg
    bucket = planned["scaleway_object_bucket.logs"]["values"]
    assert bucket["tags"] == {"data-category": "logs"}
    assert bucket["lifecycle_rule"] == [{"enabled": True, "expiration": [{"days": 30}],
                                         "transition": [{"days": 7, "storage_class": "GLACIER"}]}]


def test_secrets_are_marked_sensitive_and_left_out(estate: Deployment) -> None:
    plan = to_tfplan(estate)
    db = _planned(plan)["scaleway_rdb_instance.main-db"]
    assert "password" not in db["values"]
    assert db["sensitive_values"] == {"password": True}
    change = next(c for c in plan["resource_changes"] if c["address"] == db["address"])["change"]
    assert change["after_sensitive"] == {"password": True} and "password" not in change["after"]
    assert "ciphertext" not in json.dumps(plan) and "[secret]" not in json.dumps(plan)


def test_unknown_values_are_in_after_unknown(estate: Deployment) -> None:
    plan = to_tfplan(estate)
    change = next(c for c in plan["resource_changes"] if c["address"] == "scaleway_rdb_instance.main-db")["change"]
    assert change["after_unknown"] == {"endpoint_ip": True}
    assert "endpoint_ip" not in change["after"]


def test_region_left_to_the_provider_comes_from_its_config(estate: Deployment) -> None:
    planned = _planned(to_tfplan(estate))
    assert planned["scaleway_rdb_instance.main-db"]["values"]["region"] == "fr-par"
    assert planned["scaleway_rdb_instance.legacy-db"]["values"]["region"] == "nl-ams"  # explicit value kept


def test_same_pulumi_name_twice_gets_distinct_addresses(estate: Deployment) -> None:
    plan = to_tfplan(estate)
    assert {"scaleway_object_bucket.logs", "scaleway_object_bucket.logs_2"} <= _planned(plan).keys()
    assert plan["dpaguard_addresses"]["scaleway_object_bucket.logs"] == urn("scaleway:object/bucket:Bucket", "logs")


def test_resources_without_terraform_twin_are_listed_not_dropped(estate: Deployment) -> None:
    plan = to_tfplan(estate)
    note = {item["type"]: item["reason"] for item in plan["dpaguard_untranslated"]}
    assert set(note) == {"pulumi:pulumi:Stack", "pulumi:providers:scaleway", "acme:shop:Database",
                         "pulumi-python:dynamic/datapacket:Server", "scaleway:futureProduct/thing:Thing"}
    assert "dynamic" in note["pulumi-python:dynamic/datapacket:Server"]
    assert "component" in note["acme:shop:Database"]
    translated = len(plan["planned_values"]["root_module"]["resources"])
    assert translated + len(plan["dpaguard_untranslated"]) == len(estate.resources)


def test_configuration_references_follow_property_dependencies() -> None:
    from support.export_estate import make_deployment, resource

    network = resource("scaleway:network/privateNetwork:PrivateNetwork", "pn", {"name": "pn"})
    db = resource("scaleway:databases/instance:Instance", "db", {"privateNetwork": {"pnId": "id-pn"}},
                  propertyDependencies={"privateNetwork": [network["urn"]]})
    plan = to_tfplan(make_deployment([network, db]))
    config = {r["address"]: r for r in plan["configuration"]["root_module"]["resources"]}
    expressions = config["scaleway_rdb_instance.db"]["expressions"]
    assert expressions["private_network"] == {"references": ["scaleway_vpc_private_network.pn.id", "scaleway_vpc_private_network.pn"]}
    assert config["scaleway_rdb_instance.db"]["provider_config_key"] == "scaleway"


def test_type_table_names_real_classes_and_wire_names() -> None:
    import yaml

    from dpaguard.export.scaleway import TABLE_FILE, block_schema, resource_schema

    table = yaml.safe_load(TABLE_FILE.read_text())["resources"]
    for token, entry in table.items():
        attributes = resource_schema(token).attributes
        assert attributes, f"{token}: no such class in the installed pulumiverse_scaleway"
        for wire in entry.get("renames") or {}:
            assert wire in attributes, f"{token}: renames {wire}, which the class does not have"
    for key, entry in yaml.safe_load(TABLE_FILE.read_text())["blocks"].items():
        module, class_name = key.split("/")
        attributes = block_schema(module, class_name).attributes
        for wire, name in entry["renames"].items():
            assert attributes[wire].name == name, f"{key}: {wire}"


def test_explicit_provider_gives_its_region_and_an_aliased_provider_config() -> None:
    from support.export_estate import make_deployment, resource, urn

    ams = urn("pulumi:providers:scaleway", "ams")
    provider = {"urn": ams, "custom": True, "id": "p2", "type": "pulumi:providers:scaleway",
                "inputs": {"region": "nl-ams", "zone": "nl-ams-1"}}
    bucket = dict(resource("scaleway:object/bucket:Bucket", "far", {"name": "far"}), provider=f"{ams}::p2")
    plan = to_tfplan(make_deployment([provider, bucket]))
    assert _planned(plan)["scaleway_object_bucket.far"]["values"]["region"] == "nl-ams"
    assert plan["configuration"]["provider_config"]["scaleway.ams"]["alias"] == "ams"
    assert plan["configuration"]["provider_config"]["scaleway.ams"]["expressions"]["region"] == {"constant_value": "nl-ams"}
    (config,) = plan["configuration"]["root_module"]["resources"]
    assert config["provider_config_key"] == "scaleway.ams"
