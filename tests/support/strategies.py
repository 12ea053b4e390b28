"""Hypothesis strategies for hostile deployments, and the residency oracle the properties check them against.

A generated deployment mixes Scaleway resources (current and deprecated tokens; regional, zonal,
both, neither), DataPacket servers, other packages and garbage types, with locality given on the
resource (inputs or outputs), on a provider it references (or a dangling one), in the stack config
or nowhere, as a French or foreign value, UNKNOWN, a secret wrapper, a wrong type or garbage. Around
that: unicode, huge strings and lists, nulls, secret wrappers in odd places, parent cycles, missing fields.
"""

from __future__ import annotations

from typing import Any, Mapping

import yaml
from hypothesis import strategies as st

from support import POLICIES
from dpaguard.model import SECRET_SIG, SECRET_SIG_KEY, UNKNOWN, Deployment
from dpaguard.urn import PROVIDER_TYPE_PREFIX as PROVIDER_PREFIX, STACK_TYPE
from dpaguard.deployment.types import canonical_type, type_info, type_token_problem
from dpaguard.deployment.redact import is_secret, secret_placeholder

CANARY = "CANARY-PROPERTY-5b1e"
SCALEWAY_TYPES = [
    "scaleway:object/bucket:Bucket",  # region
    "scaleway:databases/instance:Instance",  # region
    "scaleway:databases/readReplica:ReadReplica",  # region
    "scaleway:network/vpc:Vpc",  # region
    "scaleway:instance/server:Server",  # zone
    "scaleway:instance/securityGroup:SecurityGroup",  # zone
    "scaleway:network/privateNetwork:PrivateNetwork",  # region and zone
    "scaleway:kubernetes/pool:Pool",  # region and zone
    "scaleway:loadbalancers/loadBalancer:LoadBalancer",  # region and zone
    "scaleway:index/objectBucket:ObjectBucket",  # deprecated, region
    "scaleway:index/databaseInstance:DatabaseInstance",  # deprecated, region
    "scaleway:index/instanceServer:InstanceServer",  # deprecated, zone
    "scaleway:index/vpcPrivateNetwork:VpcPrivateNetwork",  # deprecated, region and zone
    "scaleway:iam/application:Application",  # neither
]
OTHER_TYPES = [
    "pulumi-python:dynamic/datapacket:Server",
    "pulumi-python:dynamic/other:Thing",
    "aws:s3/bucket:Bucket",
    "random:index/randomPassword:RandomPassword",
    "dpa:estate:Network",  # a component
    "pulumi:pulumi:StackReference",
    "scaleway:nosuch/module:Thing",
    "scaleway",
    "",
]
FRENCH_REGIONS = ["fr-par"]
# Types that take a zone or a region and are regional unless they state a zone (a private network): settings.yaml.
_SETTINGS = POLICIES / "dpa" / "settings.yaml"
REGIONAL_TYPES = frozenset(yaml.safe_load(_SETTINGS.read_text(encoding="utf-8")).get("regional_types", ()))
FRENCH_ZONES = ["fr-par-1", "fr-par-2", "fr-par-3"]
FOREIGN = ["nl-ams", "pl-waw", "it-mil", "nl-ams-1", "pl-waw-3", "it-mil-1", "FR-PAR", "fr-par ", "fr-par-4", "fr-mrs", "fr"]

unicode_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=24)
# Garbage type tokens the normaliser judges: one holding an invisible character or another Unicode form is
# refused whole (deployment.types.type_token_problem; tests/normalise/test_type_tokens.py), so those are left out.
garbage_types = unicode_text.map(lambda text: text if type_token_problem(text) is None else "".join(c for c in text if " " < c < "\x7f"))
huge_string = st.builds(lambda c, n: c * n, st.sampled_from(["a", "é", "\U0001f600", '"', "\\", "\x00", "fr-par"]), st.integers(1_000, 100_000))
huge_list = st.builds(lambda v, n: [v] * n, st.sampled_from([0, "fr-par", None, "env:prod", {"a": 1}]), st.integers(1_000, 5_000))
secret = st.builds(
    lambda key, value: {SECRET_SIG_KEY: SECRET_SIG, key: value},
    st.sampled_from(["ciphertext", "plaintext", "value"]),
    st.one_of(st.just(CANARY), st.just({"nested": CANARY}), st.just([CANARY])),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False, allow_infinity=False),
    unicode_text, st.just(UNKNOWN), st.just(""), secret,
)
prop_names = st.one_of(unicode_text, st.sampled_from(["password", "apiKey", "tags", "name", "region", "zone", "projectId", "inboundRules", "location", "countryCode", "backupSameRegion", "ipRange"]))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(prop_names, inner, max_size=4)),
    max_leaves=12,
)
locality = st.one_of(
    st.sampled_from(FRENCH_REGIONS + FRENCH_ZONES),
    st.sampled_from(FOREIGN),
    st.sampled_from([None, "", UNKNOWN]),
    secret,
    st.integers(),
    st.lists(st.sampled_from(FRENCH_ZONES + FOREIGN), max_size=2),
    st.dictionaries(unicode_text, st.sampled_from(FRENCH_ZONES), max_size=2),
    unicode_text,
)
# Where a locality key is given: absent, on the inputs, on the outputs, or both (the same value).
placement = st.sampled_from(["absent", "absent", "inputs", "outputs", "both"])


