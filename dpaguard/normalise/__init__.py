"""Deployments -> the facts the Rego policies read: `{"stacks": [...], "resources": [...], "context": {...}}`.

The normaliser does what Rego (in regopy) cannot or should not: resolve effective locality and
project through providers and stack config, map deprecated type tokens, parse tags, find secret,
plaintext and unknown properties, decide whether a CIDR is the internet, count French working
days, and index cross-stack sharing. Rego then judges one resource or one stack at a time.
Facts never hold a secret value: secret wrappers become REDACTED, sensitive plaintext PLAINTEXT_REDACTED.

The facts' schema is declared once, in dpaguard/facts.py (what each resource and stack fact holds);
the index groups resource positions by the values broad rules test (normalise/index.py). The Rego
input (dpaguard/engine/shaping.py) carries each resource as rego_resource() reduces it: only the
facts a rule reads.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import json
import math
import re
from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence, cast

from dpaguard import urn as pulumi_urn
from dpaguard.environment import environment_of
from dpaguard.errors import InputError, PolicyError
from dpaguard.facts import Facts, FactsContext, ResourceFacts, StackFacts
from dpaguard.markers import UNPRINTABLE
from dpaguard.model import PLAINTEXT_REDACTED, REDACTED, UNKNOWN, Deployment
from dpaguard.normalise.calendar import working_days_between
from dpaguard.normalise.firewalls import SHAPES as firewall_shapes
from dpaguard.normalise.firewalls import inbound_rules
from dpaguard.normalise.index import SHAPE_PROPS, build_index
from dpaguard.normalise.network import InternetRule, is_internet, judge_source, looks_like_address
from dpaguard.normalise.property_types import checked_props, unknown_reads, whole_number
from dpaguard.normalise.types import canonical_type, type_info, type_token_problem
from dpaguard.policy import DpaData
from dpaguard.source.credentials import marked_kinds
from dpaguard.source.redact import holds_no_credential, is_secret, is_sensitive_name, pair_name
from dpaguard.urn import STACK_REFERENCE_TYPE, STACK_TYPE, is_default_provider, is_provider_type, name_of, provider_type, provider_urn_of

DYNAMIC_PREFIX = "pulumi-python:dynamic/"
# A resource whose recorded outputs disagree with its declared inputs on what a rule reads is judged
# twice: as declared, and as recorded under this URN (its own URN plus the suffix); findings give
# the decisions of the recorded view back to the resource, saying they rest on the recorded state.
RECORDED_SUFFIX = " [recorded]"
RECORDED_NOTE = "(as recorded in the state's outputs; the program declares otherwise)"
DATAPACKET_SERVER = "pulumi-python:dynamic/datapacket:Server"
# The tags that declare a resource's Appendix A data category (the first one set).
DATA_CATEGORY_KEYS = ("data-category", "data_category")
SETTING_KEYS = {
    "minBackupRetentionDays": "dpaguard:minBackupRetentionDays",
    "callRecordingRetentionDays": "dpaguard:callRecordingRetentionDays",
    "transcriptRetentionDays": "dpaguard:transcriptRetentionDays",
}


def package_of(type_token: str, dynamic_modules: Mapping[str, str]) -> str:
    """The provider package of a canonical type token (dynamic resources: their module's package)."""
    if type_token.startswith(DYNAMIC_PREFIX):
        module = type_token[len(DYNAMIC_PREFIX):].split(":", 1)[0]
        return dynamic_modules.get(module, f"dynamic/{module}")
    if is_provider_type(type_token):
        return "pulumi"
    return type_token.split(":", 1)[0]


# Characters rego-cpp prints unescaped into its JSON answer (the embedded engine swaps URNs holding them).
def _printable(text: str) -> str:
    """Text rego-cpp can print into JSON unescaped: quotes become ', backslashes /, control characters ?."""
    return UNPRINTABLE.sub(lambda m: {'"': "'", "\\": "/"}.get(m.group(0), "?"), text)


def _disagree(raw: Mapping[str, Any]) -> bool:
    """Whether a resource's recorded outputs give another value than its declared inputs to a property both hold."""
    inputs, outputs = _mapping(raw.get("inputs")), _mapping(raw.get("outputs"))
    return any(outputs[key] != value for key, value in inputs.items() if key in outputs)


def declared_urn(fact: ResourceFacts) -> str:
    """The URN of the resource a fact describes (a recorded view's is its resource's)."""
    return str(fact.get("recorded_of", fact["urn"]))


def _mapping(value: Any) -> dict[str, Any]:
    # A property map that is one secret wrapper as a whole (a corrupt or hostile export) holds nothing readable;
    # merged with the other map it would make that one a single secret too and hide its region.
    return value if isinstance(value, dict) and not is_secret(value) else {}


def _tag_pair(item: str) -> tuple[str, str]:
    """`env:prod` (or `env=prod`) as (key, value); a tag without either is a key with an empty value."""
    key, _, value = item.partition(":") if ":" in item else item.partition("=")
    return key, value


def _tags(value: Any) -> tuple[dict[str, str], list[str]]:
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


def _plaintext_fields(raw: Mapping[str, Any]) -> list[str]:
    """The resource's own fields that held a credential (a name, a type token, a source path), as plaintext paths."""
    found = []
    for field in _REDACTED_FIELDS:
        value = raw.get(field)
        if isinstance(value, str) and _PLAINTEXT_MARK in value:
            kinds = sorted(set(marked_kinds(value)))
            found.append(f"the resource's {field} ({', '.join(kinds)})" if kinds else f"the resource's {field}")
    return found


class _Walk:
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
                name is not None and value and value != REDACTED and not holds_no_credential(value) and is_sensitive_name(name)
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
                value = _printable(value)
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
                key = _key(k)  # paths are printed too (DPA-SEC-001): printable like every fact
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


@functools.lru_cache(maxsize=65536, typed=True)  # typed: key 1 and key True print differently
def _key(key: Any) -> str:
    text = str(key)
    return _printable(text) if UNPRINTABLE.search(text) else text


def _inbound_rules(props: Mapping[str, Any], internet_rule: InternetRule) -> list[dict[str, Any]]:
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
                "source": source if source == UNKNOWN else _printable(verdict.text),
                "internet": verdict.internet,
                "unparseable": source != UNKNOWN and not verdict.parseable,
            }
        )
    return rules


