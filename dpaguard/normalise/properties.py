"""A resource's properties as facts: redacted and made printable, with their secret, plaintext, unknown and malformed parts, its tags, and the sources its network rules admit.

One walk over a property tree does the redaction and collects what rules read of it; a
security group's rules and an ACL's entries are judged against the internet rule here (the
Rego has no CIDR builtins in every engine), and tags are read for the environment and data
category they declare.
"""

from __future__ import annotations

import math
import re
from typing import Any, Mapping, Sequence

from dpaguard.engine.encoding import printable, printable_key
from dpaguard.markers import UNPRINTABLE
from dpaguard.model import PLAINTEXT_REDACTED, REDACTED, UNKNOWN
from dpaguard.normalise.network import InternetRule, is_internet, judge_source, looks_like_address
from dpaguard.normalise.property_types import whole_number
from dpaguard.deployment.credentials import marked_kinds
from dpaguard.deployment.redact import holds_no_credential, is_secret, is_sensitive_name, pair_name

# The tags that declare a resource's Appendix A data category (the first one set).
DATA_CATEGORY_KEYS = ("data-category", "data_category")


def _tag_pair(item: str) -> tuple[str, str]:
    """`env:prod` (or `env=prod`) as (key, value); a tag without either is a key with an empty value."""
    key, _, value = item.partition(":") if ":" in item else item.partition("=")
    return key, value


def tags_of(value: Any) -> tuple[dict[str, str], list[str]]:
    """A resource's tags as a map, and as the `key:value` items a list of tags gives (a map's made alike)."""
    if isinstance(value, dict):
        tags = {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}
        return tags, [f"{k}:{v}" for k, v in tags.items()]
    if isinstance(value, list):
        tags, items = {}, []
        for item in value:
            if not isinstance(item, str):
                continue
            items.append(item)
            key, val = _tag_pair(item)
            tags[key] = val
        return tags, items
    return {}, []


_PLAINTEXT_MARK = PLAINTEXT_REDACTED[:-1]
# The fields of a resource besides its properties that a source redacts a credential out of (every output prints
# them). Its parent and provider are other resources, reported on their own.
_REDACTED_FIELDS = ("urn", "type", "id", "sourcePosition")


def plaintext_fields(raw: Mapping[str, Any]) -> list[str]:
    """The resource's own fields that held a credential (a name, a type token, a source path), as plaintext paths."""
    found = []
    for field in _REDACTED_FIELDS:
        value = raw.get(field)
        if isinstance(value, str) and _PLAINTEXT_MARK in value:
            kinds = sorted(set(marked_kinds(value)))
            found.append(f"the resource's {field} ({', '.join(kinds)})" if kinds else f"the resource's {field}")
    return found