def _props(extra: dict[str, Any], region: tuple[str, Any], zone: tuple[str, Any], project: tuple[str, Any], which: str) -> dict[str, Any]:
    props = dict(extra)
    for key, (where, value) in (("region", region), ("zone", zone), ("projectId", project)):
        props.pop(key, None)
        if where == which or where == "both":
            props[key] = value
    return props


@st.composite
def resources(draw: st.DrawFn, stack: str, project: str, providers: list[str]) -> dict[str, Any]:
    """One resource of the export, possibly malformed."""
    type_token = draw(st.one_of(st.sampled_from(SCALEWAY_TYPES), st.sampled_from(SCALEWAY_TYPES), st.sampled_from(OTHER_TYPES), garbage_types))
    # Mostly names Pulumi programs use (unicode letters included); sometimes any text: quotes, backslashes and
    # control characters in a URN, which rego-cpp would print unescaped (the embedded engine swaps them out and back).
    safe = st.text(st.characters(categories=("L", "N"), include_characters="-_."), min_size=1, max_size=12)
    name = draw(st.one_of(safe, safe, safe, st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12), st.just("x" * 5000)))
    urn = f"urn:pulumi:{stack}::{project}::{type_token}::{name}"
    region = (draw(placement), draw(locality))
    zone = (draw(placement), draw(locality))
    projectid = (draw(placement), draw(st.one_of(st.just("cd2b649f-8cc2-4cae-b5b5-57d05b71f365"), st.just(UNKNOWN), secret)))
    extra_inputs = draw(st.dictionaries(prop_names, values, max_size=4))
    extra_outputs = draw(st.dictionaries(prop_names, values, max_size=3))
    raw: dict[str, Any] = {
        "urn": urn,
        "type": type_token,
        "custom": draw(st.sampled_from([True, True, True, None])),
        "id": draw(st.one_of(st.none(), unicode_text, st.just(UNKNOWN))),
        "inputs": _props(extra_inputs, region, zone, projectid, "inputs"),
        "outputs": _props(extra_outputs, region, zone, projectid, "outputs"),
    }
    if type_token.endswith("datapacket:Server"):
        raw["inputs"].update(draw(st.fixed_dictionaries({}, optional={
            "location": st.one_of(st.sampled_from(["Paris", "Marseille", "Amsterdam", "London", "paris", UNKNOWN, ""]), values),
            "countryCode": st.one_of(st.sampled_from(["FR", "NL", "fr", UNKNOWN]), values),
            "serverName": st.one_of(unicode_text, st.just(UNKNOWN)),
        })))
    if draw(st.integers(0, 5)) == 0:
        raw["inputs"][draw(st.sampled_from(["description", "tags", "region", "name"]))] = draw(st.one_of(huge_string, huge_list))
    if draw(st.booleans()):
        raw["provider"] = draw(st.one_of(st.sampled_from(providers or ["none"]).map(lambda p: f"{p}::pid"), st.just("dangling::ref"), unicode_text, st.just(7)))
    if draw(st.booleans()):
        raw["parent"] = draw(st.one_of(st.just(urn), st.just("urn:pulumi:x::y::a:b:C::loop"), unicode_text, st.none()))
    for key in draw(st.lists(st.sampled_from(["inputs", "outputs", "custom", "id", "type"]), max_size=2)):
        raw.pop(key, None)  # missing fields
    if draw(st.integers(0, 9)) == 0:
        raw["inputs"] = draw(st.one_of(secret, st.lists(values, max_size=2), unicode_text))  # not a property map at all
    return raw


