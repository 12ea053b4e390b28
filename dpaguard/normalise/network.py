"""Address facts Rego cannot compute in regopy (no net.cidr_* builtins): is this source the internet?

Every access-rule source (security-group inbound rules, Redis ACLs, database ACL rules) is judged
here, by `judge_source`. It fails closed: a source it cannot read as an address or a CIDR (`*`,
`everyone`, a number, a list, garbage) is judged as the internet and said to be unparseable, so that
a finding can say why. Harmless spellings of an address are read as the provider would read them:
surrounding whitespace is dropped, and an IPv4-mapped (`::ffff:0.0.0.0/96`) or NAT64
(`64:ff9b::/96`) IPv6 range is judged as the IPv4 range it carries.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

# How much of an unparseable source a finding message shows.
_SHOWN_CHARS = 40
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# IPv6 ranges that carry IPv4 addresses in their last 32 bits: traffic from them is IPv4 traffic.
_IPV4_CARRIERS = (ipaddress.IPv6Network("::ffff:0:0/96"), ipaddress.IPv6Network("64:ff9b::/96"))


@dataclass(frozen=True)
class InternetRule:
    """How wide a public range must be to be "the internet" (policies/dpa/settings.yaml `internet`)."""

    ipv4_prefix: int  # a public IPv4 range with a prefix this short or shorter admits the internet
    ipv6_prefix: int

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> InternetRule:
        """The rule of a policy's settings (`policy.data["settings"]`)."""
        return cls(int(settings["internet"]["ipv4_prefix"]), int(settings["internet"]["ipv6_prefix"]))


@dataclass(frozen=True)
class SourceVerdict:
    """What an access-rule source admits: `text` is how findings show it (unparseable ones say so)."""

    internet: bool
    parseable: bool
    text: str


def _network(text: str) -> _Network | None:
    """The address or CIDR a source names, IPv4 carried in IPv6 given as IPv4; None when it is neither."""
    if not text or len(text) > 64 or any(c.isspace() for c in text):
        return None
    try:
        network: _Network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    if isinstance(network, ipaddress.IPv6Network):
        for carrier in _IPV4_CARRIERS:
            if network.prefixlen >= carrier.prefixlen and network.subnet_of(carrier):
                low = int(network.network_address) & 0xFFFFFFFF
                return ipaddress.IPv4Network((low, network.prefixlen - 96))
            if carrier.subnet_of(network):
                # Wider than a carrier range: it holds every IPv4 address too.
                return ipaddress.IPv4Network("0.0.0.0/0")
    return network


def _admits_internet(network: _Network, rule: InternetRule) -> bool:
    widest = rule.ipv4_prefix if network.version == 4 else rule.ipv6_prefix
    if network.prefixlen > widest:
        # 0.0.0.0 and :: alone are how some tools spell "any address"
        return int(network.network_address) == 0 and network.num_addresses == 1
    return not network.is_private


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def judge_source(source: Any, rule: InternetRule) -> SourceVerdict:
    """The verdict on one rule source: None (no source: every address), a string, or anything else (unparseable)."""
    if source is None:
        return SourceVerdict(internet=True, parseable=True, text="any")
    if isinstance(source, str):
        return _judge_text(source, rule)
    return SourceVerdict(internet=True, parseable=False, text=f"{_shown(source)} (unparseable, judged as the internet)")


@functools.lru_cache(maxsize=4096)
def _judge_text(source: str, rule: InternetRule) -> SourceVerdict:
    text = source.strip()
    if not text:
        return SourceVerdict(internet=True, parseable=True, text="any")
    network = _network(text)
    if network is None:
        return SourceVerdict(internet=True, parseable=False, text=f"{_shown(text)} (unparseable, judged as the internet)")
    return SourceVerdict(internet=_admits_internet(network, rule), parseable=True, text=text)


def is_internet(source: Any, rule: InternetRule) -> bool:
    """Whether a rule source admits the internet: none given, 0.0.0.0/0, ::/0, any very wide public range, or unparseable."""
    return judge_source(source, rule).internet


_ADDRESS_CHARACTERS = re.compile(r"[0-9A-Fa-f.:/]+")


@functools.lru_cache(maxsize=4096)
def looks_like_address(text: str) -> bool:
    """Whether a string is an IP address or CIDR (so its internet-ness is worth recording)."""
    if not text or len(text) > 50 or not (text[0].isdigit() or text[0] == ":" or text[0] in "abcdefABCDEF"):
        return False
    if "%" not in text and not _ADDRESS_CHARACTERS.fullmatch(text):
        # Outside an IPv6 zone (after "%") an address or network has only these characters; most
        # strings (ids, UUIDs, names) fail here, cheaply, instead of raising inside ipaddress.
        return False
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True