class Walk:
    """One pass over a property tree: redact, and collect secret, plaintext, unknown and address facts."""

    def __init__(self, internet: dict[str, bool], strings: set[str], rule: InternetRule) -> None:
        self.rule = rule
        self.secret: list[str] = []
        self.plaintext: list[str] = []
        self.unknown: list[str] = []
        self.internet = internet
        self.strings = strings

    def clean(self, value: Any, path: str, name: str | None, depth: int = 0) -> Any:
        if depth > 64:
            return None
        # Strings first: most values are (and a string is neither a secret wrapper nor a container).
        if isinstance(value, str):
            if value == UNKNOWN:
                self.unknown.append(path)
                return value
            if value == PLAINTEXT_REDACTED or (
                # the name first: its answer is cached, and few names are sensitive
                name is not None and value and value != REDACTED and is_sensitive_name(name) and not holds_no_credential(value)
            ):
                self.plaintext.append(path)
                return PLAINTEXT_REDACTED
            if _PLAINTEXT_MARK in value:
                # a credential the program pasted into a longer value (cloud-init user data), already cut out by the source
                kinds = sorted(set(marked_kinds(value)))
                self.plaintext.append(f"{path} ({', '.join(kinds)})" if kinds else path)
            elif REDACTED in value:
                # A `secure:` config value the program read as plain text (config.require) and put in a value
                # that is no secret (pasted into cloud-init user data, say): the state holds it in plaintext.
                # A secret stays a secret wrapper whole; the source gives a program read of one this marker.
                self.plaintext.append(f"{path} (a secure config value read as plain text)")
            if UNPRINTABLE.search(value):
                # rego-cpp prints strings into its JSON answer without escaping them: a quote, a
                # backslash or a control character in a fact would corrupt the answer.
                value = printable(value)
            if len(value) < 200:
                self.strings.add(value)
            if value not in self.internet and looks_like_address(value):
                self.internet[value] = is_internet(value, self.rule)
            return value
        if isinstance(value, dict):
            if is_secret(value):
                self.secret.append(path)
                return REDACTED
            # keys are printed into rego-cpp's answer too (a composite value in a message): made printable alike
            cleaned = {}
            given = pair_name(value)  # a name/value pair's value is judged under the name beside it
            for k, v in value.items():
                key = printable_key(k)  # paths are printed too (DPA-SEC-001): printable like every fact
                where = f"{path}.{key}" if path else key
                if _PLAINTEXT_MARK in key:
                    # a credential used as a property or tag name, already cut out of the name by the source
                    self.plaintext.append(f"{where} (a name)")
                cleaned[key] = self.clean(v, where, given if given is not None and k in ("value", "Value") else str(k), depth + 1)
            return cleaned
        if isinstance(value, list):
            return [self.clean(v, f"{path}[{i}]", name, depth + 1) for i, v in enumerate(value)]
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            return str(value)  # beyond int64: rego-cpp would wrap it around, OPA would not
        if isinstance(value, float):
            # 30.0 is 30 to every engine; a fraction stays a float (no property a rule reads is one,
            # and properties.yaml refuses it where a whole number belongs: rego-cpp keeps six digits);
            # NaN and infinities are not JSON and have no place in a provider input.
            value = whole_number(value)
            if isinstance(value, float) and not math.isfinite(value):
                return repr(value)
            return value
        return value


def inbound_rules(props: Mapping[str, Any], internet_rule: InternetRule) -> list[dict[str, Any]]:
    """Security-group inbound rules with their defaults made explicit (no ip means every ip, no port every port)."""
    rules = []
    declared = props.get("inboundRules")
    for rule in declared if isinstance(declared, list) else []:
        if not isinstance(rule, dict):
            continue
        # A part unknown until apply is undetermined (properties.yaml inboundRules); here it is judged as it reads.
        source = rule.get("ipRange") if rule.get("ipRange") not in (None, "") else rule.get("ip")
        low, high = 1, 65535
        port, port_range = rule.get("port"), rule.get("portRange")
        if isinstance(port, int) and not isinstance(port, bool) and 0 < port <= 65535:
            low = high = port
        elif isinstance(port_range, str) and "-" in port_range:
            first, _, last = port_range.partition("-")
            if re.fullmatch(r"[0-9]+", first.strip()) and re.fullmatch(r"[0-9]+", last.strip()) and 0 < int(first) <= int(last) <= 65535:
                low, high = int(first), int(last)
        # Anything else (no port, 0, a port past 65535 or beyond int64, garbage) is every port: fail closed.
        protocol = str(rule.get("protocol") or "TCP").strip().upper()
        action = str(rule.get("action") or "accept").strip().lower()
        verdict = judge_source(source, internet_rule)
        rules.append(
            {
                # The provider knows accept and drop; anything else is read as accept (fail closed).
                "action": "drop" if action == "drop" else "accept",
                "protocol": protocol,
                "port_from": low,
                "port_to": high,
                "source": source if source == UNKNOWN else printable(verdict.text),
                "internet": verdict.internet,
                "unparseable": source != UNKNOWN and not verdict.parseable,
            }
        )
    return rules


SECURITY_GROUP_TYPES = ("scaleway:instance/securityGroup:SecurityGroup", "scaleway:instance/securityGroupRules:SecurityGroupRules")


def security_group_facts(
    props: Mapping[str, Any], tags: Mapping[str, str], settings: Mapping[str, Any], internet_rule: InternetRule
) -> dict[str, Any]:
    """A security group's inbound rules (inbound_rules) and the media it declares it admits."""
    # What the group declares of the media it admits (settings.yaml media_encryption_tag, DPA-TLS-009):
    # the Rego input carries no tags, only this.
    declared = tags.get(settings.get("media_encryption_tag", {}).get("key", ""))
    return {
        "inbound_rules": inbound_rules(props, internet_rule),
        "media_encryption": printable(declared.strip().lower()) if isinstance(declared, str) else None,
    }


