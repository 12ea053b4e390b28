"""Other providers' firewalls as inbound rules, in the shape of a Scaleway security group's.

Appendix C §8.1 allows only necessary flows and SSH through tunnels, whichever provider the program
declares its firewall with: DPA-ACC-002 (no administrative port open to the internet) reads the
`inbound_rules` fact of every firewall type `policies/dpa/settings.yaml` lists under `other_firewalls`,
and that table names, for each type, the shape of its rules read here. Each rule admits one source
(a rule of three CIDRs is three rules); only rules that allow inbound traffic are kept (a deny rule,
an egress rule or a disabled firewall opens nothing). A port or source that cannot be read is every
port or the internet: fail closed.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Mapping

from dpaguard.markers import UNKNOWN
from dpaguard.normalise.network import InternetRule, judge_source

_ALL_PORTS = (1, 65535)
# Protocols that have no ports: a rule of one opens no administrative port.
_PORTLESS = frozenset({"ICMP", "ICMPV6", "GRE", "ESP", "AH", "58", "1"})
_RANGE = re.compile(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?")


def _port_text(value: Any) -> tuple[int, int]:
    """`"22"`, `"80-85"` (Hetzner, GCP) as a range; `any`, nothing or anything unreadable is every port."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 65535:
        return value, value
    match = _RANGE.fullmatch(value) if isinstance(value, str) else None
    if match:
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if 0 < low <= high <= 65535:
            return low, high
    return _ALL_PORTS


def _port_pair(low: Any, high: Any) -> tuple[int, int]:
    """AWS's fromPort/toPort: a readable range, else every port (0-0 with protocol -1 is every port too)."""
    if all(isinstance(p, int) and not isinstance(p, bool) for p in (low, high)) and 0 < low <= high <= 65535:
        return low, high
    return _ALL_PORTS


def _list(value: Any) -> list[Any]:
    if value == UNKNOWN:
        return [UNKNOWN]  # sources unknown until apply: one source, judged as the internet
    return list(value) if isinstance(value, list) else []


def _rules(protocol: Any, ports: tuple[int, int], sources: Iterable[Any], rule: InternetRule) -> list[dict[str, Any]]:
    text = "ALL" if protocol in (None, "", "-1", "all") else str(protocol).strip().upper()
    if text in _PORTLESS:
        return []
    out = []
    for source in sources:
        verdict = judge_source(source, rule)
        out.append({
            "action": "accept",
            "protocol": text,
            "port_from": ports[0],
            "port_to": ports[1],
            "source": source if source == UNKNOWN else verdict.text,
            "internet": verdict.internet,
            "unparseable": source != UNKNOWN and not verdict.parseable,
        })
    return out


def _hcloud(props: Mapping[str, Any], rule: InternetRule) -> list[dict[str, Any]]:
    """hcloud Firewall `rules`: {direction in|out, protocol, port "22"|"80-85"|"any", sourceIps}."""
    out: list[dict[str, Any]] = []
    for entry in _list(props.get("rules")):
        if not isinstance(entry, dict) or str(entry.get("direction") or "in").strip().lower() != "in":
            continue
        out += _rules(entry.get("protocol"), _port_text(entry.get("port")), _list(entry.get("sourceIps")), rule)
    return out


def _aws_cidrs(entry: Mapping[str, Any]) -> list[Any]:
    # Other security groups and prefix lists as sources are not the internet: only CIDRs are judged.
    return _list(entry.get("cidrBlocks")) + _list(entry.get("ipv6CidrBlocks"))


def _aws_group(props: Mapping[str, Any], rule: InternetRule) -> list[dict[str, Any]]:
    """aws.ec2.SecurityGroup inline `ingress`: {protocol, fromPort, toPort, cidrBlocks, ipv6CidrBlocks}."""
    out: list[dict[str, Any]] = []
    for entry in _list(props.get("ingress")):
        if isinstance(entry, dict):
            out += _rules(entry.get("protocol"), _port_pair(entry.get("fromPort"), entry.get("toPort")), _aws_cidrs(entry), rule)
    return out


def _aws_group_rule(props: Mapping[str, Any], rule: InternetRule) -> list[dict[str, Any]]:
    """aws.ec2.SecurityGroupRule of type ingress."""
    if str(props.get("type") or "").strip().lower() != "ingress":
        return []
    return _rules(props.get("protocol"), _port_pair(props.get("fromPort"), props.get("toPort")), _aws_cidrs(props), rule)


def _aws_ingress_rule(props: Mapping[str, Any], rule: InternetRule) -> list[dict[str, Any]]:
    """aws.vpc.SecurityGroupIngressRule: {ipProtocol, fromPort, toPort, cidrIpv4 | cidrIpv6}."""
    sources = [props[key] for key in ("cidrIpv4", "cidrIpv6") if props.get(key) not in (None, "")]
    return _rules(props.get("ipProtocol"), _port_pair(props.get("fromPort"), props.get("toPort")), sources, rule)


def _gcp_firewall(props: Mapping[str, Any], rule: InternetRule) -> list[dict[str, Any]]:
    """gcp.compute.Firewall: INGRESS `allows` [{protocol, ports}] from `sourceRanges`."""
    if str(props.get("direction") or "INGRESS").strip().upper() != "INGRESS" or props.get("disabled") is True:
        return []
    sources = _list(props.get("sourceRanges"))
    if not sources and not (props.get("sourceTags") or props.get("sourceServiceAccounts")):
        sources = [None]  # an ingress rule that names no source admits every address (0.0.0.0/0)
    out: list[dict[str, Any]] = []
    for allow in _list(props.get("allows")):
        if not isinstance(allow, dict):
            continue
        ports = _list(allow.get("ports")) or [None]
        for port in ports:
            out += _rules(allow.get("protocol"), _port_text(port), sources, rule)
    return out


# The shapes `other_firewalls` (settings.yaml) may name.
SHAPES: Mapping[str, Callable[[Mapping[str, Any], InternetRule], list[dict[str, Any]]]] = {
    "hcloud-firewall": _hcloud,
    "aws-security-group": _aws_group,
    "aws-security-group-rule": _aws_group_rule,
    "aws-ingress-rule": _aws_ingress_rule,
    "gcp-firewall": _gcp_firewall,
}


def inbound_rules(shape: str, props: Mapping[str, Any], rule: InternetRule) -> list[dict[str, Any]]:
    """The inbound rules a firewall of this shape declares (KeyError: a shape settings.yaml may not name)."""
    return SHAPES[shape](props, rule)