@st.composite
def deployments(draw: st.DrawFn) -> Deployment:
    """A stack with providers, resources and config, some of it hostile."""
    stack = draw(st.sampled_from(["prod", "staging", "dev", "prod-eu", "ünïcode", "org/proj/prod"]))
    project = draw(st.sampled_from(["dpa-estate", "p", "prøject"]))
    providers = []
    provider_resources = []
    for index in range(draw(st.integers(0, 2))):
        urn = f"urn:pulumi:{stack}::{project}::pulumi:providers:scaleway::p{index}"
        inputs = {key: draw(locality) for key in ("region", "zone") if draw(st.booleans())}
        providers.append(urn)
        provider_resources.append({"urn": urn, "type": "pulumi:providers:scaleway", "custom": True, "id": "pid", "inputs": inputs})
    stack_resource = {"urn": f"urn:pulumi:{stack}::{project}::{STACK_TYPE}::{project}-{stack}", "type": STACK_TYPE, "custom": False}
    body = draw(st.lists(resources(stack, project, providers), max_size=6))
    config: dict[str, Any] = {}
    for key in ("scaleway:region", "scaleway:zone", "scaleway:projectId", "dpaguard:environment"):
        if draw(st.booleans()):
            value = draw(locality if key != "dpaguard:environment" else st.one_of(st.sampled_from(["prod", "staging", "dev", "qa"]), scalars))
            # Sources hand over config with secure values already redacted (the Deployment contract).
            config[key] = secret_placeholder() if is_secret(value) else value
    extra = draw(st.dictionaries(st.sampled_from(["dpa-estate:dbPassword", "dpaguard:callRecordingRetentionDays", "x:y"]), scalars, max_size=2))
    config.update({k: secret_placeholder() if is_secret(v) else v for k, v in extra.items()})
    return Deployment(stack=stack, project=project, source="state", resources=tuple([stack_resource, *provider_resources, *body]), config=config)


def _given(value: Any) -> bool:
    return value is not None and value != ""


def _setting(settings: Mapping[str, Any], key: str) -> Any:
    """A provider setting; a region a zone alone implies (the provider derives it so)."""
    if _given(settings.get(key)):
        return settings[key]
    zone = settings.get("zone")
    if key == "region" and isinstance(zone, str) and zone and zone != UNKNOWN:
        return zone.rsplit("-", 1)[0]
    return None


def effective(raw: Mapping[str, Any], key: str, deployment: Deployment) -> Any:
    """The locality a resource ends up with: the resource (inputs, else outputs), else its provider, else the stack
    config (only for a default provider: an explicit one never reads it)."""
    for part in ("inputs", "outputs"):
        props = raw.get(part)
        if isinstance(props, dict) and _given(props.get(key)):
            return props[key]
    reference = raw.get("provider")
    if isinstance(reference, str) and reference:
        provider_urn = reference.rsplit("::", 1)[0]
        explicit = not provider_urn.rsplit("::", 1)[-1].startswith("default")
        for provider in deployment.resources:
            inputs = provider.get("inputs")
            if provider.get("urn") == provider_urn and isinstance(inputs, dict) and not is_secret(inputs):
                value = _setting(inputs, key)
                if value is not None:
                    return value
        if explicit:
            return None  # an explicit provider (found or not) never reads the stack config
    config = {k.removeprefix("scaleway:"): v for k, v in deployment.config.items() if k.startswith("scaleway:")}
    return _setting(config, key)


def _on_resource(raw: Mapping[str, Any], key: str) -> bool:
    return any(isinstance(raw.get(part), dict) and _given(raw[part].get(key)) for part in ("inputs", "outputs"))


def judged_scaleway(deployment: Deployment) -> list[tuple[Mapping[str, Any], tuple[bool, bool]]]:
    """The custom Scaleway resources that take a region or a zone, with (takes region, takes zone).

    A resource takes what its type's inputs name, and any region or zone it states itself.
    """
    judged = []
    for raw in deployment.resources:
        type_token, urn = raw.get("type"), raw.get("urn")
        if not isinstance(type_token, str) or not isinstance(urn, str) or raw.get("custom") is False:
            continue
        if type_token == STACK_TYPE or type_token.startswith(PROVIDER_PREFIX):
            continue
        canonical = canonical_type(type_token)
        info = type_info(canonical) if canonical.split(":", 1)[0] == "scaleway" else None
        if info is None:
            continue
        takes = (info.region or _on_resource(raw, "region"), info.zone or _on_resource(raw, "zone"))
        # A type that takes both is regional where the resource names its region and no zone, and so is a
        # regional type (settings.yaml) that names no zone (dpaguard.normalise.locality).
        both = bool(info.region and info.zone)
        if not _on_resource(raw, "zone") and (canonical in REGIONAL_TYPES or (both and _on_resource(raw, "region"))):
            takes = (True, False)
        if any(takes):
            judged.append((raw, takes))
    return judged


