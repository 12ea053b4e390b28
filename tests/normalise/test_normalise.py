"""The normaliser: canonical types, effective locality and project, environment, tags, secret and
plaintext paths, unknown values, internet CIDRs, cross-stack sharing; facts never hold a secret value."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from dpaguard.engine.shaping import chunks, rego_input, rego_resource
from dpaguard.examined import examined
from dpaguard.facts import ResourceFacts
from dpaguard.model import PLAINTEXT_REDACTED, REDACTED, SECRET_SIG, SECRET_SIG_KEY, UNKNOWN, Deployment
from dpaguard.normalise import normalise
from dpaguard.engine.index import build_index
from dpaguard.deployment.types import canonical_type, scaleway_types, type_info
from dpaguard.policy import load_policy
from support import POLICIES

TODAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def dpa() -> Any:
    return load_policy(POLICIES).data


def _stack(resources: list[dict[str, Any]], stack: str = "prod", **config: Any) -> Deployment:
    base = {"scaleway:region": "fr-par", "scaleway:zone": "fr-par-1", "scaleway:projectId": "p-prod"}
    base.update(config)
    return Deployment(stack=stack, project="demo", source="state", resources=tuple(resources), config={k: v for k, v in base.items() if v is not None})


def _res(type_token: str, name: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"urn": f"urn:pulumi:prod::demo::{type_token}::{name}", "custom": True, "id": f"{name}-id", "type": type_token, "inputs": inputs, **extra}


def _one(dpa: Any, resource: dict[str, Any], **config: Any) -> ResourceFacts:
    facts = normalise([_stack([resource], **config)], dpa, today=TODAY)
    (fact,) = facts["resources"]
    return fact


def test_deprecated_tokens_map_to_current_module_tokens() -> None:
    assert canonical_type("scaleway:index/databaseInstance:DatabaseInstance") == "scaleway:databases/instance:Instance"
    assert canonical_type("scaleway:index/objectBucket:ObjectBucket") == "scaleway:object/bucket:Bucket"
    assert canonical_type("scaleway:network/vpc:Vpc") == "scaleway:network/vpc:Vpc"
    assert len(scaleway_types().current) > 50  # read from the package, not a hand-written table


def test_type_inputs_come_from_the_package() -> None:
    database = type_info("scaleway:databases/instance:Instance")
    group = type_info("scaleway:instance/securityGroup:SecurityGroup")
    assert database is not None and database.region and not database.zone and database.project
    assert group is not None and group.zone


def test_locality_from_resource_provider_stack_or_missing(dpa: Any) -> None:
    provider_urn = "urn:pulumi:prod::demo::pulumi:providers:scaleway::ams"
    provider = {"urn": provider_urn, "custom": True, "id": "1", "type": "pulumi:providers:scaleway", "inputs": {"region": "nl-ams"}}
    own = _res("scaleway:network/vpc:Vpc", "own", {"region": "pl-waw"}, provider=f"{provider_urn}::1")
    inherited = _res("scaleway:network/vpc:Vpc", "inherited", {}, provider=f"{provider_urn}::1")
    default = _res("scaleway:network/vpc:Vpc", "default", {})
    facts = normalise([_stack([provider, own, inherited, default])], dpa, today=TODAY)
    by_name = {f["urn"].rsplit("::", 1)[-1]: f["locality"] for f in facts["resources"]}
    assert set(by_name) == {"own", "inherited", "default"}  # providers are not resources to judge
    assert (by_name["own"]["region"], by_name["own"]["source"]) == ("pl-waw", "resource")
    assert (by_name["inherited"]["region"], by_name["inherited"]["source"]) == ("nl-ams", "provider")
    assert (by_name["default"]["region"], by_name["default"]["source"]) == ("fr-par", "stack")
    missing = _one(dpa, _res("scaleway:network/vpc:Vpc", "v", {}), **{"scaleway:region": None, "scaleway:zone": None})
    assert missing["locality"]["status"] == "missing"


def test_a_zone_alone_implies_its_region(dpa: Any) -> None:
    implied = _one(dpa, _res("scaleway:network/vpc:Vpc", "v", {}), **{"scaleway:region": None, "scaleway:zone": "nl-ams-1"})
    assert (implied["locality"]["region"], implied["locality"]["status"]) == ("nl-ams", "known")
    provider_urn = "urn:pulumi:prod::demo::pulumi:providers:scaleway::waw"
    provider = {"urn": provider_urn, "custom": True, "id": "1", "type": "pulumi:providers:scaleway", "inputs": {"zone": "pl-waw-2"}}
    vpc = _res("scaleway:network/vpc:Vpc", "vpc", {}, provider=f"{provider_urn}::1")
    facts = normalise([_stack([provider, vpc])], dpa, today=TODAY)
    assert facts["resources"][0]["locality"]["region"] == "pl-waw"


def test_an_explicit_provider_without_region_does_not_read_the_stack_config(dpa: Any) -> None:
    provider_urn = "urn:pulumi:prod::demo::pulumi:providers:scaleway::custom"
    provider = {"urn": provider_urn, "custom": True, "id": "1", "type": "pulumi:providers:scaleway", "inputs": {"projectId": "p"}}
    vpc = _res("scaleway:network/vpc:Vpc", "vpc", {}, provider=f"{provider_urn}::1")
    facts = normalise([_stack([provider, vpc])], dpa, today=TODAY)
    assert facts["resources"][0]["locality"]["status"] == "missing"  # the stack's scaleway:region is the default provider's
    default_urn = "urn:pulumi:prod::demo::pulumi:providers:scaleway::default_1_60_0"
    default = {"urn": default_urn, "custom": True, "id": "2", "type": "pulumi:providers:scaleway", "inputs": {}}
    vpc = _res("scaleway:network/vpc:Vpc", "vpc", {}, provider=f"{default_urn}::2")
    facts = normalise([_stack([default, vpc])], dpa, today=TODAY)
    assert (facts["resources"][0]["locality"]["region"], facts["resources"][0]["locality"]["source"]) == ("fr-par", "stack")


def test_a_malformed_provider_reference_is_an_explicit_provider_the_deployment_lacks(dpa: Any) -> None:
    """A `provider` without `::<id>` still names a provider: never the default one, so the stack config places nothing (fail closed)."""
    vpc = _one(dpa, _res("scaleway:network/vpc:Vpc", "vpc", {}, provider="not-a-provider-reference"))
    assert vpc["locality"]["status"] == "missing"
    # Found by the property tests: a bucket whose own zone is French is not moved by a stack config it does not read.
    bucket = _one(dpa, _res("scaleway:object/bucket:Bucket", "b", {"zone": "fr-par-1"}, provider="\U000aa198XB"), **{"scaleway:zone": "fr-par"})
    assert (bucket["locality"]["scope"], bucket["locality"]["zone"], bucket["locality"]["status"]) == ("zone", "fr-par-1", "known")


def test_a_read_resource_is_where_its_id_says_and_not_judged_on_tags_or_project(dpa: Any) -> None:
    read = _one(dpa, _res("scaleway:instance/server:Server", "looked-up", {}, id="nl-ams-1/11111111-2222", external=True))
    assert (read["locality"]["zone"], read["locality"]["region"], read["locality"]["source"]) == ("nl-ams-1", "nl-ams", "id")
    assert not read.get("taggable") and read["project"]["expected"] is False
    regional = _one(dpa, _res("scaleway:network/vpc:Vpc", "vpc", {}, id="fr-par/33333333", external=True))
    assert (regional["locality"]["scope"], regional["locality"]["region"]) == ("region", "fr-par")


def test_a_read_resource_is_kept_from_the_rules_of_its_type_but_not_from_those_of_its_place(dpa: Any) -> None:
    # The platform stack's group and cluster, looked up: their posture (default policy, API ACL) is judged there.
    group = _res("scaleway:instance/securityGroup:SecurityGroup", "workers", {}, id="fr-par-1/4c1d7e9a", external=True)
    cluster = _res("scaleway:kubernetes/cluster:Cluster", "platform", {"version": UNKNOWN}, id="fr-par/8f2e6a10", external=True)
    facts = normalise([_stack([group, cluster])], dpa, today=TODAY)
    index = facts["index"]
    assert [r.get("read") for r in facts["resources"]] == [True, True]
    assert index["type"] == {} and index["unknown"] == [] and all(r["props"] == {} for r in facts["resources"])
    assert index["locality"]["zone"]["known"]["fr-par-1"] == [0] and index["locality"]["region"]["known"]["fr-par"] == [1]
    assert index["package"]["scaleway"] == [0, 1]
    controls = {str(c.id): c for c in load_policy(POLICIES).controls}
    judged = examined([controls["DPA-ACC-001"], controls["DPA-ACC-012"], controls["DPA-RES-002"]], facts)
    assert judged[("DPA-ACC-001", "prod")] == judged[("DPA-ACC-012", "prod")] == frozenset()
    assert judged[("DPA-RES-002", "prod")] == {group["urn"]}


def test_a_private_network_that_names_its_region_is_regional(dpa: Any) -> None:
    network = _one(dpa, _res("scaleway:network/privateNetwork:PrivateNetwork", "pn", {"region": "fr-par"}), **{"scaleway:zone": None})
    assert (network["locality"]["scope"], network["locality"]["region"], network["locality"]["status"]) == ("region", "fr-par", "known")


def test_a_private_network_that_names_no_zone_is_where_the_stack_region_says(dpa: Any) -> None:
    # A stack that sets only scaleway:region: the network is regional, not "zone undetermined".
    network = _one(dpa, _res("scaleway:network/privateNetwork:PrivateNetwork", "pn", {}), **{"scaleway:zone": None})
    assert (network["locality"]["scope"], network["locality"]["region"], network["locality"]["source"]) == ("region", "fr-par", "stack")
    # One that names its own zone (the deprecated input) is still placed by it.
    zonal = _one(dpa, _res("scaleway:network/privateNetwork:PrivateNetwork", "pn", {"zone": "nl-ams-1"}))
    assert (zonal["locality"]["scope"], zonal["locality"]["zone"]) == ("zone", "nl-ams-1")


def test_zone_gives_region_and_unknown_stays_unknown(dpa: Any) -> None:
    zonal = _one(dpa, _res("scaleway:instance/securityGroup:SecurityGroup", "sg", {"zone": "fr-par-2"}))
    assert zonal["locality"] == {"scope": "zone", "region": "fr-par", "zone": "fr-par-2", "status": "known", "source": "resource"}
    unknown = _one(dpa, _res("scaleway:network/vpc:Vpc", "v", {"region": UNKNOWN}))
    assert unknown["locality"]["status"] == "unknown"
    assert unknown["unknown_paths"] == ["region"]


def test_project_resolution(dpa: Any) -> None:
    assert _one(dpa, _res("scaleway:network/vpc:Vpc", "v", {}))["project"] == {"expected": True, "value": "p-prod", "status": "known", "source": "stack"}
    assert _one(dpa, _res("scaleway:network/vpc:Vpc", "v", {"projectId": "other"}))["project"]["value"] == "other"


def test_a_project_id_computed_from_a_project_the_stack_creates_names_that_project(dpa: Any) -> None:
    project_urn = "urn:pulumi:prod::demo::scaleway:account/project:Project::team"
    made = {"projectId": [project_urn]}
    vpc = _one(dpa, _res("scaleway:network/vpc:Vpc", "v", {"projectId": UNKNOWN}, propertyDependencies=made), **{"scaleway:projectId": None})
    assert vpc["project"] == {"expected": True, "value": "team (created by the stack)", "status": "known", "source": "resource"}
    # Computed from anything else (or from two projects), it stays unknown until apply.
    other = {"projectId": ["urn:pulumi:prod::demo::scaleway:network/vpc:Vpc::x"]}
    assert _one(dpa, _res("scaleway:network/vpc:Vpc", "v", {"projectId": UNKNOWN}, propertyDependencies=other))["project"]["status"] == "unknown"
    # ... and so is one given to a provider by the same program (scaleway.Provider(project_id=project.id)).
    provider_urn = "urn:pulumi:prod::demo::pulumi:providers:scaleway::team"
    provider = {"urn": provider_urn, "custom": True, "id": "p1", "type": "pulumi:providers:scaleway",
                "inputs": {"project_id": UNKNOWN, "region": "fr-par"}, "propertyDependencies": {"project_id": [project_urn]}}
    facts = normalise([_stack([provider, _res("scaleway:network/vpc:Vpc", "v", {}, provider=f"{provider_urn}::p1")])], dpa, today=TODAY)
    assert facts["resources"][0]["project"] == {"expected": True, "value": "team (created by the stack)", "status": "known", "source": "provider"}
    two = {"projectId": [project_urn, project_urn + "2"]}
    assert _one(dpa, _res("scaleway:network/vpc:Vpc", "v", {"projectId": UNKNOWN}, propertyDependencies=two))["project"]["status"] == "unknown"


def test_an_environment_placeholder_in_the_stack_config_or_a_property_is_no_plaintext_credential(dpa: Any) -> None:
    config = {"scaleway:secret_key": "${env:SCW_SECRET_KEY}", "app:db_password": "hunter2"}
    facts = normalise([_stack([_res("scaleway:databases/instance:Instance", "db", {"password": "${env:DB_PASSWORD}"})], **config)], dpa, today=TODAY)
    assert facts["stacks"][0]["plaintext_config_keys"] == ["app:db_password"]
    assert not facts["resources"][0].get("plaintext_paths")


def test_a_secure_config_value_read_as_plain_text_into_user_data_is_plaintext(dpa: Any) -> None:
    # The source gives a program that reads a `secure:` value with config.require the secret marker as its text.
    secret = {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": REDACTED}
    user_data = {"cloud-init": f"write_files:\n  - content: DB_PASSWORD={REDACTED}\n", "smtp": secret, "motd": "hello"}
    server = _one(dpa, _res("scaleway:instance/server:Server", "wiki", {"userData": user_data}))
    assert server["plaintext_paths"] == ["userData.cloud-init (a secure config value read as plain text)"]
    assert server["secret_paths"] == ["userData.smtp"]


def test_a_sensitive_name_value_pair_in_plaintext_is_plaintext(dpa: Any) -> None:
    # As a source that redacts nothing would hand it over: the normaliser judges the pair itself.
    env = [{"name": "GITHUB_TOKEN", "value": "ghp-x"}, {"name": "LOG_LEVEL", "value": "info"}, {"name": "API_KEY", "value": {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": REDACTED}}]
    deployment = _res("kubernetes:apps/v1:Deployment", "web", {"spec": {"env": env}})
    fact = _one(dpa, deployment)
    assert fact["plaintext_paths"] == ["spec.env[0].value"] and fact["secret_paths"] == ["spec.env[2].value"]
    assert "ghp-x" not in json.dumps(fact)


def test_a_resource_inside_another_is_where_its_parent_is_when_nothing_else_places_it(dpa: Any) -> None:
    # An explicit provider that names no region: the namespace and the instance name theirs, their children do not.
    provider_urn = "urn:pulumi:prod::demo::pulumi:providers:scaleway::scw"
    provider = {"urn": provider_urn, "custom": True, "id": "p1", "type": "pulumi:providers:scaleway", "inputs": {"projectId": "p"}}
    under = {"provider": f"{provider_urn}::p1"}
    ns = _res("scaleway:containers/namespace:Namespace", "ns", {"region": "nl-ams"}, id=UNKNOWN, **under)
    container = _res("scaleway:containers/container:Container", "api", {"namespaceId": UNKNOWN}, id=UNKNOWN, **under,
                     propertyDependencies={"namespaceId": [ns["urn"]]})
    cron = _res("scaleway:containers/cron:Cron", "cron", {"containerId": UNKNOWN}, **under, propertyDependencies={"containerId": [container["urn"]]})
    database = _res("scaleway:databases/database:Database", "db", {"instanceId": "fr-par/11111111-2222"}, **under)
    orphan = _res("scaleway:databases/user:User", "user", {"instanceId": UNKNOWN}, **under)
    facts = normalise([_stack([provider, ns, container, cron, database, orphan])], dpa, today=TODAY)
    places = {f["urn"].rsplit("::", 1)[-1]: (f["locality"]["region"], f["locality"]["status"], f["locality"]["source"]) for f in facts["resources"]}
    assert places == {
        "ns": ("nl-ams", "known", "resource"),
        "api": ("nl-ams", "known", "parent resource"),  # its namespace's region, outside France: judged so
        "cron": ("nl-ams", "known", "parent resource"),
        "db": ("fr-par", "known", "parent resource"),  # the region its instance's ID carries
        "user": (None, "missing", "none"),  # a parent unknown and not traced: still undetermined
    }


def test_each_stack_fact_holds_the_environment_the_one_rule_decides(dpa: Any) -> None:
    facts = normalise([_stack([], stack="test"), _stack([], stack="feature-x", **{"dpaguard:environment": "staging"})],
                      dpa, today=dt.date(2026, 1, 5))
    assert [(s["name"], s["environment"], s["environment_source"]) for s in facts["stacks"]] == [
        ("test", "dev", "stack name"), ("feature-x", "staging", "config")]


def test_tags_in_list_and_map_form(dpa: Any) -> None:
    listed = _one(dpa, _res("scaleway:network/vpc:Vpc", "v", {"tags": ["env:prod", "data-category:call-logs", "team"]}))
    mapped = _one(dpa, _res("scaleway:object/bucket:Bucket", "b", {"tags": {"env": "prod", "data-category": "call-logs"}}))
    assert listed["tags"] == {"env": "prod", "data-category": "call-logs", "team": ""}
    assert mapped["tags"]["env"] == "prod"
    assert listed["data_category"] == mapped["data_category"] == "call-logs"


def test_secrets_and_plaintext_never_reach_the_facts(dpa: Any) -> None:
    canary = "canary-Zq81-secret"
    resource = _res(
        "scaleway:databases/instance:Instance",
        "db",
        {"password": {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": canary}, "userName": "admin", "settings": {"apiToken": canary}, "nodeType": PLAINTEXT_REDACTED},
    )
    fact = _one(dpa, resource)
    assert fact["secret_paths"] == ["password"]
    assert sorted(fact["plaintext_paths"]) == ["nodeType", "settings.apiToken"]
    assert canary not in json.dumps(fact)


def test_internet_cidrs_and_inbound_rule_defaults(dpa: Any) -> None:
    group = _res(
        "scaleway:instance/securityGroup:SecurityGroup",
        "sg",
        {"inboundRules": [{"action": "accept", "port": 22}, {"action": "accept", "portRange": "80-443", "ipRange": "203.0.113.0/28"}]},
    )
    facts = normalise([_stack([group])], dpa, today=TODAY)
    rules = facts["resources"][0]["inbound_rules"]
    assert rules[0]["internet"] and (rules[0]["port_from"], rules[0]["port_to"]) == (22, 22)
    assert not rules[1]["internet"] and (rules[1]["port_from"], rules[1]["port_to"]) == (80, 443)
    assert facts["context"]["internet"] == {"203.0.113.0/28": False}


def test_cross_stack_sharing_is_indexed(dpa: Any) -> None:
    prod = _stack([_res("scaleway:network/vpc:Vpc", "vpc", {})], **{"dpaguard:environment": "prod"})
    dev_pn = _res("scaleway:network/privateNetwork:PrivateNetwork", "pn", {"vpcId": "vpc-id"})
    dev_pn["urn"] = dev_pn["urn"].replace(":prod::", ":dev::")
    dev = Deployment(stack="dev", project="demo", source="state", resources=(dev_pn,), config={"scaleway:region": "fr-par", "scaleway:projectId": "p-dev", "dpaguard:environment": "dev"})
    facts = normalise([prod, dev], dpa, today=TODAY)
    pn = next(f for f in facts["resources"] if f["stack"] == "dev")
    assert [o["environment"] for o in pn["foreign"]] == ["prod"]
    assert facts["index"]["foreign"] == [pn["index"]]


def test_a_link_on_an_id_unknown_in_a_preview_follows_the_property_dependencies(dpa: Any) -> None:
    # `pulumi preview` of a new stack: every id is unknown, and the engine records which resource the
    # ACL's clusterId was computed from; only that cluster is linked, the other has no ACL.
    cluster = "scaleway:kubernetes/cluster:Cluster"
    web, batch = (_res(cluster, name, {"name": name}, id=UNKNOWN) for name in ("web", "batch"))
    acl = _res("scaleway:kubernetes/acl:Acl", "web-api", {"clusterId": UNKNOWN}, id=UNKNOWN,
               propertyDependencies={"clusterId": [web["urn"]]})
    facts = normalise([_stack([web, batch, acl])], dpa, today=TODAY)
    linked = {f["urn"].rsplit("::", 1)[-1]: f.get("linked", {}).get("acl") for f in facts["resources"] if f["type"] == cluster}
    assert linked == {"web": True, "batch": False}


def test_a_link_on_an_unknown_id_that_names_no_resource_may_be_any_target(dpa: Any) -> None:
    cluster = "scaleway:kubernetes/cluster:Cluster"
    web = _res(cluster, "web", {}, id=UNKNOWN)
    acl = _res("scaleway:kubernetes/acl:Acl", "web-api", {"clusterId": UNKNOWN}, id=UNKNOWN)
    facts = normalise([_stack([web, acl])], dpa, today=TODAY)
    assert next(f for f in facts["resources"] if f["type"] == cluster)["linked"] == {"acl": True}


def test_props_kept_only_for_examined_types(dpa: Any) -> None:
    volume = _one(dpa, _res("scaleway:block/volume:Volume", "v", {"sizeInGb": 50}))
    database = _one(dpa, _res("scaleway:databases/instance:Instance", "db", {"isHaCluster": True}))
    assert volume["props"] == {} and database["props"]["isHaCluster"] is True


def test_props_hold_only_what_rules_read_by_name(dpa: Any) -> None:
    inputs = {"isHaCluster": True, "name": "db", "tags": ["env:prod"], "nodeType": "DB-PRO2-S", "disableBackup": False}
    database = _one(dpa, _res("scaleway:databases/instance:Instance", "db", inputs))
    assert database["props"] == {"isHaCluster": True, "disableBackup": False}
    assert database["tags"] == {"env": "prod"}  # facts the normaliser derives still see every property
    bucket = _one(dpa, _res("scaleway:object/bucket:Bucket", "b", {"versioning": {"enabled": True}, "forceDestroy": True}))
    assert bucket["props"] == {"versioning": {"enabled": True}}
    every = _one({**dpa, "read_props": None}, _res("scaleway:databases/instance:Instance", "db", inputs))
    assert set(every["props"]) == set(inputs)  # the Rego reads props otherwise too: all are kept


def test_index_and_chunks_partition_the_resources(dpa: Any) -> None:
    resources = [_res("scaleway:network/vpc:Vpc", f"v{n}", {"region": "nl-ams" if n % 3 else "fr-par"}) for n in range(25)]
    facts = normalise([_stack(resources)], dpa, today=TODAY)
    assert sorted(facts["index"]["locality"]["region"]["known"]) == ["fr-par", "nl-ams"]
    parts = chunks(facts, 10)
    assert [len(p["resources"]) for p in parts] == [10, 10, 5]
    for n, part in enumerate(parts):
        whole = facts["resources"][10 * n : 10 * n + 10]
        assert part["index"] == build_index(whole) and part["stacks"] == rego_input(facts)["stacks"]
        assert part["resources"] == [rego_resource(r) for r in whole]


@pytest.mark.parametrize("distinct", [False, True])
def test_a_part_index_is_the_index_of_the_part(dpa: Any, distinct: bool) -> None:
    """index_part cuts a part's index out of the whole one: what build_index makes of the part's resources, shapes included."""
    from dpaguard.engine.index import index_part
    from support.estates import finding_heavy_estate

    resources = normalise([finding_heavy_estate(300, distinct=distinct)], dpa, today=TODAY)["resources"]
    buckets = [r for r in resources if r["type"] == "scaleway:object/bucket:Bucket"]
    for n, bucket in enumerate(buckets[::-1][: len(buckets) // 2]):  # groups whose first members come in another order
        bucket["props"] = {**bucket["props"], "versioning": {"enabled": n % 3 == 0, "round": n % 2}}
    whole = build_index(resources)
    assert len(whole["shape"]["bucket"]) >= 3
    for start, stop in ((0, 300), (0, 7), (7, 150), (150, 301), (299, 300), (300, 300), (13, 14), (140, 160)):
        expected = build_index(resources[start:stop])
        got = index_part(whole, start, stop)
        assert got == expected
        assert json.dumps(got["shape"]) == json.dumps(expected["shape"])  # the groups in the same order


def test_the_rego_input_holds_only_what_rules_read(dpa: Any) -> None:
    database = _one(dpa, _res("scaleway:databases/instance:Instance", "db", {"isHaCluster": True, "region": "fr-par"}))
    replica = _one(dpa, _res("scaleway:databases/readReplica:ReadReplica", "replica", {"instanceId": "db-id"}))
    given = rego_resource(database)
    assert given["locality"] == {k: database["locality"][k] for k in ("region", "zone", "status", "source")}
    assert given["project"] == {"value": database["project"]["value"], "source": database["project"]["source"]}
    assert {"id", "type", "package", "index", "country"}.isdisjoint(given) and given["props"] == database["props"]
    assert replica["project"]["expected"] is False and "project" not in rego_resource(replica)


def test_subprocessor_notice_counts_french_working_days(dpa: Any) -> None:
    dated = copy.deepcopy(dpa)
    for entry in dated["subprocessors"]["entries"]:
        if entry["name"] == "SCALEWAY":
            entry.update(notified="2024-01-08", added="2024-01-29")
    facts = normalise([_stack([])], dated, today=TODAY)
    assert facts["context"]["subprocessor_notice"]["SCALEWAY"] == 15  # 2024-01-08 -> 2024-01-29
    # The register as shipped has no dates (the DPA text gives none): unknown, never a number of days.
    assert normalise([_stack([])], dpa, today=TODAY)["context"]["subprocessor_notice"]["SCALEWAY"] is None


def test_values_rego_cpp_cannot_print_are_made_printable(dpa: Any) -> None:
    fact = _one(dpa, _res("scaleway:instance/securityGroup:SecurityGroup", "sg", {"zone": 'fr-"par\\-\x1f', "inboundDefaultPolicy": 2**63}))
    assert fact["locality"]["zone"] == "fr-'par/-?"
    assert fact["props"]["inboundDefaultPolicy"] == str(2**63)
    listed = _one(dpa, _res("scaleway:network/vpc:Vpc", "v", {"region": ["fr-par"]}))
    assert listed["locality"]["region"] == "['fr-par']"


def test_a_partial_view_judges_no_estate_wide_fact(dpa: Any) -> None:
    # Analyze sees one resource before it is created: links (an ACL naming a database) cannot be judged.
    deployment = _stack([_res("scaleway:network/vpc:Vpc", "v", {})])
    whole = normalise([deployment], dpa, today=TODAY)
    partial = normalise([deployment], dpa, today=TODAY, partial=True)
    assert partial["resources"] == whole["resources"] and partial["stacks"] == whole["stacks"]
