"""Which rule sources admit the internet (regopy has no net.cidr_*)."""

from __future__ import annotations

import pytest

from dpaguard.normalise.network import InternetRule, is_internet, judge_source
from dpaguard.policy import load_policy
from support import POLICIES

# The shipped rule (settings.yaml `internet`): a public /8 or wider (IPv6: /16) is the internet.
RULE = InternetRule.of(load_policy(POLICIES).data["settings"])


def test_the_shipped_rule_is_the_one_these_cases_are_written_for() -> None:
    assert RULE == InternetRule(ipv4_prefix=8, ipv6_prefix=16)


def test_a_reviewer_can_narrow_what_counts_as_the_internet() -> None:
    assert is_internet("8.0.0.0/8", RULE) and not is_internet("8.0.0.0/8", InternetRule(ipv4_prefix=4, ipv6_prefix=16))
    assert is_internet("8.0.0.0/12", InternetRule(ipv4_prefix=12, ipv6_prefix=16))


@pytest.mark.parametrize("source", [None, "", "0.0.0.0/0", "::/0", "0.0.0.0/1", "128.0.0.0/1", "8.0.0.0/8", "2000::/3", "not-a-cidr"])
def test_internet(source: str | None) -> None:
    assert is_internet(source, RULE)


@pytest.mark.parametrize("source", ["10.0.0.0/8", "172.16.0.0/12", "203.0.113.16/28", "198.51.100.7", "fd00::/8", "2001:db8::/48"])
def test_not_internet(source: str) -> None:
    assert not is_internet(source, RULE)


@pytest.mark.parametrize("source", ["*", "everyone", 0, 1.5, ["0.0.0.0/0"], {"ip": "10.0.0.0/8"}, "10.0.0.0/8 , 1.2.3.4", "0.0.0.0 /0", "[secret]"])
def test_unparseable_sources_are_the_internet_and_say_so(source: object) -> None:
    verdict = judge_source(source, RULE)
    assert verdict.internet and not verdict.parseable
    assert verdict.text.endswith("(unparseable, judged as the internet)")


@pytest.mark.parametrize("source, internet", [
    (" 0.0.0.0/0", True), ("0.0.0.0/0\n", True), ("::ffff:0.0.0.0/96", True), ("::ffff:0:0/80", True), ("64:ff9b::/96", True),
    ("::ffff:10.0.0.0/104", False), ("::ffff:198.51.100.7", False), (" 10.0.0.0/8 ", False),
])
def test_padded_and_ipv4_mapped_sources_are_read_as_their_ipv4_range(source: str, internet: bool) -> None:
    verdict = judge_source(source, RULE)
    assert verdict.parseable and verdict.internet is internet and verdict.text == source.strip()