def demonstrably_french(raw: Mapping[str, Any], takes: tuple[bool, bool], deployment: Deployment) -> bool:
    """Whether every locality the resource takes is an approved French value (a region may be implied by a French zone)."""
    takes_region, takes_zone = takes
    region = effective(raw, "region", deployment) if takes_region else None
    if takes_zone:
        return effective(raw, "zone", deployment) in FRENCH_ZONES and (region is None or region in FRENCH_REGIONS)
    return region in FRENCH_REGIONS


# ---------------------------------------------------------------- access-rule sources and secret names (issue 15)

# Sources that admit the internet, in the spellings a rule must see through.
_INTERNET = ["0.0.0.0/0", "::/0", "0.0.0.0/1", "128.0.0.0/1", "8.0.0.0/7", "2000::/3", "0.0.0.0", "::",
             "::ffff:0.0.0.0/96", "::ffff:0:0/80", "64:ff9b::/96", "::ffff:128.0.0.0/97"]
_PADDING = st.text(alphabet=" \t\n\r\x0b\x0c", max_size=3)


@st.composite
def disguised_internet(draw: st.DrawFn) -> str:
    """An internet-wide source with padding and letter case changed: still the internet."""
    base = draw(st.sampled_from(_INTERNET))
    if draw(st.booleans()):
        base = base.upper()
    return draw(_PADDING) + base + draw(_PADDING)


def unparseable_source() -> st.SearchStrategy[Any]:
    """A source no rule can read as an address: words, wildcards, lists, numbers, objects, garbage text."""
    words = st.sampled_from(["*", "any", "ANY", "everyone", "internet", "all", "0.0.0.0/0,10.0.0.0/8", "0.0.0.0 /0",
                             "10.0.0.0/8 or 0.0.0.0/0", "0/0", "0.0.0.0/-1", "::/129", "[secret]", "０.0.0.0/0"])
    return st.one_of(
        words,
        st.text(max_size=30),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True),
        st.booleans(),
        st.lists(st.sampled_from(_INTERNET), min_size=1, max_size=3),
        st.dictionaries(st.sampled_from(["ip", "cidr", "value"]), st.sampled_from(_INTERNET), min_size=1, max_size=2),
    )


_SECRET_STEMS = [["password"], ["passwd"], ["pwd"], ["pass"], ["jwt"], ["dsn"], ["token"], ["secret"], ["api", "key"],
                 ["private", "key"], ["encryption", "key"], ["ssh", "key"], ["signing", "key"], ["webhook", "url"],
                 ["database", "url"], ["connection", "string"], ["client", "secret"], ["access", "key"]]
_ABOUT = [["id"], ["ids"], ["name"], ["length"], ["arn"]]


def _spell(words: list[str], style: str) -> str:
    if style == "camel":
        return words[0] + "".join(w.capitalize() for w in words[1:])
    if style == "pascal":
        return "".join(w.capitalize() for w in words)
    if style == "snake":
        return "_".join(words)
    if style == "kebab":
        return "-".join(words)
    return "_".join(words).upper()


_STYLES = st.sampled_from(["camel", "pascal", "snake", "kebab", "screaming"])
_PREFIXES = st.sampled_from([[], ["db"], ["admin"], ["slack"], ["ci", "job"], ["sentry"], ["app"], ["grafana"]])


@st.composite
def secret_names(draw: st.DrawFn) -> str:
    """A credential's name as programs spell it: a prefix, a secret stem, any case style."""
    return _spell(draw(_PREFIXES) + draw(st.sampled_from(_SECRET_STEMS)), draw(_STYLES))


@st.composite
def names_about_secrets(draw: st.DrawFn) -> str:
    """A name that names or measures a credential (its id, its name, its length): not a credential."""
    stem = draw(st.sampled_from([s for s in _SECRET_STEMS if s != ["pass"]]))
    return _spell(draw(_PREFIXES) + stem + draw(st.sampled_from(_ABOUT)), draw(_STYLES))
