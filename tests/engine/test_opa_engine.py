"""The OPA-server engine against the stand-in OPA server: answers, protocol, and every fault failing closed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import time
from typing import Any, Callable, cast

import pytest
import requests
from support.opa_standin import OpaStandIn

from dpaguard.engine.opa import ID_PREFIX, OpaEngine, display_url, module_id, push_order
from dpaguard.errors import EngineError
from dpaguard.facts import Facts
from dpaguard.model import UNKNOWN, ControlId, Decision, Urn
from dpaguard.normalise import normalise

CANARY = "canary-4f1d2c-secret-value"

# The input of the toy policy (conftest toy_policy), which reads `region` of each resource: not dpaguard's facts.
FACTS = cast(Facts, {
    "stacks": [{"name": "prod"}],
    "resources": [
        {"urn": "urn:a", "region": "fr-par"},
        {"urn": "urn:b", "region": "nl-ams"},
        {"urn": "urn:c", "region": UNKNOWN},
        {"urn": "urn:d", "region": "pl-waw", "password": CANARY},
    ],
    "context": {},
})
EXPECTED = [
    Decision(ControlId("DPA-RES-001"), Urn("urn:b"), "region nl-ams is not in France", "violation"),
    Decision(ControlId("DPA-RES-001"), Urn("urn:c"), "region unknown during preview", "undetermined"),
    Decision(ControlId("DPA-RES-001"), Urn("urn:d"), "region pl-waw is not in France", "violation"),
]


def engine_for(opa: OpaStandIn, policy: Any, timeout: float = 2.0) -> OpaEngine:
    return OpaEngine(policy, url=opa.url, timeout=timeout)


def test_decisions_from_the_server(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    engine = engine_for(opa, toy_policy())
    assert engine.decide(FACTS) == EXPECTED
    assert engine.decide(cast(Facts, {"stacks": [], "resources": [{"urn": "urn:a", "region": "fr-par"}], "context": {}})) == []
    engine.close()


def test_requests_follow_opas_rest_api(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    policy = toy_policy()
    engine = engine_for(opa, policy)
    engine.decide(FACTS)
    engine.decide(FACTS)
    sha = policy.sha256[:16]
    assert opa.requests[:3] == ["GET /health", "GET /v1/data/system/bundles", "GET /v1/policies"]
    puts = [r for r in opa.requests if r.startswith("PUT /v1/policies/")]
    assert sorted(puts) == sorted(
        f"PUT /v1/policies/dpaguard/{sha}/{rel}" for rel in ("rego/lib.rego", "rego/main.rego", "_dpaguard_version.rego")
    )
    assert "PUT /v1/data/dpa" in opa.requests
    # policies and data are pushed once; each evaluation is one POST to the package of the decisions
    assert opa.requests.count("PUT /v1/data/dpa") == 1
    assert [r for r in opa.requests if r.startswith("POST")] == ["POST /v1/data/dpaguard/main"] * 2
    assert opa.policies[module_id(policy.sha256, "rego/main.rego")] == policy.rego_modules["rego/main.rego"]
    assert opa.data["dpa"] == policy.data


def test_pushes_raw_rego_as_text_plain_and_queries_strictly(toy_policy: Callable[..., Any]) -> None:
    seen: list[tuple[str, str, str]] = []

    class Recording(OpaStandIn):
        pass

    with Recording() as opa:
        original = opa._server.RequestHandlerClass

        class Spy(original):  # type: ignore[valid-type,misc]
            def do_PUT(self) -> None:
                seen.append(("PUT", self.path, self.headers.get("Content-Type", "")))
                super().do_PUT()

            def do_POST(self) -> None:
                seen.append(("POST", self.path, self.headers.get("Content-Type", "")))
                super().do_POST()

        opa._server.RequestHandlerClass = Spy
        OpaEngine(toy_policy(), url=opa.url).decide(FACTS)
    policy_puts = [s for s in seen if s[1].startswith("/v1/policies/")]
    assert policy_puts and all(ctype == "text/plain" for _, _, ctype in policy_puts)
    assert ("PUT", "/v1/data/dpa", "application/json") in seen
    assert ("POST", "/v1/data/dpaguard/main?strict-builtin-errors=true", "application/json") in seen


def test_stale_modules_of_another_version_are_removed(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    old = toy_policy(modules={"rego/extra.rego": "package dpaguard.extra\n\nx := 1\n"})
    engine_for(opa, old).decide(FACTS)
    new = toy_policy()
    assert engine_for(opa, new).decide(FACTS) == EXPECTED
    assert all(pid.startswith(f"{ID_PREFIX}{new.sha256[:16]}/") for pid in opa.policies if pid.startswith(ID_PREFIX))
    assert not any("extra" in pid for pid in opa.policies)


def test_other_clients_policies_are_left_alone(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    requests.put(f"{opa.url}/v1/policies/team/authz.rego", data=b"package team.authz\n\nallow := true\n", timeout=5)
    engine_for(opa, toy_policy()).decide(FACTS)
    assert "team/authz.rego" in opa.policies


def test_another_version_pushed_meanwhile_is_pushed_over(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    first = engine_for(opa, toy_policy())
    first.decide(FACTS)
    # another run with other policies (a different region list) takes over the server ...
    second = engine_for(opa, toy_policy(data={"regions": ["fr-par", "nl-ams"]}))
    assert len(second.decide(FACTS)) == 2
    # ... the first notices in its next query, pushes its own again and answers with them
    assert first.decide(FACTS) == EXPECTED
    assert opa.requests.count("PUT /v1/data/dpa") == 3


def test_data_replaced_meanwhile_is_pushed_over(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    engine = engine_for(opa, toy_policy())
    engine.decide(FACTS)
    requests.put(f"{opa.url}/v1/data/dpa", json={"regions": ["nl-ams"]}, timeout=5)
    assert engine.decide(FACTS) == EXPECTED
    assert opa.data["dpa"] == toy_policy().data


class _Interloper(OpaStandIn):
    """A server where another run replaces the DPA data after every push of ours."""

    def put_data(self, path: list[str], document: Any) -> None:
        super().put_data(path, document)
        if path == ["dpa"] and document != {"regions": ["nl-ams"]}:
            super().put_data(["dpa"], {"regions": ["nl-ams"]})


def test_two_versions_taking_turns_fail_closed(toy_policy: Callable[..., Any]) -> None:
    with _Interloper() as opa:
        with pytest.raises(EngineError, match="another dpaguard run") as caught:
            engine_for(opa, toy_policy()).decide(FACTS)
    assert "is the OPA server running?" in caught.value.one_line()
    assert sum(r.startswith("POST") for r in opa.requests) == 2  # one retry, not a loop


def test_concurrent_evaluations_agree(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    engine = engine_for(opa, toy_policy(), timeout=10)
    results: list[list[Decision]] = []

    def run() -> None:
        results.append(engine.decide(FACTS))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [EXPECTED] * 8
    assert opa.requests.count("PUT /v1/data/dpa") == 1


# -- fail closed ---------------------------------------------------------------------------------


def fails(engine: OpaEngine, url: str, *fragments: str) -> str:
    """The engine raises EngineError with one line naming the URL and the fragments, no input."""
    with pytest.raises(EngineError) as caught:
        engine.decide(FACTS)
    line = caught.value.one_line()
    assert "\n" not in line
    assert display_url(url) in line
    assert "is the OPA server running?" in line
    assert CANARY not in line and "nl-ams" not in line
    for fragment in fragments:
        assert fragment in line, line
    return line


def test_connection_refused(refused_url: str, toy_policy: Callable[..., Any]) -> None:
    started = time.monotonic()
    fails(OpaEngine(toy_policy(), url=refused_url, timeout=2), refused_url, "cannot connect")
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("on", ["GET /v1/policies", "PUT /v1/policies", "PUT /v1/data", "POST /v1/data"])
def test_hanging_server_times_out(opa: OpaStandIn, toy_policy: Callable[..., Any], on: str) -> None:
    opa.inject("hang", on=on)
    started = time.monotonic()
    fails(engine_for(opa, toy_policy(), timeout=0.4), opa.url, "no answer within 0.4 s")
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("on", ["GET /health", "GET /v1/data/system/bundles", "PUT /v1/policies", "POST /v1/data"])
def test_slow_drip_is_bounded_as_a_whole(opa: OpaStandIn, toy_policy: Callable[..., Any], on: str) -> None:
    engine_for(opa, toy_policy()).decide(FACTS)  # the modules are in place: the faulty run re-sends them
    opa.drip_seconds = 0.1  # each read takes 0.1 s, well inside requests' per-read timeout
    opa.inject("drip", on=on)
    started = time.monotonic()
    fails(engine_for(opa, toy_policy(), timeout=1.0), opa.url, "no answer within 1 s")
    # the whole answer would take 10 s and more (a hundred bytes and more, 0.1 s each)
    assert 1.0 <= time.monotonic() - started < 3.0


def test_a_new_session_after_a_deadline(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    # the exchange that ran out is left to its thread; the next call does not queue behind it
    engine = engine_for(opa, toy_policy(), timeout=1.0)
    opa.drip_seconds = 0.1
    opa.inject("drip", on="POST /v1/data")
    with pytest.raises(EngineError, match="no answer within 1 s"):
        engine.decide(FACTS)
    opa.heal()
    assert engine.decide(FACTS) == EXPECTED


@pytest.mark.parametrize(
    ("on", "why"),
    [
        ("GET /v1/policies", "not JSON"),
        ("GET /v1/data/system/bundles", "not JSON"),
        # opa_client takes any 200 to a policy PUT as success: the module never arrived, and
        # the query finds the decisions undefined
        ("PUT /v1/policies", "undefined"),
        ("PUT /v1/data", "not JSON"),
        ("POST /v1/data", "not JSON"),
    ],
)
def test_garbage_answer(opa: OpaStandIn, toy_policy: Callable[..., Any], on: str, why: str) -> None:
    opa.inject("garbage", on=on)
    fails(engine_for(opa, toy_policy()), opa.url, why)


@pytest.mark.parametrize("on", ["GET /v1/data/system/bundles", "GET /v1/policies", "PUT /v1/policies", "PUT /v1/data", "POST /v1/data"])
def test_server_error(opa: OpaStandIn, toy_policy: Callable[..., Any], on: str) -> None:
    opa.inject("error500", on=on)
    fails(engine_for(opa, toy_policy()), opa.url, "internal_error")


def test_unhealthy_server(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    opa.inject("error500", on="GET /health")
    fails(engine_for(opa, toy_policy()), opa.url, "/health")


def test_undefined_document_is_not_an_empty_answer(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    opa.inject("undefined", on="POST /v1/data")
    fails(engine_for(opa, toy_policy()), opa.url, "undefined")


def test_policies_without_decisions_are_not_an_empty_answer(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    policy = toy_policy(modules={"rego/main.rego": "package dpaguard.main\n\nnothing := true\n"})
    fails(engine_for(opa, policy), opa.url, "decisions is undefined")


def test_package_without_decisions_is_not_an_empty_answer(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    opa.inject("no-decisions", on="POST /v1/data")
    fails(engine_for(opa, toy_policy()), opa.url, "decisions is undefined")


def test_malformed_decisions(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    opa.inject("malformed", on="POST /v1/data")
    fails(engine_for(opa, toy_policy()), opa.url, "malformed decision")


@pytest.mark.parametrize(
    "bad",
    [
        {"urn": "u", "message": "m"},
        {"control": "C", "urn": "u", "message": "m", "status": "pass"},
        {"control": "C", "urn": "", "message": "m"},
        "just a string",
    ],
)
def test_malformed_decision_shapes(opa: OpaStandIn, toy_policy: Callable[..., Any], bad: Any) -> None:
    main = f"package dpaguard.main\n\ndecisions contains {json.dumps(bad)}\n"
    fails(engine_for(opa, toy_policy(modules={"rego/main.rego": main})), opa.url, "malformed decision")


def test_rego_syntax_error_names_file_and_line(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    broken = "package dpaguard.residency\n\nviolation contains x if {{{\n"
    line = fails(engine_for(opa, toy_policy(modules={"rego/residency.rego": broken})), opa.url, "rego/residency.rego:")
    # OPA's parser reports the unclosed braces at the end of the file: row 4 (after the last newline)
    assert "rego/residency.rego:4:" in line
    assert "rego_parse_error: unexpected eof token" in line


def test_opa_compile_error_body_is_reported_with_location(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    # a module that parses but does not compile (an unsafe variable, which regopy lets through):
    # OPA's 400 errors[] names the module id, which the engine shows as the policy file
    unsafe = "package dpaguard.extra\n\nflag if {\n\tx == 1\n}\n"
    line = fails(engine_for(opa, toy_policy(modules={"rego/extra.rego": unsafe})), opa.url,
                 "policies/rego/extra.rego:4:2: rego_unsafe_var_error: var x is unsafe")
    assert "dpaguard/" not in line.split("push module", 1)[1]  # not the server's module id


def test_injected_compile_error_body_is_reported_with_location(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    opa.inject("compile-error", on="PUT /v1/policies")
    fails(engine_for(opa, toy_policy()), opa.url, ":3:1: rego_unsafe_var_error: var x is unsafe")


def test_keyword_as_a_variable_is_refused_by_opa(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    # the fault issue 11 found in subprocessor.rego, which the regopy stand-in could not see
    main = toy_policy().rego_modules["rego/main.rego"].replace("some r in input.resources\n\tnot r.region", "some package in input.resources\n\tnot package.region", 1)
    fails(engine_for(opa, toy_policy(modules={"rego/main.rego": main})), opa.url,
          "policies/rego/main.rego:6:", "rego_parse_error: unexpected package keyword: expected var")


def test_evaluation_error_does_not_quote_the_input(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    # a builtin error on a value of the input (strict-builtin-errors): a 500 whose message quotes it
    main = 'package dpaguard.main\n\ndecisions contains {"control": "C", "urn": r.urn, "message": "m"} if {\n\tsome r in input.resources\n\tto_number(r.password) > 0\n}\n'
    fails(engine_for(opa, toy_policy(modules={"rego/main.rego": main})), opa.url, "HTTP 500")


def test_bad_url_and_timeout_are_refused(toy_policy: Callable[..., Any]) -> None:
    with pytest.raises(EngineError, match="not an http"):
        OpaEngine(toy_policy(), url="localhost:8181")
    with pytest.raises(EngineError, match="positive"):
        OpaEngine(toy_policy(), url="http://localhost:8181", timeout=0)


@pytest.mark.parametrize("url", ["http://opa:99999", "http://opa:port", "ftp://opa:8181", "http://admin:hunter2@:8181/?t=1"])
def test_unusable_urls_are_refused_without_echoing_credentials(toy_policy: Callable[..., Any], url: str) -> None:
    with pytest.raises(EngineError, match="is not an http") as caught:
        OpaEngine(toy_policy(), url=url)
    assert "hunter2" not in caught.value.one_line() and "t=1" not in caught.value.one_line()


def test_server_behind_a_path_prefix(toy_policy: Callable[..., Any]) -> None:
    with OpaStandIn(prefix="/opa") as opa:
        assert OpaEngine(toy_policy(), url=f"{opa.url}/opa/", timeout=5).decide(FACTS) == EXPECTED
    assert "GET /health" in opa.requests and "POST /v1/data/dpaguard/main" in opa.requests


def test_ipv6_address(toy_policy: Callable[..., Any]) -> None:
    engine = OpaEngine(toy_policy(), url="http://[::1]:9/opa/", timeout=1)
    assert engine.url == "http://[::1]:9"  # the path is not shown: it may carry a token (issue 24, L6)
    with pytest.raises(EngineError, match=r"OPA server http://\[::1\]:9: GET /health: cannot connect"):
        engine.decide(FACTS)


def test_credentials_in_the_url_are_never_shown(refused_url: str, toy_policy: Callable[..., Any]) -> None:
    url = refused_url.replace("http://", "http://admin:hunter2@") + "/?token=abc"
    with pytest.raises(EngineError) as caught:
        OpaEngine(toy_policy(), url=url, timeout=1).decide(FACTS)
    line = caught.value.one_line()
    assert "hunter2" not in line and "admin" not in line and "token=abc" not in line
    assert display_url(refused_url) in line


def test_server_recovering_after_a_fault_answers_again(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    engine = engine_for(opa, toy_policy())
    opa.inject("error500", on="POST /v1/data")
    with pytest.raises(EngineError):
        engine.decide(FACTS)
    opa.heal()
    assert engine.decide(FACTS) == EXPECTED


def test_modules_are_pushed_in_whatever_order_the_server_accepts(toy_policy: Callable[..., Any]) -> None:
    # OPA compiles the whole module set on every PUT: a module calling a function of a module not
    # yet pushed is refused (400) until that one is in. The engine retries refused modules while
    # others still succeed, and reports the root cause (a syntax error) when nothing moves.
    from opa_client.errors import RegoParseError

    engine = OpaEngine(toy_policy(), url="http://127.0.0.1:9")
    accepted: list[str] = []
    needs = {"b": "a", "c": "b"}

    def push(pid: str) -> None:
        if pid in needs and needs[pid] not in accepted:
            raise RegoParseError("invalid_parameter", "error(s) occurred while compiling module(s)",
                                 [{"code": "rego_type_error", "message": f"undefined function data.{needs[pid]}.f",
                                   "location": {"file": pid, "row": 4, "col": 2}}])
        accepted.append(pid)

    engine._settle("push module", ["c", "b", "a"], push)
    assert accepted == ["a", "b", "c"]

    def broken(pid: str) -> None:
        code = "rego_parse_error" if pid == "a" else "rego_type_error"
        raise RegoParseError("invalid_parameter", "error(s) occurred while compiling module(s)",
                             [{"code": code, "message": "unexpected eof", "location": {"file": pid, "row": 7, "col": 1}}])

    with pytest.raises(EngineError, match=r"push module a: .*a:7:1: rego_parse_error"):
        engine._settle("push module", ["c", "b", "a"], broken)


def test_real_policies_are_pushed_once_each(opa: OpaStandIn, policy: Any) -> None:
    # OPA compiles the whole set on every PUT and refuses a module whose functions' module is not
    # there yet: pushed in import order, none is refused (each refusal is a compile and a round trip)
    OpaEngine(policy, url=opa.url, timeout=60).decide(normalise([], policy.data, today=dt.date(2026, 11, 29)))
    puts = [r for r in opa.requests if r.startswith("PUT /v1/policies/")]
    assert len(puts) == len(set(puts)) == len(policy.rego_modules) + 1
    order = [p.rsplit("/rego/", 1)[-1] for p in puts]
    assert order.index("lib/result.rego") < order.index("access.rego") < order.index("main.rego")


def test_push_order() -> None:
    modules = {
        "a": "package x.main\n\nimport data.x.lib\nimport data.x.rules as r\n",
        "b": "# package x.not_this\npackage x.rules\n\nimport data.x.lib.util\n",
        "c": "package x.lib.util\n",
        "d": "package x.cycle\n\nimport data.x.cycle2\n",
        "e": "package x.cycle2\n\nimport data.x.cycle\n",
    }
    order = push_order(modules)
    assert sorted(order) == sorted(modules)
    assert order.index("c") < order.index("b") < order.index("a")  # x.lib covers x.lib.util


def test_stale_real_policies_are_deleted_once_each(opa: OpaStandIn, policy: Any) -> None:
    # another version of the real policies (its digest differs): every module of the old one goes,
    # each by one DELETE that OPA accepts (a module whose functions others call goes last)
    facts = normalise([], policy.data, today=dt.date(2026, 11, 29))
    OpaEngine(policy, url=opa.url, timeout=60).decide(facts)
    newer = dataclasses.replace(policy, sha256="f" * 64)
    OpaEngine(newer, url=opa.url, timeout=60).decide(facts)
    deletes = [r for r in opa.requests if r.startswith("DELETE ")]
    assert len(deletes) == len(set(deletes)) == len(policy.rego_modules) + 1
    assert all(pid.startswith(f"{ID_PREFIX}ffffffffffffffff/") for pid in opa.policies)
    order = [d.rsplit("/rego/", 1)[-1] for d in deletes]
    assert order.index("residency.rego") < order.index("lib/result.rego")


def test_the_server_gets_the_input_every_in_process_engine_gets(opa: OpaStandIn, policy: Any) -> None:
    """One Rego input for every engine (engine/shaping.py): facts the Rego never reads are never sent."""
    from dpaguard.engine.shaping import _NOT_READ_BY_REGO, chunks, rego_input
    from dpaguard.normalise import normalise
    from support.estates import vs_checkov_estate

    facts = normalise([vs_checkov_estate(60)], policy.data, today=dt.date(2026, 1, 5))
    OpaEngine(policy, url=opa.url, timeout=60).decide(facts)
    (sent,) = opa.inputs
    assert sent == json.loads(json.dumps(rego_input(facts))) == json.loads(json.dumps(chunks(facts, 10_000)[0]))
    dropped = {key for r in facts["resources"] for key in r} & _NOT_READ_BY_REGO
    assert dropped and not any(dropped & set(r) for r in sent["resources"])