# The resources whose ACL entries admit addresses, and the property listing those entries.
_ACL_LISTS = {
    "scaleway:redis/cluster:Cluster": "acls",
    "scaleway:databases/acl:Acl": "aclRules",
    "scaleway:kubernetes/acl:Acl": "aclRules",
}


def _judge_acl_sources(props: dict[str, Any], key: str, internet: dict[str, bool], rule: InternetRule) -> None:
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
        text = "unknown until apply (judged as the internet)" if source == UNKNOWN else _printable(verdict.text)
        entry["ip"] = text
        internet[text] = verdict.internet


_POSITION = re.compile(r"^project://(?P<path>[^#]*)#(?P<line>\d+)(?:,(?P<column>\d+))?$")


def _location(deployment: Deployment, raw: Mapping[str, Any], urn: str) -> list[Any] | None:
    """[path, line, column] of the program line that declared a resource, when the source knows it."""
    known = deployment.source_positions.get(urn)
    if known:
        return [known[0], int(known[1]), int(known[2])]
    position = raw.get("sourcePosition")
    if isinstance(position, str):
        match = _POSITION.match(position)
        if match:
            return [match.group("path").lstrip("/"), int(match.group("line")), int(match.group("column") or 1)]
    return None


# The largest integer both engines hold as it is: rego-cpp wraps integers beyond int64 around.
_INT64_MAX = 2**63 - 1


