"""Reading the analyzer protocol: unknowns, secrets, numbers, providers, ConfigureStack and the pack's config."""

from __future__ import annotations

from typing import Any
import pytest
from pulumi.runtime.proto import analyzer_pb2 as pb

from dpaguard.model import PLAINTEXT_REDACTED, REDACTED, SECRET_SIG, SECRET_SIG_KEY, UNKNOWN
from dpaguard.pack import protocol
from dpaguard.pack.context import PackConfigError, config_value, pack_config, stack_context
from dpaguard.deployment.redact import secret_placeholder

from support.pack_fixtures import CANARY
from support.pack_harness import struct_of


def test_every_unknown_sentinel_reads_as_unknown() -> None:
    props: dict[str, Any] = {f"p{i}": sentinel for i, sentinel in enumerate(sorted(protocol.UNKNOWN_SENTINELS))}
    props["nested"] = {"list": ["fr-par", "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"]}
    read = protocol.properties(struct_of(props))
    assert {read[f"p{i}"] for i in range(len(protocol.UNKNOWN_SENTINELS))} == {UNKNOWN}
    assert read["nested"] == {"list": ["fr-par", UNKNOWN]}


def test_secrets_become_placeholders_and_sensitive_plaintext_is_redacted() -> None:
    props = {
        "password": {SECRET_SIG_KEY: SECRET_SIG, "value": CANARY},
        "nested": {"deep": [{SECRET_SIG_KEY: SECRET_SIG, "value": {"token": CANARY}}]},
        "apiToken": CANARY,
        "region": "fr-par",
    }
    read = protocol.properties(struct_of(props))
    assert read["password"] == secret_placeholder()
    assert read["nested"]["deep"][0] == secret_placeholder()
    assert read["apiToken"] == PLAINTEXT_REDACTED
    assert read["region"] == "fr-par"
    assert CANARY not in repr(read)


def test_whole_numbers_read_as_integers_like_a_stack_export() -> None:
    read = protocol.properties(struct_of({"days": 30, "ratio": 0.5, "flag": True, "none": None}))
    assert read == {"days": 30, "ratio": 0.5, "flag": True, "none": None}
    assert isinstance(read["days"], int)


def test_analyze_request_carries_the_provider_and_its_reference() -> None:
    request = pb.AnalyzeRequest(
        urn="urn:pulumi:prod::p::scaleway:object/bucket:Bucket::b", type="scaleway:object/bucket:Bucket", name="b",
        properties=struct_of({"name": "b"}), options=pb.AnalyzerResourceOptions(parent="urn:pulumi:prod::p::c:C::c"),
        provider=pb.AnalyzerProviderResource(urn="urn:pulumi:prod::p::pulumi:providers:scaleway::default",
                                             type="pulumi:providers:scaleway", name="default",
                                             properties=struct_of({"region": "nl-ams"})))
    provider, resource = protocol.analyze_request_resources(request)
    assert provider["inputs"] == {"region": "nl-ams"} and provider["custom"]
    assert resource["provider"] == f"{provider['urn']}::{provider['id']}"
    assert resource["parent"] == "urn:pulumi:prod::p::c:C::c" and resource["custom"]


def test_a_component_has_no_provider_and_is_not_custom() -> None:
    request = pb.AnalyzeRequest(urn="urn:pulumi:prod::p::dpa:estate:Network::n", type="dpa:estate:Network", name="n")
    [resource] = protocol.analyze_request_resources(request)
    assert resource["custom"] is False and "provider" not in resource and "id" not in resource


def test_configure_stack_keeps_identity_types_config_and_redacts_secrets() -> None:
    request = pb.AnalyzerStackConfigureRequest(
        stack="organization/dpa-estate/prod", project="dpa-estate", organization="organization", dry_run=True,
        config={"scaleway:region": "fr-par", "dpaguard:minBackupRetentionDays": "14", "dpa-estate:dbHighAvailability": "true",
                "dpa-estate:adminSourceCidrs": '["203.0.113.16/28"]', "dpa-estate:dbPassword": CANARY,
                "dpa-estate:zip": "007", "dpa-estate:apiToken": CANARY},
        config_secret_keys=["dpa-estate:dbPassword"], tags={"team": "voice"})
    context = stack_context(request)
    assert (context.stack, context.project, context.dry_run) == ("prod", "dpa-estate", True)
    assert context.config["dpaguard:minBackupRetentionDays"] == 14
    assert context.config["dpa-estate:dbHighAvailability"] is True
    assert context.config["dpa-estate:adminSourceCidrs"] == ["203.0.113.16/28"]
    assert context.config["dpa-estate:zip"] == "007"
    assert context.config["dpa-estate:dbPassword"] == REDACTED
    assert context.config["dpa-estate:apiToken"] == PLAINTEXT_REDACTED  # not declared secret, but looks it
    assert CANARY not in repr(context)
    assert context.tags == {"team": "voice"}


@pytest.mark.parametrize("text, value", [("30", 30), ("-1.5", -1.5), ("false", False), ("fr-par", "fr-par"),
                                         ("+1", "+1"), ("1e3", 1000.0), ("{bad", "{bad"), ("", "")])
def test_config_values_typed_as_pulumi_types_them(text: str, value: object) -> None:
    assert config_value(text) == value


def test_pack_settings_read_and_checked() -> None:
    ids = frozenset({"DPA-RES-001"})
    settings = pack_config({"environment": "dev", "minBackupRetentionDays": 14.0, "opaUrl": "http://127.0.0.1:8181",
                              "enforcement": {"DPA-RES-001": "advisory"}}, ids)
    assert (settings.environment, settings.min_backup_retention_days, settings.opa_url) == ("dev", 14, "http://127.0.0.1:8181")
    assert settings.enforcement == {"DPA-RES-001": "advisory"}
    for bad in ({"environment": "qa"}, {"minBackupRetentionDays": 0}, {"minBackupRetentionDays": 1.5},
                {"opaUrl": "ftp://x"}, {"enforcement": {"DPA-NOPE-1": "advisory"}},
                {"enforcement": {"DPA-RES-001": "loud"}}, {"opaTimeoutSeconds": 0}):
        with pytest.raises(PackConfigError):
            pack_config(bad, ids)