def backup_copy(settings: Mapping[str, Any], tags: Mapping[str, str]) -> bool:
    """Whether the tags say the resource holds backups (settings.yaml backup_tag, DPA-BAK-008)."""
    tag = settings.get("backup_tag", {})
    value = tags.get(tag.get("key", ""))
    return isinstance(value, str) and value.strip().lower() == tag.get("value")


# The resources whose ACL entries admit addresses, and the property listing those entries.
ACL_LISTS = {
    "scaleway:redis/cluster:Cluster": "acls",
    "scaleway:databases/acl:Acl": "aclRules",
    "scaleway:kubernetes/acl:Acl": "aclRules",
}


def judge_acl_sources(props: dict[str, Any], key: str, internet: dict[str, bool], rule: InternetRule) -> None:
    """Make each ACL entry's `ip` a source Rego can look up in `context.internet`, judged by judge_source.

    Rego reads `facts.is_internet(acl.ip)`: a source absent from that table (a number, `*`, a padded
    CIDR) would make the rule undefined and the ACL pass. Every entry's source is put in the table,
    an unparseable one as its text marked unparseable (judged as the internet).
    """
    entries = props.get(key)
    if not isinstance(entries, list):
        return
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            entry = {"ip": entry}
            entries[position] = entry
        source = entry.get("ip")
        # A source unknown until apply (preview) could be anything: judged as the internet too (besides its
        # undetermined decision, unknown_reads), since leaving it out of the table would pass it.
        verdict = judge_source(source, rule)
        text = "unknown until apply (judged as the internet)" if source == UNKNOWN else printable(verdict.text)
        entry["ip"] = text
        internet[text] = verdict.internet


def env_tag(settings: Mapping[str, Any], tags: Mapping[str, str], items: Sequence[str]) -> dict[str, Any] | None:
    """The resource's environment tag: {key, value, environment (None when the value names none)}, None without one.

    Tags that name two environments (`env:prod` beside `environment:dev`, or `env:prod` twice in a
    list with another value) name none: their keys and values are joined, so DPA-SEG-002 reports them.
    """
    rule = settings.get("environment_tag", {"keys": ["env"], "values": {}})
    found: list[tuple[str, str, str | None]] = []
    for key in rule["keys"]:
        # Every value a list of tags gives the key (it may give it twice), else the map's.
        values = [value for name, value in map(_tag_pair, items) if name == key]
        for value in values or ([tags[key]] if key in tags else []):
            named = next((env for env, names in rule["values"].items() if value.strip().lower() in names), None)
            if (key, value, named) not in found:
                found.append((key, value, named))
    if not found:
        return None
    # A value unknown until apply is undetermined (properties.yaml tags) whatever the others say: the index leaves it out.
    key, value, named = next((tag for tag in found if tag[1] == UNKNOWN), found[0])
    if value != UNKNOWN and len({named or value for _, value, named in found}) > 1:
        key = ", ".join(dict.fromkeys(key for key, _, _ in found))
        value, named = ", ".join(value for _, value, _ in found), None
    return {"key": printable(key), "value": printable(value), "environment": named}


def unknown_tags(
    dpa: Mapping[str, Any], settings: Mapping[str, Any], type_token: str, value: Any, tags: Mapping[str, str], taggable: bool,
) -> list[dict[str, Any]]:
    """Entries of `unknown` for the tags rules read (properties.yaml `tags`): unknown as a whole, under a key, or an item."""
    keys = {
        "env_tag": settings.get("environment_tag", {}).get("keys", ()),
        "data_category": DATA_CATEGORY_KEYS,
        "media_encryption": [settings.get("media_encryption_tag", {}).get("key", "")],
        "backup_copy": [settings.get("backup_tag", {}).get("key", "")],
    }
    # An unknown item of a list of tags may be any `key:value`: every fact is unknown with it.
    items = [f"tags[{i}]" for i, item in enumerate(value) if item == UNKNOWN] if isinstance(value, list) else []
    unknown = []
    for entry in dpa.get("properties", {}).get("tags", ()):
        if entry.get("types") and type_token not in entry["types"] or entry["fact"] == "env_tag" and not taggable:
            continue
        paths = ["tags"] if value == UNKNOWN else items + [f"tags.{key}" for key in keys[entry["fact"]] if tags.get(key) == UNKNOWN]
        unknown += [{"path": printable(path), "controls": list(entry["controls"])} for path in paths]
    return unknown
