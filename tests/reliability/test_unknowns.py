"""Unknown is never a pass: every property a rule reads (policies/dpa/properties.yaml), left unknown, is undetermined.

The cases are generated from properties.yaml, so a property added there is tested here without a
line of this file changing: one case per property of each resource type (the whole value unknown),
one per item or field properties.yaml describes (an unknown inside a list or an object, at any
depth), the tags its `tags` section reads (whole, under each key, as an item of a list) and each of
its `links` (a reference that may name the resource). Each case must give an undetermined finding
of every control properties.yaml lists for it, at the control's level in prod and staging and
advisory in dev, through the three ways dpaguard meets an unknown:

- `check`: a Pulumi program rendered offline, the value an `apply` on an output the preview does not
  know (`bucket.endpoint.apply(lambda _: "public-read")`);
- `audit`: a stack export holding Pulumi's unknown sentinel;
- the policy pack: the engine's Analyze of each resource with the sentinel in its inputs, and
  AnalyzeStack.

OPA in process, regopy and the real `opa` binary must decide the same on them, and a secret where
a rule reads a value (one wrapping an unknown too) is never a pass either.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from dpaguard.engine.bundle import data_json
from dpaguard.cli import main
from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.engine.opa_inprocess import OpaInProcessEngine
from dpaguard.engine.shaping import parse_decisions, rego_input
from dpaguard.facts import Facts
from dpaguard.model import ENVIRONMENTS, SECRET_SIG, SECRET_SIG_KEY, UNKNOWN, Decision
from dpaguard.normalise import DATA_CATEGORY_KEYS, normalise
from dpaguard.policy import Policy, load_policy

from support import POLICIES, REPO
from support.control_estate import config as stack_config
from support.control_estate import deployment, resource
from support.pack_fixtures import configure_for
from support.pack_harness import EngineSession, analyze_request, provider_of, start_pack

PROJECT = "dpa-test"  # control_estate's project
TODAY = "2026-11-27"


class Case(NamedTuple):
    """One part of a property a rule reads, left unknown: the resource that holds it and what must follow."""

    type_token: str
    path: str  # `acl`, `acls[0].ip`, `lifecycleRules[0].expiration.days`
    name: str  # the resource's name: one resource per case
    inputs: dict[str, Any]  # the resource's inputs, UNKNOWN at `path`
    controls: tuple[str, ...]
    # Resources declared beside it: (type, name, inputs), the one whose reference is unknown (properties.yaml links).
    companions: tuple[tuple[str, str, dict[str, Any]], ...] = ()
    # properties.yaml `presence: true`: the rules read whether it is set, and an unknown value is set.
    presence: bool = False

    @property
    def id(self) -> str:
        """The case as pytest names it."""
        return f"{self.type_token.split(':')[-1]}.{self.path}"


def _unknown_parts(schema: Mapping[str, Any], path: str) -> Iterator[tuple[str, Any]]:
    """(path, value) for the value unknown as a whole, then for each item or field the schema describes."""
    yield path, UNKNOWN
    if "items" in schema:
        for inner, value in _unknown_parts(schema["items"], f"{path}[0]"):
            yield inner, [value]
    for field, field_schema in schema.get("fields", {}).items():
        for inner, value in _unknown_parts(field_schema, f"{path}.{field}"):
            yield inner, {field: value}


def _tag_keys(fact: str) -> tuple[str, ...]:
    """The tag keys the normaliser reads for a fact of properties.yaml `tags`."""
    settings = yaml.safe_load((POLICIES / "dpa" / "settings.yaml").read_text(encoding="utf-8"))
    return {
        "env_tag": tuple(settings["environment_tag"]["keys"]),
        "data_category": DATA_CATEGORY_KEYS,
        "media_encryption": (settings["media_encryption_tag"]["key"],),
        "backup_copy": (settings["backup_tag"]["key"],),
    }[fact]


def _cases() -> list[Case]:
    document = yaml.safe_load((POLICIES / "dpa" / "properties.yaml").read_text(encoding="utf-8"))
    cases: list[Case] = []
    for type_token, properties in document["types"].items():
        for name, schema in properties.items():
            for path, value in _unknown_parts(schema, name):
                cases.append(Case(type_token, path, f"u{len(cases)}", {name: value}, tuple(schema["controls"]),
                                  presence=bool(schema.get("presence")) and path == name))
    # The tags: unknown as a whole, under each key a fact reads, or as an item of a list of tags.
    for entry in document["tags"]:
        type_token = entry.get("types", [TAGGABLE])[0]
        tags: list[tuple[str, Any]] = [("tags", UNKNOWN), ("tags[0]", [UNKNOWN])]
        tags += [(f"tags.{key}", {key: UNKNOWN}) for key in _tag_keys(entry["fact"])]
        for path, value in tags:
            cases.append(Case(type_token, path, f"u{len(cases)}", {"tags": value}, tuple(entry["controls"])))
    # The links: a resource whose reference to the case's resource is unknown (an ACL's instanceId).
    for link in document["links"]:
        name = f"u{len(cases)}"
        by = (link["by"], f"{name}-by", {link["property"]: UNKNOWN})
        cases.append(Case(link["target"], f"the {link['property']} of a {link['by']}", name, {}, tuple(link["controls"]), (by,)))
    return cases


TAGGABLE = "scaleway:network/vpc:Vpc"  # a type that takes tags, for the tags rules read on every type
CASES = _cases()
# One case per property of properties.yaml `types`: the whole value unknown.
WHOLE = [case for case in CASES if not any(c in case.path for c in ".[") and case.path != "tags" and not case.companions]


def _urn(stack: str, case: Case) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{case.type_token}::{case.name}"


def _provider_urn(stack: str, type_token: str) -> str:
    """The default provider of a type's package, as the engine names it (a dynamic resource's is pulumi-python)."""
    package = type_token.split(":", 1)[0]
    return f"urn:pulumi:{stack}::{PROJECT}::pulumi:providers:{package}::default"


def _resources(stack: str) -> list[dict[str, Any]]:
    """A stack export's resources: every case's resource, under the default provider of its package."""
    declared = [(case.type_token, case.name, case.inputs) for case in CASES]
    declared += [companion for case in CASES for companion in case.companions]
    providers = [{"urn": urn, "custom": True, "id": "provider-id", "type": urn.split("::")[2], "inputs": {}, "outputs": {}}
                 for urn in sorted({_provider_urn(stack, type_token) for type_token, _, _ in declared})]
    return providers + [
        resource(stack, type_token, name, inputs, provider=f"{_provider_urn(stack, type_token)}::provider-id")
        for type_token, name, inputs in declared
    ]


def _message(case: Case) -> str:
    return f"{case.path} is unknown until apply: cannot be judged"


def _expected_level(policy: Policy, control: str, environment: str) -> str:
    level = policy.control(control).enforcement_for(environment)
    return "advisory" if environment == "dev" and level != "disabled" else level


def _assert_undetermined(found: set[tuple[str, str, str, str]], policy: Policy, case: Case, stack: str, environment: str) -> None:
    """`found`: (control, urn, message, level) of a run; every control of the case must be there, undetermined."""
    urn = _urn(stack, case)
    for control in case.controls:
        level = _expected_level(policy, control, environment)
        if level == "disabled":  # a control switched off in this environment (DPA-BAK-004 outside prod) reports nothing
            assert not {f for f in found if f[:2] == (control, urn)}
            continue
        expected = (control, urn, _message(case), level)
        if case.presence:  # set, though its value is unknown: nothing undetermined about it
            assert not {f for f in found if f[:3] == expected[:3]}, expected
            continue
        assert expected in found, (expected, sorted(f for f in found if f[1] == urn))


@pytest.fixture(scope="module")
def unknown_policy() -> Policy:
    """The shipped policy set."""
    return load_policy(POLICIES)


def test_every_property_of_properties_yaml_has_a_case(unknown_policy: Policy) -> None:
    typed = {(t, name) for t, properties in unknown_policy.data["properties"]["types"].items() for name in properties}
    assert {(case.type_token, case.path) for case in WHOLE} == typed
    assert len(WHOLE) == 83 and sum(len(case.controls) for case in WHOLE) == 107  # as SECURITY.md states


# --- audit: a stack export holding the unknown sentinel ---------------------------------------------


def _reported(document: Mapping[str, Any]) -> set[tuple[str, str, str, str]]:
    """(control, urn, message, enforcement) of a JSON report's undetermined findings."""
    return {(f["control"], f["urn"], f["message"], f["enforcement"]) for f in document["findings"] if f["status"] == "undetermined"}


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[tuple[str, str, str, str]]]:
    """Per environment, the undetermined findings of `dpaguard audit` on one export holding every case."""
    from dpaguard.source.state import to_export

    folder = tmp_path_factory.mktemp("audit")
    found: dict[str, set[tuple[str, str, str, str]]] = {}
    for environment in ENVIRONMENTS:
        stack = environment
        resources = _resources(stack)
        export = folder / f"{stack}.json"
        export.write_text(json.dumps(to_export(deployment(stack, resources))), encoding="utf-8")
        config = folder / f"Pulumi.{stack}.yaml"
        config.write_text(yaml.safe_dump({"config": stack_config(stack)}), encoding="utf-8")
        report = folder / f"{stack}-report.json"
        code = main(["audit", "--state", str(export), "--stack-config", str(config), "--policies", str(POLICIES),
                     "--today", TODAY, "--format", "json", "--output", str(report), "--quiet"])
        assert code in (0, 1)  # 2 would be an error
        found[environment] = _reported(json.loads(report.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_audit_reports_an_unknown_property_as_undetermined(
    case: Case, environment: str, audited: dict[str, set[tuple[str, str, str, str]]], unknown_policy: Policy,
) -> None:
    _assert_undetermined(audited[environment], unknown_policy, case, environment, environment)


def _as_secret(value: Any) -> Any:
    """The value with each unknown replaced by a secret (its ciphertext): a secret wrapping an unknown, as a state holds it."""
    if value == UNKNOWN:
        return {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": "v1:CANARY-CIPHERTEXT"}
    if isinstance(value, list):
        return [_as_secret(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_secret(item) for key, item in value.items()}
    return value


PROPERTY_CASES = [case for case in CASES if not case.path.startswith("tags") and not case.companions]


@pytest.fixture(scope="module")
def audited_secrets(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str, str, str]]:
    """The findings (control, urn, message, status) of `dpaguard audit` in prod on the cases with a secret where the unknown was."""
    from dpaguard.source.state import to_export

    folder = tmp_path_factory.mktemp("secrets")
    resources = [{**r, "inputs": _as_secret(r["inputs"])} for r in _resources("prod")]
    export = folder / "prod.json"
    export.write_text(json.dumps(to_export(deployment("prod", resources))), encoding="utf-8")
    report = folder / "report.json"
    assert main(["audit", "--state", str(export), "--policies", str(POLICIES), "--today", TODAY, "--format", "json",
                 "--output", str(report), "--quiet"]) == 1
    document = json.loads(report.read_text(encoding="utf-8"))
    return {(f["control"], f["urn"], f["message"], f["status"]) for f in document["findings"]}


@pytest.mark.parametrize("case", PROPERTY_CASES, ids=[case.id for case in PROPERTY_CASES])
def test_a_secret_where_a_rule_reads_a_value_is_undetermined(
    case: Case, audited_secrets: set[tuple[str, str, str, str]], unknown_policy: Policy,
) -> None:
    # Secrets are never decrypted: a secret (one wrapping an unknown too) cannot be judged, wherever a rule reads.
    # An access-rule source that is a secret is judged as the internet (a violation), which is no pass either.
    urn = _urn("prod", case)
    for control in case.controls:
        undetermined = any(f[:2] == (control, urn) and f[2].startswith(f"{case.path} is a secret where") and f[3] == "undetermined"
                           for f in audited_secrets)
        internet = any(f[:2] == (control, urn) and "admits the internet" in f[2] and f[3] == "violation" for f in audited_secrets)
        assert undetermined or internet, (control, sorted(f for f in audited_secrets if f[1] == urn))


# --- check: a program whose value is an apply on an output the preview does not know ------------------


def _python(value: Any) -> str:
    """`value` as Python source, each UNKNOWN an apply on the source bucket's endpoint (unknown in preview)."""
    if value == UNKNOWN:
        return 'source.endpoint.apply(lambda _: "x")'
    if isinstance(value, list):
        return "[" + ", ".join(_python(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {_python(item)}" for key, item in value.items()) + "}"
    return repr(value)


def _program(cases: list[Case]) -> str:
    lines = [
        "import pulumi",
        "",
        "class Declared(pulumi.CustomResource):",
        "    endpoint: pulumi.Output[str]",
        "",
        "    def __init__(self, type_token, name, props):",
        "        super().__init__(type_token, name, props)",
        "",
        'source = Declared("scaleway:object/bucket:Bucket", "source", {"endpoint": None})',
    ]
    declared = [(case.type_token, case.name, case.inputs) for case in cases]
    declared += [companion for case in cases for companion in case.companions]
    lines += [f"Declared({type_token!r}, {name!r}, {_python(inputs)})" for type_token, name, inputs in declared]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[tuple[str, str, str, str]]]:
    """Per environment (one stack each), the undetermined findings of `dpaguard check --all-stacks` on the program."""
    project = tmp_path_factory.mktemp("check") / "unknowns"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\n", encoding="utf-8")
    (project / "__main__.py").write_text(_program(CASES), encoding="utf-8")
    for environment in ENVIRONMENTS:
        (project / f"Pulumi.{environment}.yaml").write_text(yaml.safe_dump({"config": stack_config(environment)}), encoding="utf-8")
    report = project.parent / "report.json"
    code = main(["check", "--project-dir", str(project), "--all-stacks", "--no-checkov", "--policies", str(POLICIES),
                 "--today", TODAY, "--format", "json", "--output", str(report), "--quiet"])
    assert code == 1
    document = json.loads(report.read_text(encoding="utf-8"))
    return {environment: {f for f in _reported(document) if f[1].startswith(f"urn:pulumi:{environment}::")} for environment in ENVIRONMENTS}


# A render records each unknown reference's dependencies (propertyDependencies), as the real engine
# does, and the normaliser links through them: an ACL whose instanceId is an apply on a bucket's output
# names no database of the stack, however unknown (tests/normalise: the link tests). The links' "may
# name any target" case is a reference with no dependency, which only a stack export or the engine's
# Analyze can hold: the audit and pack cases below.
CHECK_CASES = [case for case in CASES if not case.companions]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("case", CHECK_CASES, ids=[case.id for case in CHECK_CASES])
def test_check_reports_an_unknown_property_as_undetermined(
    case: Case, environment: str, checked: dict[str, set[tuple[str, str, str, str]]], unknown_policy: Policy,
) -> None:
    _assert_undetermined(checked[environment], unknown_policy, case, environment, environment)


# --- the policy pack: the engine's Analyze with the sentinel in a resource's inputs ---------------------


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, set[tuple[str, str, str, str]]]]:
    """Per environment, the pack's diagnostics for each case's resource, analysed as the engine does in a preview (Analyze, AnalyzeStack)."""
    session: EngineSession = start_pack(tmp_path_factory.mktemp("pack"))
    try:
        session.handshake()
        found: dict[str, set[tuple[str, str, str, str]]] = {}
        for environment in ENVIRONMENTS:
            stack = environment
            resources = _resources(stack)
            by_urn = {r["urn"]: r for r in resources}
            configure_for(session, deployment(stack, resources))
            found[environment] = {
                (d.policy, d.urn, d.message, d.level)
                for r in resources if "provider" in r
                for d in session.analyze(r, provider_of(r, by_urn))
            }
            # What only the whole stack shows (the links), as the engine asks at the end.
            found[environment] |= {(d.policy, d.urn, d.message, d.level) for d in session.analyze_stack(resources)}
        yield found
    finally:
        session.close()


@pytest.mark.slow
@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_pack_reports_an_unknown_property_as_undetermined(
    case: Case, environment: str, analyzed: dict[str, set[tuple[str, str, str, str]]], unknown_policy: Policy,
) -> None:
    _assert_undetermined(analyzed[environment], unknown_policy, case, environment, environment)



# --- every engine decides the same on every case ----------------------------------------------------

OPA_BINARY = REPO / ".tools" / "bin" / "opa"


def _real_opa(policy: Policy, facts: Facts, folder: Path) -> list[Decision]:
    """The decisions of the real `opa` binary (`opa eval`) on the facts as every engine is sent them."""
    data = folder / "data.json"
    data.write_text(data_json(policy), encoding="utf-8")
    run = subprocess.run(
        [str(OPA_BINARY), "eval", "--format=json", "-d", str(POLICIES / "rego"), "-d", str(data),
         "--stdin-input", "data.dpaguard.main.decisions"],
        input=json.dumps(rego_input(facts)), capture_output=True, text=True, timeout=300, check=True,
    )
    value = json.loads(run.stdout)["result"][0]["expressions"][0]["value"]
    return sorted(parse_decisions(value, "opa eval"), key=_order)


def _order(decision: Decision) -> tuple[str, str, str, str]:
    return decision.control, decision.urn, decision.message, decision.status


@pytest.mark.skipif(not OPA_BINARY.exists(), reason="the real opa binary is built by .ci/real-tools into .tools/bin")
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_engine_decides_the_same_on_the_unknowns(environment: str, unknown_policy: Policy, tmp_path: Path) -> None:
    facts = normalise([deployment(environment, _resources(environment))], unknown_policy.data, today=dt.date.fromisoformat(TODAY))
    in_process, regopy = OpaInProcessEngine(unknown_policy), EmbeddedEngine(unknown_policy)
    try:
        answers = [sorted(engine.decide(facts), key=_order) for engine in (in_process, regopy)]
    finally:
        in_process.close()
        regopy.close()
    answers.append(_real_opa(unknown_policy, facts, tmp_path))
    undetermined = {(d.control, d.urn, d.message) for d in answers[0] if d.status == "undetermined"}
    # Not vacuous: every control of every case is among them.
    assert {(control, _urn(environment, case), _message(case))
            for case in CASES if not case.presence for control in case.controls} <= undetermined
    assert answers[1] == answers[0], "regopy disagrees with OPA"
    assert answers[2] == answers[0], "the opa binary disagrees with OPA in process"


def test_a_target_whose_own_name_is_unknown_is_not_named_by_an_unknown_reference(unknown_policy: Policy) -> None:
    # Both unknown until apply: the sentinel equals itself, the resources need not.
    bucket = resource("prod", "scaleway:object/bucket:Bucket", "records", {"name": UNKNOWN, "tags": {"env": "prod", "data-category": "call-recordings"}})
    sse = resource("prod", "scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "records-sse",
                   {"bucket": UNKNOWN})
    facts = normalise([deployment("prod", [bucket, sse])], unknown_policy.data, today=dt.date.fromisoformat(TODAY))
    records = next(r for r in facts["resources"] if r["urn"] == bucket["urn"])
    assert {"path": "the bucket of a scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "controls": ["DPA-SEC-004"]} in records.get("unknown", [])


@pytest.mark.slow
def test_the_pack_reads_a_secret_wrapping_an_unknown_as_undetermined(tmp_path: Path) -> None:
    # What the engine sends in a preview for `pulumi.Output.secret(<unknown>)`: the secret wrapper around the
    # sentinel (KeepSecrets, KeepUnknowns), never decrypted by the pack, so never judged as a value.
    cases = [case for case in WHOLE if case.path in ("acl", "disableBackup")]
    assert len(cases) > 2
    resources = _resources("prod")
    by_urn = {r["urn"]: r for r in resources}
    session: EngineSession = start_pack(tmp_path)
    try:
        session.handshake()
        configure_for(session, deployment("prod", resources))
        for case in cases:
            declared = by_urn[_urn("prod", case)]
            request = analyze_request(declared, provider_of(declared, by_urn))
            wrapped = request.properties.fields[case.path].struct_value
            wrapped.Clear()
            wrapped.fields[SECRET_SIG_KEY].string_value = SECRET_SIG
            wrapped.fields["value"].string_value = UNKNOWN
            found = {(d.policyName, d.message) for d in session.stub.Analyze(request).diagnostics}
            for control in case.controls:
                assert any(policy == control and message.startswith(f"{case.path} is a secret where") for policy, message in found), found
    finally:
        session.close()
