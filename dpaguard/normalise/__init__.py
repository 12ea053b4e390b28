"""Deployments -> the facts the Rego policies read: `{"stacks": [...], "resources": [...], "context": {...}}`.

The normaliser does what Rego (in regopy) cannot or should not: resolve effective locality and
project through providers and stack config, map deprecated type tokens, parse tags, find secret,
plaintext and unknown properties, decide whether a CIDR is the internet, count French working
days, and index cross-stack sharing. Rego then judges one resource or one stack at a time.
Facts never hold a secret value: secret wrappers become REDACTED, sensitive plaintext PLAINTEXT_REDACTED.

The facts' schema is declared once, in dpaguard/facts.py (what each resource and stack fact holds);
the index groups resource positions by the values broad rules test (engine/index.py). The Rego
input (dpaguard/engine/shaping.py) carries each resource as rego_resource() reduces it: only the
facts a rule reads.

One module per concern: where a resource is (locality), what its properties and tags say
(properties), what it shares with other stacks and names of other resources (sharing), its stack
(stack), its sub-processor (subprocessors), its recorded view (recorded). This module walks the
deployments and joins them; what exists only for what Rego reads or an engine prints is the
engine's (dpaguard/engine/encoding.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Sequence, cast

from dpaguard.engine.encoding import compact, printable, printable_key
from dpaguard.errors import InputError, PolicyError
from dpaguard.facts import Facts, FactsContext, ResourceFacts, StackFacts
from dpaguard.model import UNKNOWN, Deployment
from dpaguard.engine.index import SHAPE_PROPS, build_index
from dpaguard.normalise.firewalls import SHAPES as FIREWALL_SHAPES
from dpaguard.normalise.firewalls import inbound_rules as firewall_rules
from dpaguard.normalise.locality import NOT_EXPECTED, Locator, camel, created_project
from dpaguard.normalise.network import InternetRule
from dpaguard.normalise.properties import (
    ACL_LISTS,
    DATA_CATEGORY_KEYS,
    Walk,
    backup_copy,
    env_tag,
    SECURITY_GROUP_TYPES,
    judge_acl_sources,
    plaintext_fields,
    security_group_facts,
    tags_of,
    unknown_tags,
)
from dpaguard.normalise.property_types import checked_props, unknown_reads
from dpaguard.normalise.recorded import RECORDED_NOTE, RECORDED_SUFFIX, declared_urn, disagree, mapping_of
from dpaguard.normalise.sharing import mark_foreign, mark_links, property_dependencies
from dpaguard.normalise.stack import SETTING_KEYS, alerting, stack_facts, stack_reference
from dpaguard.normalise.stack import days_setting as _setting  # tests/normalise/test_settings_range.py
from dpaguard.normalise.subprocessors import Register, package_groups, package_of
from dpaguard.deployment.types import DATAPACKET_SERVER, DYNAMIC_PREFIX, canonical_type, type_info, type_token_problem
from dpaguard.policy import DpaData
from dpaguard.urn import STACK_REFERENCE_TYPE, STACK_TYPE, is_default_provider, is_provider_type, name_of, provider_urn_of, source_position


def _location(deployment: Deployment, raw: Mapping[str, Any], urn: str) -> list[Any] | None:
    """[path, line, column] of the program line that declared a resource, when the source knows it."""
    known = deployment.source_positions.get(urn)
    if known:
        return [known[0], int(known[1]), int(known[2])]
    position = source_position(raw.get("sourcePosition"))
    return list(position) if position else None


class Normaliser:
    """Turns deployments into facts with the DPA tables of a policy (`policy.data`)."""

    def __init__(self, dpa: DpaData) -> None:
        self.dpa = dpa
        self.locations = dpa["locations"]
        self.register = dpa["subprocessors"]
        self.settings = dpa["settings"]
        self.internet_rule = InternetRule.of(self.settings)
        self.shared_kinds = {type_token: kind for kind, types in self.settings["shared_resources"].items() for type_token in types}
        self.subprocessors = Register(self.register, int(self.settings["subprocessor_notice_working_days"]))
        self.locator = Locator(self.locations, self.settings)
        self.examined = frozenset(dpa.get("examined_types", ()))
        read = dpa.get("read_props")
        # The properties a rule reads by name (and the shapes' own), or None: the Rego reads others too.
        self.kept_props = None if read is None else frozenset(read) | SHAPE_PROPS
        self.property_types: Mapping[str, Any] = dpa.get("properties", {}).get("types", {})
        self.firewalls: Mapping[str, str] = self.settings.get("other_firewalls", {})
        unknown_shapes = sorted(set(self.firewalls.values()) - set(FIREWALL_SHAPES))
        if unknown_shapes:
            raise PolicyError(f"settings.yaml other_firewalls: no shape {unknown_shapes[0]!r} (known: {', '.join(sorted(FIREWALL_SHAPES))})")

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
            raise InputError(f"stack {printable(twice[0])!r} is given twice: evaluate each stack once")
        for deployment in deployments:
            stack = stack_facts(deployment, environment_override, stack_settings or {}, self.settings)
            stack_resources, strings = self._resources(deployment, stack, internet, len(resources))
            stack["subprocessors"] = sorted({r["subprocessor"] for r in stack_resources if r.get("subprocessor")})
            stacks.append(stack)
            resources.extend(stack_resources)
            strings_by_resource.extend(strings)
        mark_foreign(resources, strings_by_resource, self.shared_kinds)
        if not partial:
            # A partial view (the pack's Analyze of one resource) cannot show that nothing names a
            # resource: links are judged on the whole stack (AnalyzeStack), never on a part.
            mark_links(resources, property_dependencies(deployments), self.dpa.get("properties", {}).get("links", ()))
        for stack in stacks:  # before the props are cut to what the Rego reads: the Rego reads this fact instead
            stack["alerting"] = alerting([r for r in resources if r.get("stack") == stack["name"]], UNKNOWN)
        for fact in resources:
            fact["props"] = self._rule_props(fact)
            compact(fact)
        notice = self.subprocessors.notice()
        for stack in stacks:
            self.subprocessors.mark_notice(stack, notice)
        # Facts are built as plain dicts, in passes (cross-stack sharing, links, compaction), and declared
        # at this boundary: tests/normalise/test_facts_schema.py holds what is built to the declaration.
        return Facts(
            stacks=cast("list[StackFacts]", stacks),
            resources=cast("list[ResourceFacts]", resources),
            index=build_index(resources),
            context=FactsContext(today=today.isoformat(), unknown=UNKNOWN, internet=internet, subprocessor_notice=notice),
        )

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
                raise InputError(f"stack {printable(deployment.stack)!r}: resource #{position + 1}: its type token {problem}; refused")
            if is_provider_type(str(raw.get("type", ""))) and isinstance(raw.get("urn"), str):
                # A provider's settings as the engine passed them: `project_id` (the spelling of the
                # provider's docs, from `scaleway:project_id`) is `projectId`.
                declared, recorded = mapping_of(raw.get("inputs")), mapping_of(raw.get("outputs"))
                settings = {camel(k): v for k, v in declared.items()}
                as_recorded = {camel(k): recorded.get(k, v) for k, v in declared.items()}
                dependencies = raw.get("propertyDependencies")
                made = created_project(next((v for k, v in dependencies.items() if camel(k) == "projectId"), None)) \
                    if isinstance(dependencies, Mapping) else None
                if made is not None and settings.get("projectId") == UNKNOWN:
                    # A provider given the ID of a project the program creates: that project, though its ID is unknown until apply.
                    settings["projectId"] = as_recorded["projectId"] = made
                providers[raw["urn"]], recorded_providers[raw["urn"]] = settings, as_recorded
                if disagree(raw):
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
        placed: dict[str, Mapping[str, Any]] = {}  # URN -> locality of the resources seen so far (parents come first)
        for raw in deployment.resources:
            raw_type = raw.get("type")
            urn = raw.get("urn")
            if not isinstance(raw_type, str) or not isinstance(urn, str):
                continue
            if raw_type == STACK_TYPE or is_provider_type(raw_type) or raw.get("custom") is False:
                continue
            seen: set[str] = set()
            fact = self._resource(raw, raw_type, urn, stack, providers, internet, seen, deployment.config)
            self._place_by_parent(fact, raw, placed)
            placed[urn] = fact["locality"]
            fact["plaintext_paths"] += provider_plaintext.get(provider_urn_of(raw.get("provider")), [])
            fact["index"] = offset + len(facts)
            location = _location(deployment, raw, urn)
            if location is not None:
                fact["location"] = location
            facts.append(fact)
            strings.append(seen)
            provider_ref = raw.get("provider")
            used_providers.append(provider_urn_of(provider_ref))
            if disagree(raw) or provider_urn_of(provider_ref) in drifted_providers:
                seen = set()
                as_recorded = self._resource(raw, raw_type, urn, stack, recorded_providers, internet, seen, deployment.config, recorded=True)
                self._place_by_parent(as_recorded, raw, placed)
                as_recorded["plaintext_paths"] += provider_plaintext.get(provider_urn_of(raw.get("provider")), [])
                if self._rego_view(as_recorded) != self._rego_view(fact):
                    if urn + RECORDED_SUFFIX in urns:
                        raise InputError(f"resource {printable(urn)!r}: a resource of the same name plus {RECORDED_SUFFIX.strip()!r} exists; rename one")
                    as_recorded["urn"] = urn + RECORDED_SUFFIX
                    as_recorded["recorded_of"] = urn
                    as_recorded["index"] = offset + len(facts)
                    facts.append(as_recorded)
                    strings.append(seen)
                    used_providers.append(used_providers[-1])
        stack["packages"] = package_groups(facts, used_providers, providers.keys(), stack, deployment.project)
        return facts, strings

    def _place_by_parent(self, fact: dict[str, Any], raw: Mapping[str, Any], placed: Mapping[str, Mapping[str, Any]]) -> None:
        """Place a resource that names no place (nor its provider or stack) where its parent is (settings placed_by_parent)."""
        prop = self.settings.get("placed_by_parent", {}).get(fact["type"])
        locality = fact["locality"]
        if prop is None or locality["status"] != "missing" or fact.get("read"):
            return
        dependencies = raw.get("propertyDependencies")
        sources = dependencies.get(prop) if isinstance(dependencies, Mapping) else None
        parent = self.locator.parent_locality(fact["props"].get(prop), sources, placed)
        scope = locality["scope"]
        if parent is None or parent.get(scope) is None:
            return
        fact["locality"] = {**locality, "region": parent["region"], "zone": parent["zone"] if scope == "zone" else None,
                            "status": "known", "source": "parent resource"}
        fact["country"] = self.locator.country(fact)

    def _provider_plaintext(self, raw: Mapping[str, Any], internet: dict[str, bool]) -> list[str]:
        """The plaintext credentials of a provider resource, as paths naming the provider (`provider p: token`)."""
        walk = Walk(internet, set(), self.internet_rule)
        walk.clean({**mapping_of(raw.get("outputs")), **mapping_of(raw.get("inputs"))}, "", None)
        name = printable(name_of(str(raw["urn"])))
        return [f"provider {name}: {path}" for path in [*walk.plaintext, *plaintext_fields(raw)]]

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
        type_token = canonical_type(printable_key(raw_type))
        package = package_of(type_token, self.register["dynamic_modules"])
        outputs = mapping_of(raw.get("outputs"))
        inputs = mapping_of(raw.get("inputs"))
        walk = Walk(internet, seen, self.internet_rule)
        # Declared inputs over recorded outputs; the recorded view the other way round.
        props = walk.clean({**inputs, **outputs} if recorded else {**outputs, **inputs}, "", None)
        # Before the ACL sources are judged (an unknown one becomes text judged as the internet): every
        # part of a property a rule reads that is unknown until apply makes its controls undetermined.
        unknown = unknown_reads(props, self.property_types.get(type_token))
        if type_token in ACL_LISTS:
            # Every ACL source judged first (an unreadable one as the internet), then typed.
            judge_acl_sources(props, ACL_LISTS[type_token], internet, self.internet_rule)
        props, malformed = checked_props(props, self.property_types.get(type_token))
        provider_ref = raw.get("provider")
        provider_urn = provider_urn_of(provider_ref)
        provider = self.locator.with_region(providers[provider_urn]) if provider_urn in providers else None
        # The stack's `scaleway:*` settings configure the default provider only: a resource under an
        # explicit provider that sets no region has none, whatever the stack config says (and one
        # whose explicit provider is not in the deployment cannot be placed: fail closed).
        explicit = bool(provider_urn) and not is_default_provider(provider_urn)
        config = {} if explicit else self.locator.with_region(
            {"scaleway:region": stack["default_region"], "scaleway:zone": stack["default_zone"], "scaleway:projectId": stack["scaleway_project"]},
            prefix="scaleway:",
        )
        tags, items = tags_of(props.get("tags"))
        info = type_info(type_token) if package == "scaleway" else None
        read = raw.get("external") is True
        taggable = not read and (bool(info and info.tags) or type_token == DATAPACKET_SERVER)
        unknown += unknown_tags(self.dpa, self.settings, type_token, props.get("tags"), tags, taggable)
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
            "subprocessor": self.subprocessors.of_package(package),
            "locality": self.locator.locality(info, props, provider, config, type_token) if not read else self.locator.read_locality(raw),
            "project": self.locator.project(info, props, provider, config, raw.get("propertyDependencies")) if not read else NOT_EXPECTED,
            # A resource read with `.get()` belongs to someone else: it is judged where it is, not on its tags.
            "taggable": taggable,
            "tags": tags,
            "tags_unknown": props.get("tags") == UNKNOWN,
            "data_category": next((tags[key] for key in DATA_CATEGORY_KEYS if tags.get(key)), None),
            "backup_copy": backup_copy(self.settings, tags),
            "env_tag": env_tag(self.settings, tags, items),
            "props": props,
            "secret_paths": walk.secret,
            "plaintext_paths": [*walk.plaintext, *plaintext_fields(raw)],
            "unknown_paths": walk.unknown,
            "malformed": malformed,
            "unknown": unknown,
            "foreign": [],
        }
        if read and type_token != STACK_REFERENCE_TYPE:
            # Another stack's resource, looked up: its posture is judged where it is managed (the index
            # keeps it from the rules of its type); where it is, its provider and what it shares still count.
            fact["read"] = True
        fact["country"] = self.locator.country(fact)
        fact["outside_scope"] = self.subprocessors.outside_scope(fact)
        fact["place"] = self.locator.place(package, props, providers.get(provider_urn), {} if explicit else stack_config)
        self._type_facts(fact, type_token, props, tags)
        return fact

    def _type_facts(self, fact: dict[str, Any], type_token: str, props: Mapping[str, Any], tags: Mapping[str, str]) -> None:
        """What a resource's type adds to its fact: a security group's or firewall's rules, a stack reference's target."""
        if type_token in SECURITY_GROUP_TYPES:
            fact.update(security_group_facts(props, tags, self.settings, self.internet_rule))
        elif type_token in self.firewalls:
            # Another provider's firewall: its inbound rules in the same shape (DPA-ACC-002).
            fact["inbound_rules"] = [
                {**rule, "source": printable(rule["source"])} for rule in firewall_rules(self.firewalls[type_token], props, self.internet_rule)
            ]
        if type_token == STACK_REFERENCE_TYPE:
            fact["stack_reference"] = stack_reference(props, self.settings)


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


__all__ = [
    "DATA_CATEGORY_KEYS", "DATAPACKET_SERVER", "DYNAMIC_PREFIX", "RECORDED_NOTE", "RECORDED_SUFFIX", "SETTING_KEYS",
    "Normaliser", "declared_urn", "normalise", "package_of", "_setting",
]
