"""Access-rule sources a rule cannot read are judged as the internet, end to end (issue 15, item 13).

Security-group inbound rules (DPA-ACC-002), Redis ACLs (DPA-ACC-003) and database ACL rules
(DPA-ACC-004) share one judge, `dpaguard.normalise.network.judge_source`.
"""

from __future__ import annotations

from typing import Any

import pytest

from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.pipeline import run_stages
from dpaguard.policy import Policy

from support.control_estate import TODAY, changed, find

# Sources that admit the internet however they are spelled, and garbage that must be judged as it.
HOSTILE = ["*", "everyone", "any", " 0.0.0.0/0", "0.0.0.0/0 ", "\t::/0\n", 0, "::ffff:0.0.0.0/96", "64:ff9b::/96",
           "0.0.0.0/0,10.0.0.0/8", "internet", ["0.0.0.0/0"], {"cidr": "0.0.0.0/0"}, "[secret]", "0.0.0.0 /0", "０.0.0.0/0"]
UNPARSEABLE = {"*", "everyone", "any", "0.0.0.0/0,10.0.0.0/8", "internet", "[secret]", "0.0.0.0 /0", "０.0.0.0/0"}
PRIVATE = ["10.0.0.0/8", " 172.16.8.0/22 ", "::ffff:10.0.0.0/104", "203.0.113.16/28"]


def _hits(policy: Policy, engine: EmbeddedEngine, control: str, deployment: Any) -> list[str]:
    findings = run_stages([deployment], policy, engine, today=TODAY).findings
    return [f.message for f in findings if f.control == control and f.status == "violation"]


@pytest.mark.parametrize("source", HOSTILE, ids=repr)
def test_hostile_redis_acl_sources_fail(policy: Policy, engine: EmbeddedEngine, source: Any) -> None:
    messages = _hits(policy, engine, "DPA-ACC-003", changed("prod", "cache", acls=[{"ip": source}]))
    assert len(messages) == 1, messages
    if isinstance(source, str) and source in UNPARSEABLE or not isinstance(source, str):
        assert "unparseable, judged as the internet" in messages[0]


@pytest.mark.parametrize("source", HOSTILE, ids=repr)
def test_hostile_database_acl_sources_fail(policy: Policy, engine: EmbeddedEngine, source: Any) -> None:
    assert len(_hits(policy, engine, "DPA-ACC-004", changed("prod", "db-acl", aclRules=[{"ip": source}]))) == 1


def test_an_acl_entry_without_a_source_or_not_an_object_fails(policy: Policy, engine: EmbeddedEngine) -> None:
    assert _hits(policy, engine, "DPA-ACC-004", changed("prod", "db-acl", aclRules=[{"description": "x"}]))
    assert _hits(policy, engine, "DPA-ACC-003", changed("prod", "cache", acls=["0.0.0.0/0"]))


@pytest.mark.parametrize("source", PRIVATE)
def test_private_and_narrow_sources_pass(policy: Policy, engine: EmbeddedEngine, source: str) -> None:
    assert not _hits(policy, engine, "DPA-ACC-003", changed("prod", "cache", acls=[{"ip": source}]))
    assert not _hits(policy, engine, "DPA-ACC-004", changed("prod", "db-acl", aclRules=[{"ip": source}]))


@pytest.mark.parametrize("source", HOSTILE, ids=repr)
@pytest.mark.parametrize("action", ["accept", "ACCEPT ", " Accept", "allow", None])
def test_hostile_security_group_rules_fail(policy: Policy, engine: EmbeddedEngine, source: Any, action: Any) -> None:
    rule = {"action": action, "port": 22, "ipRange": source}
    messages = _hits(policy, engine, "DPA-ACC-002", changed("prod", "sg", inboundRules=[rule]))
    assert len(messages) == 1, messages


@pytest.mark.parametrize("rule", [
    {"action": "accept", "portRange": "20-99999999999999999999", "ipRange": "0.0.0.0/0"},
    {"action": "accept", "portRange": "22-18446744073709551638", "ipRange": "0.0.0.0/0"},
    {"action": "accept", "port": 18446744073709551638, "ipRange": "0.0.0.0/0"},
    {"action": "accept", "port": -1, "ipRange": "0.0.0.0/0"},
    {"action": "accept", "portRange": "30-20", "ipRange": "0.0.0.0/0"},
])
def test_ports_beyond_range_are_every_port(policy: Policy, engine: EmbeddedEngine, rule: dict[str, Any]) -> None:
    assert _hits(policy, engine, "DPA-ACC-002", changed("prod", "sg", inboundRules=[rule]))


def test_drop_rules_in_any_case_stay_drop(policy: Policy, engine: EmbeddedEngine) -> None:
    rule = {"action": " DROP ", "port": 22, "ipRange": "0.0.0.0/0"}
    assert not _hits(policy, engine, "DPA-ACC-002", changed("prod", "sg", inboundRules=[rule]))


def test_an_acl_source_unknown_in_preview_is_judged_as_the_internet(policy: Policy, engine: EmbeddedEngine) -> None:
    from dpaguard.model import UNKNOWN

    messages = _hits(policy, engine, "DPA-ACC-003", changed("prod", "cache", acls=[{"ip": UNKNOWN}]))
    assert len(messages) == 1 and "unknown until apply" in messages[0]
    assert _hits(policy, engine, "DPA-ACC-004", changed("prod", "db-acl", aclRules=[{"ip": UNKNOWN}]))