def _setting(value: Any) -> int | None:
    """A number-of-days setting, or None when it is not a whole number from 0 to int64's largest (never wrapped)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()) and len(value.strip()) <= 19:
        value = int(value.strip())
    if isinstance(value, int) and 0 <= value <= _INT64_MAX:
        return value
    return None


_NOT_EXPECTED = {"expected": False, "value": None, "status": "known", "source": "none"}


def _camel(key: str) -> str:
    """`project_id` -> `projectId`; a camelCase key as it is."""
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _scaleway_setting(config: Mapping[str, Any], name: str) -> Any:
    """A `scaleway:<name>` stack setting, also under its snake_case spelling (`scaleway:project_id`)."""
    value = config.get(f"scaleway:{name}")
    if value in (None, ""):
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
        value = config.get(f"scaleway:{snake}")
    return value


def _text(value: Any) -> str:
    """A locality or project value as text: anything else in that place is malformed, and shown as it is."""
    if is_secret(value):
        return REDACTED  # a provider input or config value given as a secret: its ciphertext is no locality
    return _printable(value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str))


def _locality_value(
    key: str, props: Mapping[str, Any], provider: Mapping[str, Any] | None, config: Mapping[str, Any]
) -> tuple[Any, str]:
    if key in props and props[key] not in (None, ""):
        return _text(props[key]), "resource"
    if provider and provider.get(key) not in (None, ""):
        return _text(provider[key]), "provider"
    configured = config.get(f"scaleway:{key}")
    if configured not in (None, ""):
        return _text(configured), "stack"
    return None, "none"


_PROJECT_TYPE = "scaleway:account/project:Project"


def _created_project(sources: Any) -> str | None:
    """`<name> (created by the stack)` when a value was computed from one project the stack creates, and nothing else."""
    urns = {u for u in sources if isinstance(u, str)} if isinstance(sources, list) else set()
    parsed = [pulumi_urn.parse_urn(u) for u in urns]
    if len(parsed) != 1 or parsed[0] is None or canonical_type(parsed[0][2].rsplit("$", 1)[-1]) != _PROJECT_TYPE:
        return None
    return f"{_printable(parsed[0][3])} (created by the stack)"


def _status(value: Any) -> str:
    if value is None:
        return "missing"
    if value == UNKNOWN:
        return "unknown"
    return "known"


class Normaliser:
    """Turns deployments into facts with the DPA tables of a policy (`policy.data`)."""

    def __init__(self, dpa: DpaData) -> None:
        self.dpa = dpa
        self.locations = dpa["locations"]
        self.register = dpa["subprocessors"]
        self.settings = dpa["settings"]
        self.internet_rule = InternetRule.of(self.settings)
        self.shared_kinds = {type_token: kind for kind, types in self.settings["shared_resources"].items() for type_token in types}
        self.notice_days = int(self.settings["subprocessor_notice_working_days"])
        self.examined = frozenset(dpa.get("examined_types", ()))
        read = dpa.get("read_props")
        # The properties a rule reads by name (and the shapes' own), or None: the Rego reads others too.
        self.kept_props = None if read is None else frozenset(read) | SHAPE_PROPS
        self.property_types: Mapping[str, Any] = dpa.get("properties", {}).get("types", {})
        self._outside: dict[tuple[str | None, str], bool] = {}
        self.firewalls: Mapping[str, str] = self.settings.get("other_firewalls", {})
        unknown_shapes = sorted(set(self.firewalls.values()) - set(firewall_shapes))
        if unknown_shapes:
            raise PolicyError(f"settings.yaml other_firewalls: no shape {unknown_shapes[0]!r} (known: {', '.join(sorted(firewall_shapes))})")

    def facts(
        self,
        deployments: Sequence[Deployment],
        *,
        today: dt.date,
        environment_override: str | None = None,
        stack_settings: Mapping[str, Any] | None = None,
        partial: bool = False,
    ) -> Facts:
        """The Rego input for one evaluation of one or more stacks (`partial`: see `normalise`)."""
        internet: dict[str, bool] = {}
        stacks: list[dict[str, Any]] = []
        resources: list[dict[str, Any]] = []
        strings_by_resource: list[set[str]] = []
        names = [d.stack for d in deployments]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            # Rules find a resource's stack by name: one name, one stack (the CLI refuses it earlier).
            raise InputError(f"stack {_printable(twice[0])!r} is given twice: evaluate each stack once")
        for deployment in deployments:
            stack = self._stack(deployment, environment_override, stack_settings or {})
            stack_resources, strings = self._resources(deployment, stack, internet, len(resources))
            stack["subprocessors"] = sorted({r["subprocessor"] for r in stack_resources if r.get("subprocessor")})
            stacks.append(stack)
            resources.extend(stack_resources)
            strings_by_resource.extend(strings)
        self._cross_stack(resources, strings_by_resource)
        if not partial:
            # A partial view (the pack's Analyze of one resource) cannot show that nothing names a
            # resource: links are judged on the whole stack (AnalyzeStack), never on a part.
            self._link(resources, _property_dependencies(deployments))
        for fact in resources:
            fact["props"] = self._rule_props(fact)
            _compact(fact)
        # None: the register records no dates for the entry (unknown), so its notice cannot be shown.
        notice = {
            entry["name"]: (
                working_days_between(dt.date.fromisoformat(entry["notified"]), dt.date.fromisoformat(entry["added"]))
                if entry["notified"] and entry["added"] else None
            )
            for entry in self.register["entries"]
        }
        for stack in stacks:
            stack["late_subprocessors"] = [
                {"name": name, "working_days": days}
                for name in stack["subprocessors"]
                if (days := notice.get(name)) is not None and days < self.notice_days
            ]
            stack["undated_subprocessors"] = [name for name in stack["subprocessors"] if name in notice and notice[name] is None]
        # Facts are built as plain dicts, in passes (cross-stack sharing, links, compaction), and declared
        # at this boundary: tests/normalise/test_facts_schema.py holds what is built to the declaration.
        return Facts(
            stacks=cast("list[StackFacts]", stacks),
            resources=cast("list[ResourceFacts]", resources),
            index=build_index(resources),
            context=FactsContext(today=today.isoformat(), unknown=UNKNOWN, internet=internet, subprocessor_notice=notice),
        )

    def _stack(self, deployment: Deployment, override: str | None, stack_settings: Mapping[str, Any]) -> dict[str, Any]:
        config = deployment.config
        environment, source = environment_of(deployment.stack, config, self.settings["environment_names"], override)
        settings: dict[str, Any] = {name: _setting(config.get(key)) for name, key in SETTING_KEYS.items()}
        for name, value in stack_settings.items():
            if name in settings:
                settings[name] = _setting(value)
        floor = int(self.settings["defaults"]["minBackupRetentionDays"])
        if settings["minBackupRetentionDays"] is None:
            configured = stack_settings.get("minBackupRetentionDays", config.get(SETTING_KEYS["minBackupRetentionDays"]))
            # A minimum that is set but unreadable (beyond int64, negative, text) is held to be larger than
            # any retention, so every database is reported rather than judged against a guess.
            settings["minBackupRetentionDays"] = floor if configured is None else _INT64_MAX
        # The DPA's minimum is policy data (policies/dpa/settings.yaml): a stack's own setting, written in
        # the tree a pull request changes, may raise it and never lower it.
        settings["minBackupRetentionDays"] = max(floor, settings["minBackupRetentionDays"])
        plaintext_keys = sorted(
            key
            for key, value in config.items()
            if key not in deployment.secret_config_keys and value != REDACTED and not holds_no_credential(value)
            and is_sensitive_name(key.split(":", 1)[-1])
        )
        project = _scaleway_setting(config, "projectId")
        return {
            "name": deployment.stack,
            "urn": deployment.stack_urn,
            "pulumi_project": deployment.project,
            "environment": environment,
            "environment_source": source,
            "scaleway_project": project if isinstance(project, str) and project else None,
            "default_region": _scaleway_setting(config, "region"),
            "default_zone": config.get("scaleway:zone"),
            "settings": settings,
            "config_file": deployment.config_file,
            # key -> [line, column] in the stack config file (findings point there; the Rego never reads it)
            "config_positions": {key: list(at) for key, at in deployment.config_positions.items()},
            "plaintext_config_keys": plaintext_keys,
        }

    def _resources(
        self, deployment: Deployment, stack: dict[str, Any], internet: dict[str, bool], offset: int
    ) -> tuple[list[dict[str, Any]], list[set[str]]]:
        providers: dict[str, Mapping[str, Any]] = {}
        # The same settings as the state recorded them (outputs over inputs where both hold one), and the
        # providers whose record disagrees: every resource they manage is judged as recorded too.
        recorded_providers: dict[str, Mapping[str, Any]] = {}
        drifted_providers: set[str] = set()
        for position, raw in enumerate(deployment.resources):
            problem = type_token_problem(raw["type"]) if isinstance(raw.get("type"), str) else None
            if problem:
                # Rather than judged as a type no control examines: it would pass them all (issue 24, L9).
                raise InputError(f"stack {_printable(deployment.stack)!r}: resource #{position + 1}: its type token {problem}; refused")
            if is_provider_type(str(raw.get("type", ""))) and isinstance(raw.get("urn"), str):
                # A provider's settings as the engine passed them: `project_id` (the spelling of the
                # provider's docs, from `scaleway:project_id`) is `projectId`.
                declared, recorded = _mapping(raw.get("inputs")), _mapping(raw.get("outputs"))
                providers[raw["urn"]] = {_camel(k): v for k, v in declared.items()}
                recorded_providers[raw["urn"]] = {_camel(k): recorded.get(k, v) for k, v in declared.items()}
                if _disagree(raw):
                    drifted_providers.add(raw["urn"])
        # A provider resource is no fact of its own, so a credential in plaintext in its inputs or outputs
        # (an explicit provider given a key in code) is reported on each resource it manages.
        provider_plaintext = {
            raw["urn"]: self._provider_plaintext(raw, internet)
            for raw in deployment.resources
            if is_provider_type(str(raw.get("type", ""))) and isinstance(raw.get("urn"), str)
        }
        facts: list[dict[str, Any]] = []
        strings: list[set[str]] = []
        used_providers: list[str] = []
        urns = {raw.get("urn") for raw in deployment.resources}
        for raw in deployment.resources:
            raw_type = raw.get("type")
            urn = raw.get("urn")
            if not isinstance(raw_type, str) or not isinstance(urn, str):
                continue
            if raw_type == STACK_TYPE or is_provider_type(raw_type) or raw.get("custom") is False:
                continue
            seen: set[str] = set()
            fact = self._resource(raw, raw_type, urn, stack, providers, internet, seen, deployment.config)
            fact["plaintext_paths"] += provider_plaintext.get(provider_urn_of(raw.get("provider")), [])
            fact["index"] = offset + len(facts)
            location = _location(deployment, raw, urn)
            if location is not None:
                fact["location"] = location
            facts.append(fact)
            strings.append(seen)
            provider_ref = raw.get("provider")
            used_providers.append(provider_urn_of(provider_ref))
            if _disagree(raw) or provider_urn_of(provider_ref) in drifted_providers:
                seen = set()
                as_recorded = self._resource(raw, raw_type, urn, stack, recorded_providers, internet, seen, deployment.config, recorded=True)
                as_recorded["plaintext_paths"] += provider_plaintext.get(provider_urn_of(raw.get("provider")), [])
                if self._rego_view(as_recorded) != self._rego_view(fact):
                    if urn + RECORDED_SUFFIX in urns:
                        raise InputError(f"resource {_printable(urn)!r}: a resource of the same name plus {RECORDED_SUFFIX.strip()!r} exists; rename one")
                    as_recorded["urn"] = urn + RECORDED_SUFFIX
                    as_recorded["recorded_of"] = urn
                    as_recorded["index"] = offset + len(facts)
                    facts.append(as_recorded)
                    strings.append(seen)
                    used_providers.append(used_providers[-1])
        stack["packages"] = _package_groups(facts, used_providers, providers.keys(), stack, deployment.project)
        return facts, strings

    def _provider_plaintext(self, raw: Mapping[str, Any], internet: dict[str, bool]) -> list[str]:
        """The plaintext credentials of a provider resource, as paths naming the provider (`provider p: token`)."""
        walk = _Walk(internet, set(), self.internet_rule)
        walk.clean({**_mapping(raw.get("outputs")), **_mapping(raw.get("inputs"))}, "", None)
        name = _printable(name_of(str(raw["urn"])))
        return [f"provider {name}: {path}" for path in [*walk.plaintext, *_plaintext_fields(raw)]]

    def _rule_props(self, fact: Mapping[str, Any]) -> dict[str, Any]:
        """The properties of a resource fact that rules read.

        Only the types a control names in `applies_to` are judged on their properties (the rest on
        their other facts), and only on the properties the Rego reads: engines pay for every byte.
        """
        if fact["type"] not in self.examined or fact.get("read"):
            return {}
        props: dict[str, Any] = fact["props"]
        if self.kept_props is None:
            return props
        return {key: value for key, value in props.items() if key in self.kept_props}

    def _rego_view(self, fact: Mapping[str, Any]) -> dict[str, Any]:
        """What the rules read of a resource fact, to compare its declared and recorded views."""
        return {**fact, "props": self._rule_props(fact), "index": None}

    def _resource(
        self,
        raw: Mapping[str, Any],
        raw_type: str,
        urn: str,
        stack: Mapping[str, Any],
        providers: Mapping[str, Mapping[str, Any]],
        internet: dict[str, bool],
        seen: set[str],
        stack_config: Mapping[str, Any],
        recorded: bool = False,
    ) -> dict[str, Any]:
        # A type token is printed into messages (DPA-SUB-001): printable like every fact.
        type_token = canonical_type(_key(raw_type))
        package = package_of(type_token, self.register["dynamic_modules"])
        outputs = _mapping(raw.get("outputs"))
        inputs = _mapping(raw.get("inputs"))
        walk = _Walk(internet, seen, self.internet_rule)
        # Declared inputs over recorded outputs; the recorded view the other way round.
        props = walk.clean({**inputs, **outputs} if recorded else {**outputs, **inputs}, "", None)
        # Before the ACL sources are judged (an unknown one becomes text judged as the internet): every
        # part of a property a rule reads that is unknown until apply makes its controls undetermined.
        unknown = unknown_reads(props, self.property_types.get(type_token))
        if type_token in _ACL_LISTS:
            # Every ACL source judged first (an unreadable one as the internet), then typed.
            _judge_acl_sources(props, _ACL_LISTS[type_token], internet, self.internet_rule)
        props, malformed = checked_props(props, self.property_types.get(type_token))
        provider_ref = raw.get("provider")
        provider_urn = provider_urn_of(provider_ref)
        provider = self._with_region(providers[provider_urn]) if provider_urn in providers else None
        # The stack's `scaleway:*` settings configure the default provider only: a resource under an
        # explicit provider that sets no region has none, whatever the stack config says (and one
        # whose explicit provider is not in the deployment cannot be placed: fail closed).
        explicit = bool(provider_urn) and not is_default_provider(provider_urn)
        config = {} if explicit else self._with_region(
            {"scaleway:region": stack["default_region"], "scaleway:zone": stack["default_zone"], "scaleway:projectId": stack["scaleway_project"]},
            prefix="scaleway:",
        )
        tags, items = _tags(props.get("tags"))
        info = type_info(type_token) if package == "scaleway" else None
        read = raw.get("external") is True
        taggable = not read and (bool(info and info.tags) or type_token == DATAPACKET_SERVER)
        unknown += self._unknown_tags(type_token, props.get("tags"), tags, taggable)
        fact: dict[str, Any] = {
            "urn": urn,
            "id": raw.get("id") if isinstance(raw.get("id"), str) else None,
            "name": name_of(urn),
            "stack": stack["name"],
            "environment": stack["environment"],
            "type": type_token,
            "raw_type": raw_type,
            "deprecated_type": type_token != raw_type,
            "package": package,
            "subprocessor": self._subprocessor(package),
            "locality": self._locality(info, props, provider, config, type_token) if not read else self._read_locality(raw),
            "project": self._project(info, props, provider, config, raw.get("propertyDependencies")) if not read else _NOT_EXPECTED,
            # A resource read with `.get()` belongs to someone else: it is judged where it is, not on its tags.
            "taggable": taggable,
            "tags": tags,
            "tags_unknown": props.get("tags") == UNKNOWN,
            "data_category": next((tags[key] for key in DATA_CATEGORY_KEYS if tags.get(key)), None),
            "env_tag": self._env_tag(tags, items),
            "props": props,
            "secret_paths": walk.secret,
            "plaintext_paths": [*walk.plaintext, *_plaintext_fields(raw)],
            "unknown_paths": walk.unknown,
            "malformed": malformed,
            "unknown": unknown,
            "foreign": [],
        }
        if read and type_token != STACK_REFERENCE_TYPE:
            # Another stack's resource, looked up: its posture is judged where it is managed (the index
            # keeps it from the rules of its type); where it is, its provider and what it shares still count.
            fact["read"] = True
        fact["country"] = self._country(fact)
        fact["outside_scope"] = self._outside_scope(fact)
        fact["place"] = self._place(package, props, providers.get(provider_urn), {} if explicit else stack_config)
        if type_token in ("scaleway:instance/securityGroup:SecurityGroup", "scaleway:instance/securityGroupRules:SecurityGroupRules"):
            fact["inbound_rules"] = _inbound_rules(props, self.internet_rule)
            # What the group declares of the media it admits (settings.yaml media_encryption_tag, DPA-TLS-009):
            # the Rego input carries no tags, only this.
            declared = tags.get(self.settings.get("media_encryption_tag", {}).get("key", ""))
            fact["media_encryption"] = _printable(declared.strip().lower()) if isinstance(declared, str) else None
        elif type_token in self.firewalls:
            # Another provider's firewall: its inbound rules in the same shape (DPA-ACC-002).
            fact["inbound_rules"] = [
                {**rule, "source": _printable(rule["source"])} for rule in inbound_rules(self.firewalls[type_token], props, self.internet_rule)
            ]
        if type_token == STACK_REFERENCE_TYPE:
            fact["stack_reference"] = self._stack_reference(props)
        return fact

    def _env_tag(self, tags: Mapping[str, str], items: Sequence[str]) -> dict[str, Any] | None:
        """The resource's environment tag: {key, value, environment (None when the value names none)}, None without one.

        Tags that name two environments (`env:prod` beside `environment:dev`, or `env:prod` twice in a
        list with another value) name none: their keys and values are joined, so DPA-SEG-002 reports them.
        """
        rule = self.settings.get("environment_tag", {"keys": ["env"], "values": {}})
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
        return {"key": _printable(key), "value": _printable(value), "environment": named}

    def _unknown_tags(self, type_token: str, value: Any, tags: Mapping[str, str], taggable: bool) -> list[dict[str, Any]]:
        """Entries of `unknown` for the tags rules read (properties.yaml `tags`): unknown as a whole, under a key, or an item."""
        keys = {
            "env_tag": self.settings.get("environment_tag", {}).get("keys", ()),
            "data_category": DATA_CATEGORY_KEYS,
            "media_encryption": [self.settings.get("media_encryption_tag", {}).get("key", "")],
        }
        # An unknown item of a list of tags may be any `key:value`: every fact is unknown with it.
        items = [f"tags[{i}]" for i, item in enumerate(value) if item == UNKNOWN] if isinstance(value, list) else []
        unknown = []
        for entry in self.dpa.get("properties", {}).get("tags", ()):
            if entry.get("types") and type_token not in entry["types"] or entry["fact"] == "env_tag" and not taggable:
                continue
            paths = ["tags"] if value == UNKNOWN else items + [f"tags.{key}" for key in keys[entry["fact"]] if tags.get(key) == UNKNOWN]
            unknown += [{"path": _printable(path), "controls": list(entry["controls"])} for path in paths]
        return unknown

    def _place(self, package: str, props: Mapping[str, Any], provider: Mapping[str, Any] | None,
               config: Mapping[str, Any]) -> str | None:
        """Where a resource of another cloud is, as its provider places it (settings `other_cloud_regions`), or None."""
        rule = self.settings.get("other_cloud_regions", {}).get(package)
        if not rule:
            return None
        candidates = [props.get(name) for name in rule.get("properties", ())]
        candidates += [(provider or {}).get(name) for name in rule.get("properties", ())]
        candidates += [config.get(key) for key in rule.get("config", ())]
        for value in candidates:
            if isinstance(value, str) and value.strip() and value != UNKNOWN and value != REDACTED:
                return _printable(value.strip().lower())
        return None

    def _outside_scope(self, fact: Mapping[str, Any]) -> bool:
        """Whether the resource is of a type its sub-processor's registered service does not cover (`scope`)."""
        name = fact.get("subprocessor")
        key = (name, fact["type"])
        outside = self._outside.get(key)
        if outside is None:  # judged once per sub-processor and type: an estate holds a few dozen types
            scope = self.register["by_name"][name].get("scope") if name else None
            outside = self._outside[key] = scope is not None and not any(fnmatch.fnmatchcase(fact["type"], pattern) for pattern in scope)
        return outside

    def _subprocessor(self, package: str) -> str | None:
        name = self.register["by_package"].get(package)
        return str(name) if name else None

    def _locality(
        self, info: Any, props: Mapping[str, Any], provider: Mapping[str, Any] | None, config: Mapping[str, Any], type_token: str = "",
    ) -> dict[str, Any]:
        takes_zone = bool(info and info.zone) or props.get("zone") not in (None, "")
        takes_region = bool(info and info.region) or props.get("region") not in (None, "")
        both = bool(info and info.zone and info.region)
        if both and props.get("zone") in (None, "") and (
            props.get("region") not in (None, "") or type_token in self.settings.get("regional_types", ())
        ):
            # A type that takes either (a private network): one that names its region is regional, and so
            # is one of a regional type (settings.yaml) that names no zone of its own.
            takes_zone = False
        if not (takes_zone or takes_region):
            return {"scope": "none", "region": None, "zone": None, "status": "known", "source": "none"}
        zones = self.locations["scaleway"]["zones"]
        if takes_zone:
            zone, source = _locality_value("zone", props, provider, config)
            status = _status(zone)
            region = zones.get(zone, {}).get("region") if status == "known" and isinstance(zone, str) else zone
            if status == "known" and region is None and isinstance(zone, str):
                region = zone.rsplit("-", 1)[0]
            zonal = {"scope": "zone", "region": region, "zone": zone, "status": status, "source": source}
            if not takes_region or zone not in self.locations["scaleway"]["approved_zones"]:
                return zonal
            # A type that takes both (private network, pool, load balancer) is where its region says when one is
            # given: a French zone beside another region must not hide that region.
            other, other_source = _locality_value("region", props, provider, config)
            if other is None or other == region:
                return zonal
            return {"scope": "region", "region": other, "zone": zone, "status": _status(other), "source": other_source}
        region, source = _locality_value("region", props, provider, config)
        return {"scope": "region", "region": region, "zone": None, "status": _status(region), "source": source}

    def _with_region(self, settings: Mapping[str, Any] | None, prefix: str = "") -> dict[str, Any]:
        """Provider settings with the region a zone implies when only the zone is set (as the provider derives it)."""
        out = dict(settings or {})
        zone = out.get(f"{prefix}zone")
        if out.get(f"{prefix}region") in (None, "") and isinstance(zone, str) and zone and zone != UNKNOWN:
            known = self.locations["scaleway"]["zones"].get(zone, {}).get("region")
            out[f"{prefix}region"] = known or zone.rsplit("-", 1)[0]
        return out

    def _read_locality(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Where a read-only resource (`.get()`) is: its ID carries it (`fr-par/...`, `fr-par-2/...`)."""
        identifier = raw.get("id")
        head = identifier.split("/", 1)[0] if isinstance(identifier, str) and "/" in identifier else ""
        zones, regions = self.locations["scaleway"]["zones"], self.locations["scaleway"]["regions"]
        if head in zones:
            return {"scope": "zone", "region": zones[head]["region"], "zone": head, "status": "known", "source": "id"}
        if head in regions or re.fullmatch(r"[a-z]{2}-[a-z]{3}", head):
            return {"scope": "region", "region": head, "zone": None, "status": "known", "source": "id"}
        if re.fullmatch(r"[a-z]{2}-[a-z]{3}-\d", head):
            return {"scope": "zone", "region": head.rsplit("-", 1)[0], "zone": head, "status": "known", "source": "id"}
        return {"scope": "none", "region": None, "zone": None, "status": "known", "source": "none"}

    def _project(
        self, info: Any, props: Mapping[str, Any], provider: Mapping[str, Any] | None, config: Mapping[str, Any],
        dependencies: Any = None,
    ) -> dict[str, Any]:
        if info is None or not info.project:
            return {"expected": False, "value": None, "status": "known", "source": "none"}
        value, source = _locality_value("projectId", props, provider, config)
        if value == UNKNOWN and source == "resource":
            # The ID of a project the program creates is unknown until apply, but which project it is is not.
            created = _created_project(dependencies.get("projectId") if isinstance(dependencies, Mapping) else None)
            if created is not None:
                return {"expected": True, "value": created, "status": "known", "source": source}
        return {"expected": True, "value": value, "status": _status(value), "source": source}

    def _country(self, fact: Mapping[str, Any]) -> str | None:
        locality = fact["locality"]
        if fact["type"] == DATAPACKET_SERVER:
            props = fact["props"]
            location = props.get("actualLocation") or props.get("location")
            if location == UNKNOWN or props.get("countryCode") == UNKNOWN:
                return "unknown"
            known = self.locations["datapacket"]["locations"].get(location) if isinstance(location, str) else None
            code = props.get("countryCode")
            return known["country"] if known else (code if isinstance(code, str) and code else "unknown")
        if locality["scope"] == "none":
            return None
        if locality["status"] != "known":
            return "unknown"
        scaleway = self.locations["scaleway"]
        table, key = (scaleway["zones"], locality["zone"]) if locality["scope"] == "zone" else (scaleway["regions"], locality["region"])
        return str(table.get(key, {}).get("country", "unknown")) if isinstance(key, str) else "unknown"

    def _stack_reference(self, props: Mapping[str, Any]) -> dict[str, Any]:
        target = props.get("name")
        if not isinstance(target, str) or target == UNKNOWN:
            return {"target": None, "environment": "unknown"}
        short = target.rsplit("/", 1)[-1].lower()
        return {"target": target, "environment": self.settings["environment_names"].get(short, "unknown")}

    def _link(self, resources: list[dict[str, Any]], dependencies: Mapping[tuple[str, str], Mapping[str, Any]]) -> None:
        """Set `linked.<fact>` on each target a `by` resource names (properties.yaml `links`).

        A resource names its target by value (an ID, a name, region/name) or, where the value is
        unknown until apply (the ID of a resource `pulumi preview` would create), by the resources the
        value was computed from: the engine's `propertyDependencies` of that property.
        """
        for link in self.dpa.get("properties", {}).get("links", ()):
            named: set[str] = set()
            named_urns: set[tuple[str, str]] = set()
            unresolved = False
            for fact in resources:
                if fact["type"] != link["by"] or not fact["stack"]:
                    continue
                value = fact["props"].get(link["property"])
                if value == UNKNOWN:
                    sources = dependencies.get((fact["stack"], declared_urn(cast("ResourceFacts", fact))), {}).get(link["property"])
                    urns = [u for u in sources if isinstance(u, str)] if isinstance(sources, list) else []
                    named_urns.update((fact["stack"], u) for u in urns)
                    # Unknown, and no dependency shows what it names: it may name any target.
                    unresolved = unresolved or not urns
                elif isinstance(value, str) and value:
                    named.add(value)
            for fact in resources:
                if fact["type"] != link["target"]:
                    continue
                # A name unknown until apply names nothing (as an unknown ID): two unknowns are not one resource.
                names = set(_identities(fact)) | {v for v in (fact["props"].get("name"),) if isinstance(v, str) and v and v != UNKNOWN}
                names |= {f"{fact['locality'].get('region')}/{n}" for n in list(names)}
                names |= {n.rsplit("/", 1)[-1] for n in list(names)}
                by_urn = (fact["stack"], declared_urn(cast("ResourceFacts", fact))) in named_urns
                linked = bool(names & named) or by_urn
                fact.setdefault("linked", {})[link["fact"]] = linked or unresolved
                if unresolved and not linked:
                    # Named perhaps, by a reference unknown until apply that no dependency explains: not
                    # judged as linked nor as not.
                    path = f"the {link['property']} of a {_printable(link['by'])}"
                    fact.setdefault("unknown", []).append({"path": path, "controls": list(link["controls"])})

    def _cross_stack(self, resources: list[dict[str, Any]], strings: list[set[str]]) -> None:
        """Mark resources that own or use a network, database or server that another environment owns too."""
        owners: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for fact in resources:
            kind = self.shared_kinds.get(fact["type"])
            if kind is None:
                continue
            for identity in _identities(fact):
                owner = {"kind": kind, "stack": fact["stack"], "environment": fact["environment"], "urn": fact.get("recorded_of", fact["urn"])}
                if owner not in owners[identity]:
                    owners[identity].append(owner)
        if not owners:
            return
        for fact, seen in zip(resources, strings):
            own = set(_identities(fact)) if fact["type"] in self.shared_kinds else set()
            foreign = {}
            for identity in (own | seen) & owners.keys():
                for owner in owners[identity]:
                    if owner["environment"] != fact["environment"]:
                        foreign[(owner["kind"], owner["stack"], owner["urn"])] = owner
            fact["foreign"] = [foreign[k] for k in sorted(foreign)]


def _service(type_token: str) -> str:
    """The service of a type token as its module names it (`aws:s3/bucket:Bucket` -> s3; `index` modules: the type)."""
    _, _, rest = type_token.partition(":")
    module, _, name = rest.partition("/")
    if module in ("", "index"):
        return name.split(":", 1)[0] or type_token
    return module


def _package_groups(
    facts: Sequence[Mapping[str, Any]], used_providers: Sequence[str], providers: Iterable[str],
    stack: Mapping[str, Any], project: str,
) -> list[dict[str, Any]]:
    """The stack's resources grouped by provider package: {package, urn, count, regions, services} (texts, sorted, comma-separated).

    A judgement over a whole provider (DPA-SUB-001: not in Appendix B) is one finding per group, on
    the URN of the provider resource its resources use (the first of them by URN; a waiver names it),
    or, when the deployment holds none, on the URN Pulumi gives a default provider of that package.
    """
    known = set(providers)
    groups: dict[str, dict[str, Any]] = {}
    for fact, provider in zip(facts, used_providers):
        if fact.get("recorded_of"):
            continue  # a second view of a resource already counted
        group = groups.setdefault(fact["package"], {"regions": set(), "services": set(), "providers": set(), "count": 0})
        group["count"] += 1
        group["services"].add(_printable(_service(fact["type"])))
        region = fact.get("place") or (fact["locality"]["region"] if fact["locality"]["status"] == "known" else None)
        if isinstance(region, str) and region:
            group["regions"].add(region)
        if provider in known:
            group["providers"].add(provider)
    return [
        {
            "package": package,
            "urn": _printable(min(group["providers"]) if group["providers"] else pulumi_urn.urn(stack["name"], project, provider_type(package), "default")),
            "count": group["count"],
            # As text: rego-cpp's concat of one string prints it quoted into a message.
            "regions": ", ".join(sorted(group["regions"])),
            "services": ", ".join(sorted(group["services"])),
        }
        for package, group in sorted(groups.items())
    ]


# Facts left out of the Rego input when empty, false or null: regopy converts input node by node, and
# most resources have no secrets, no plaintext, nothing shared. Rules test them with `not r.x` / `some _ in r.x`.
_OMITTED_WHEN_EMPTY = ("read", "media_encryption", "secret_paths", "plaintext_paths", "unknown_paths", "malformed", "unknown", "env_tag", "outside_scope", "foreign", "deprecated_type", "tags_unknown", "data_category", "subprocessor", "country", "taggable", "place")


def _compact(fact: dict[str, Any]) -> None:
    for key in _OMITTED_WHEN_EMPTY:
        if key in fact and not fact[key]:
            del fact[key]
    if "deprecated_type" not in fact:
        del fact["raw_type"]
    del fact["name"]


def _property_dependencies(deployments: Sequence[Deployment]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(stack, URN) -> the resource's `propertyDependencies`: property -> URNs its value was computed from."""
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    for deployment in deployments:
        for raw in deployment.resources:
            dependencies = raw.get("propertyDependencies")
            if isinstance(raw.get("urn"), str) and isinstance(dependencies, Mapping):
                found[(deployment.stack, raw["urn"])] = dependencies
    return found


def _identities(fact: Mapping[str, Any]) -> Iterable[str]:
    props = fact["props"]
    values = [fact["id"]]
    if fact["type"] == DATAPACKET_SERVER:
        values += [props.get("serverName"), props.get("hostname")]
    return [v for v in values if isinstance(v, str) and v and v not in (UNKNOWN, REDACTED)]


def normalise(
    deployments: Sequence[Deployment],
    dpa: DpaData,
    *,
    today: dt.date,
    environment_override: str | None = None,
    stack_settings: Mapping[str, Any] | None = None,
    partial: bool = False,
) -> Facts:
    """The Rego input for these deployments, with the DPA tables of `policy.data`.

    `partial`: the deployments are only part of their stacks (the policy pack's Analyze sees one
    resource before it is created), so facts that judge the whole estate, the Appendix B
    sub-processors it never uses, are left out: on a partial view every one would look unused.
    """
    return Normaliser(dpa).facts(
        deployments,
        today=today,
        environment_override=environment_override,
        stack_settings=stack_settings,
        partial=partial,
    )
