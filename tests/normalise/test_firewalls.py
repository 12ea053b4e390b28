"""Other providers' firewalls read as inbound rules: only what admits inbound traffic, each source apart, unreadable as open."""

from __future__ import annotations

from typing import Any

import pytest

from dpaguard.markers import UNKNOWN
from dpaguard.normalise.firewalls import SHAPES, inbound_rules
from dpaguard.normalise.network import InternetRule
from dpaguard.policy import load_policy
from support import POLICIES

RULE = InternetRule.of(load_policy(POLICIES).data["settings"])


def _open(shape: str, props: dict[str, Any]) -> list[tuple[str, int, int, str, bool]]:
    return [(r["protocol"], r["port_from"], r["port_to"], r["source"], r["internet"]) for r in inbound_rules(shape, props, RULE)]


def test_every_shape_settings_names_is_read_here() -> None:
    assert set(load_policy(POLICIES).data["settings"]["other_firewalls"].values()) == set(SHAPES)


def test_a_hetzner_firewall_gives_one_rule_per_inbound_source_and_none_for_egress_or_icmp() -> None:
    rules = [
        {"direction": "in", "protocol": "tcp", "port": "22", "sourceIps": ["0.0.0.0/0", "::/0"]},
        {"direction": "in", "protocol": "tcp", "port": "8000-8100", "sourceIps": ["10.0.0.0/8"]},
        {"direction": "in", "protocol": "udp", "port": "any", "sourceIps": ["192.0.2.0/24"]},
        {"direction": "out", "protocol": "tcp", "port": "22", "destinationIps": ["0.0.0.0/0"]},
        {"direction": "in", "protocol": "icmp", "sourceIps": ["0.0.0.0/0"]},
    ]
    assert _open("hcloud-firewall", {"rules": rules}) == [
        ("TCP", 22, 22, "0.0.0.0/0", True), ("TCP", 22, 22, "::/0", True),
        ("TCP", 8000, 8100, "10.0.0.0/8", False), ("UDP", 1, 65535, "192.0.2.0/24", False),
    ]


def test_aws_ingress_in_a_group_a_rule_and_an_ingress_rule_resource() -> None:
    group = {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]},
                         {"protocol": "-1", "fromPort": 0, "toPort": 0, "securityGroups": ["sg-1"]}],
             "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]}
    assert _open("aws-security-group", group) == [("TCP", 22, 22, "0.0.0.0/0", True)]
    assert _open("aws-security-group-rule", {"type": "egress", "protocol": "-1", "cidrBlocks": ["0.0.0.0/0"]}) == []
    assert _open("aws-security-group-rule", {"type": "ingress", "protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"]}) == [
        ("ALL", 1, 65535, "::/0", True)]
    assert _open("aws-ingress-rule", {"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrIpv4": "198.51.100.32/28"}) == [
        ("TCP", 5432, 5432, "198.51.100.32/28", False)]


def test_a_gcp_ingress_firewall_without_a_source_admits_every_address() -> None:
    assert _open("gcp-firewall", {"allows": [{"protocol": "tcp", "ports": ["22", "6443"]}]}) == [
        ("TCP", 22, 22, "any", True), ("TCP", 6443, 6443, "any", True)]
    assert _open("gcp-firewall", {"allows": [{"protocol": "tcp"}], "sourceTags": ["web"]}) == []
    assert _open("gcp-firewall", {"allows": [{"protocol": "tcp"}], "sourceRanges": ["0.0.0.0/0"], "disabled": True}) == []
    assert _open("gcp-firewall", {"allows": [{"protocol": "tcp"}], "sourceRanges": ["0.0.0.0/0"], "direction": "EGRESS"}) == []


@pytest.mark.parametrize("port", ["22-", "sixty", 0, 70000, None, True])
def test_a_port_that_cannot_be_read_is_every_port(port: Any) -> None:
    (rule,) = _open("hcloud-firewall", {"rules": [{"direction": "in", "protocol": "tcp", "port": port, "sourceIps": ["0.0.0.0/0"]}]})
    assert rule[1:3] == (1, 65535)


def test_sources_unknown_until_apply_are_judged_as_the_internet() -> None:
    (rule,) = _open("hcloud-firewall", {"rules": [{"direction": "in", "protocol": "tcp", "port": "22", "sourceIps": UNKNOWN}]})
    assert rule == ("TCP", 22, 22, UNKNOWN, True)
