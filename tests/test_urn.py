"""Pulumi's URN grammar, kept in dpaguard/urn.py: built and read back the way the Pulumi engine writes URNs."""

from __future__ import annotations

from dpaguard.urn import (
    is_default_provider,
    is_provider_type,
    name_of,
    parse_urn,
    provider_type,
    provider_urn_of,
    short_stack_name,
    stack_urn,
    urn,
)

# As `pulumi stack export` writes them (a component's child carries its parent's type, `$`-joined).
CHILD = "urn:pulumi:org/prod::dpa-estate::dpa:network:Network$scaleway:vpc/privateNetwork:PrivateNetwork::pn-app"
PROVIDER = "urn:pulumi:prod::dpa-estate::pulumi:providers:scaleway::default_1_2_3"


def test_urns_are_built_and_read_back() -> None:
    built = urn("org/prod", "dpa-estate", "dpa:network:Network$scaleway:vpc/privateNetwork:PrivateNetwork", "pn-app")
    assert built == CHILD
    assert parse_urn(CHILD) == ("org/prod", "dpa-estate", "dpa:network:Network$scaleway:vpc/privateNetwork:PrivateNetwork", "pn-app")
    assert stack_urn("prod", "dpa-estate") == "urn:pulumi:prod::dpa-estate::pulumi:pulumi:Stack::dpa-estate-prod"
    # A name may hold `::` itself: the grammar splits the first three separators only.
    assert parse_urn("urn:pulumi:s::p::t::a::b") == ("s", "p", "t", "a::b")
    assert parse_urn("urn:pulumi:s::p::t") is None and parse_urn("arn:aws:s3:::b") is None and parse_urn(None) is None


def test_names_and_providers() -> None:
    assert name_of(CHILD) == "pn-app" and name_of("plain") == "plain"
    assert name_of("urn:pulumi:s::p::t::a::b") == "b"  # the last part, as every report has always shown it
    assert provider_type("scaleway") == "pulumi:providers:scaleway" and is_provider_type(provider_type("datapacket"))
    assert provider_urn_of(PROVIDER + "::04da6b54-80e4-46f7-96ec-b56ff0331ba9") == PROVIDER
    assert provider_urn_of("") == provider_urn_of(None) == ""
    # A malformed reference still names a provider (one the deployment lacks): never the default one.
    assert provider_urn_of("garbage") == "garbage" and not is_default_provider(provider_urn_of("garbage"))
    assert is_default_provider(PROVIDER) and not is_default_provider(PROVIDER.replace("default_1_2_3", "paris"))
    assert short_stack_name("org/project/prod") == "prod" and short_stack_name("dev") == "dev"


def test_one_grammar_of_source_positions_for_the_state_reader_and_the_normaliser() -> None:
    from dpaguard.urn import source_position

    assert source_position("project:///infra/estate/database.py#26,9") == ("infra/estate/database.py", 26, 9)
    assert source_position("project:///infra/__main__.py#4") == ("infra/__main__.py", 4, 1)
    assert source_position("project:///odd#name.py#7,2") == ("odd#name.py", 7, 2)
    for not_one in (None, 12, "", "file:///x.py#1", "project:///x.py", "project:///x.py#-1", "project:///x.py#1,a",
                    "project:///#3", "project:///x.py#1\n"):
        assert source_position(not_one) is None, not_one
