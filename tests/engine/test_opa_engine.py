"""The OPA-server engine against the stand-in OPA server and the real one: answers, protocol, and every fault failing closed.

Tests taking `any_opa` run twice: on a fresh stand-in (tests/support/opa_standin.py) and on the
session's real `opa run --server` (.tools/bin/opa). Fault injection and request logs exist on the
stand-in only.
"""

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

from dpaguard.engine.opa import OpaEngine, display_url
from dpaguard.engine.opa_revision import module_id, namespace, namespaced, push_order
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


def engine_for(opa: Any, policy: Any, timeout: float = 2.0) -> OpaEngine:
    return OpaEngine(policy, url=opa.url, timeout=timeout)


def test_decisions_from_the_server(any_opa: Any, toy_policy: Callable[..., Any]) -> None:
    engine = engine_for(any_opa, toy_policy())
    assert engine.decide(FACTS) == EXPECTED
    assert engine.decide(cast(Facts, {"stacks": [], "resources": [{"urn": "urn:a", "region": "fr-par"}], "context": {}})) == []
    engine.close()


def test_requests_follow_opas_rest_api(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    policy = toy_policy()
    engine = engine_for(opa, policy)
    engine.decide(FACTS)
    engine.decide(FACTS)
    ns = namespace(policy.sha256)
    assert opa.requests[:2] == ["GET /health", "GET /v1/data/system/bundles"]
    puts = [r for r in opa.requests if r.startswith("PUT /v1/policies/")]
    assert sorted(puts) == sorted(
        f"PUT /v1/policies/{ns}/{rel}"
        for rel in ("rego/lib.rego", "rego/main.rego", "_dpaguard_data.rego", "_dpaguard_version.rego")
    )
    # the modules (the DPA tables among them) are pushed once, nothing is written as base data;
    # each evaluation is one POST to the revision's package, and the module set is checked after it
    assert not any(r.startswith(("PUT /v1/data", "DELETE")) for r in opa.requests)
    assert [r for r in opa.requests if r.startswith("POST")] == [f"POST /v1/data/{ns}/main"] * 2
    assert opa.requests.count("GET /v1/policies") == 2  # after each query
    main = opa.policies[module_id(policy.sha256, "rego/main.rego")]
    assert main == namespaced(policy.rego_modules["rego/main.rego"], ns, "rego/main.rego")
    assert main.startswith(f"package {ns}.main\n") and f"import data.{ns}.lib\n" in main
    assert f"data.{ns}.dpa.regions" in opa.policies[module_id(policy.sha256, "rego/lib.rego")]


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
    ns = namespace(toy_policy().sha256)
    assert ("POST", f"/v1/data/{ns}/main?strict-builtin-errors=true", "application/json") in seen


def test_another_revisions_modules_are_left_alone(any_opa: Any, toy_policy: Callable[..., Any]) -> None:
    old = toy_policy(modules={"rego/extra.rego": "package dpaguard.extra\n\nx := 1\n"})
    assert engine_for(any_opa, old).decide(FACTS) == EXPECTED
    held = {pid: text for pid, text in any_opa.policies.items() if pid.startswith(namespace(old.sha256) + "/")}
    assert len(held) == 5
    new = toy_policy()
    assert engine_for(any_opa, new).decide(FACTS) == EXPECTED
    # pushing a revision never removes or rewrites another's modules, nor puts anything in package dpaguard
    after = any_opa.policies
    assert all(after.get(pid) == text for pid, text in held.items())
    assert any(pid.startswith(namespace(new.sha256) + "/") for pid in after)
    assert not any(text.lstrip().startswith("package dpaguard.") for text in after.values())
    assert engine_for(any_opa, old).decide(FACTS) == EXPECTED


def test_other_clients_policies_are_left_alone(any_opa: Any, toy_policy: Callable[..., Any]) -> None:
    requests.put(f"{any_opa.url}/v1/policies/team/authz.rego", data=b"package team.authz\n\nallow := true\n", timeout=5)
    try:
        engine_for(any_opa, toy_policy()).decide(FACTS)
        assert any_opa.policies["team/authz.rego"] == "package team.authz\n\nallow := true\n"
    finally:
        requests.delete(f"{any_opa.url}/v1/policies/team/authz.rego", timeout=5)


def test_two_revisions_answer_side_by_side(any_opa: Any, toy_policy: Callable[..., Any]) -> None:
    first = engine_for(any_opa, toy_policy())
    assert first.decide(FACTS) == EXPECTED
    # another repository with other policies (a different region list) uses the same server ...
    second = engine_for(any_opa, toy_policy(data={"regions": ["fr-par", "nl-ams"]}))
    assert [d.urn for d in second.decide(FACTS)] == ["urn:c", "urn:d"]
    # ... and each keeps answering with its own, in any order
    assert first.decide(FACTS) == EXPECTED
    assert [d.urn for d in second.decide(FACTS)] == ["urn:c", "urn:d"]


def test_base_data_does_not_change_the_revision(any_opa: Any, toy_policy: Callable[..., Any]) -> None:
    engine = engine_for(any_opa, toy_policy())
    engine.decide(FACTS)
    # data.dpa as base data (what older dpaguard pushed) is not what a revision reads
    requests.put(f"{any_opa.url}/v1/data/dpa", json={"regions": ["nl-ams"]}, timeout=5)
    assert engine.decide(FACTS) == EXPECTED
    # and OPA refuses base data where the revision's tables are a rule
    tables = requests.put(f"{any_opa.url}/v1/data/{namespace(toy_policy().sha256)}/dpa", json={"regions": ["nl-ams"]}, timeout=5)
    assert tables.status_code == 400
    assert engine.decide(FACTS) == EXPECTED


@pytest.mark.parametrize("where", ["dpaguard", "own namespace", "own module"])
def test_a_foreign_module_is_refused(any_opa: Any, toy_policy: Callable[..., Any], where: str) -> None:
    # issue 24 C6: a module merged into the rules (here: every region French) must never answer
    policy = toy_policy(data={"regions": ["fr-par", "fr-par-1", "fr-mrs"]})
    engine = engine_for(any_opa, policy)
    assert engine.decide(FACTS) == EXPECTED
    ns = namespace(policy.sha256)
    pid, package = {
        "dpaguard": ("ci/helper.rego", "dpaguard.lib"),
        "own namespace": ("ci/helper.rego", f"{ns}.lib"),
        "own module": (module_id(policy.sha256, "rego/lib.rego"), f"{ns}.lib"),
    }[where]
    original = any_opa.policies.get(pid)
    text = f"package {package}\n\nfrench(_) if true\n"
    if original is not None:
        text = original + "\nfrench(_) if true\n"
    assert requests.put(f"{any_opa.url}/v1/policies/{pid}", data=text.encode(), timeout=5).status_code == 200
    try:
        # the engine loaded before the module came: refused by the check after its query
        line = fails(engine, any_opa.url, f'module "{pid}" in package "{package}"', "is not one of the local policies",
                     hint="only dpaguard may write dpaguard's packages")
        assert "OPA would merge it" in line
        fresh = engine_for(any_opa, policy)
        if where == "own module":  # a new run puts its own module right (the same id, its text)
            assert fresh.decide(FACTS) == EXPECTED
        else:  # and refuses anyone else's
            fails(fresh, any_opa.url, f'module "{pid}"', hint="only dpaguard may write")
    finally:
        if original is None:
            requests.delete(f"{any_opa.url}/v1/policies/{pid}", timeout=5)
        else:
            requests.put(f"{any_opa.url}/v1/policies/{pid}", data=original.encode(), timeout=5)
    assert engine_for(any_opa, policy).decide(FACTS) == EXPECTED


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
    assert sum(r.startswith("PUT /v1/policies/") for r in opa.requests) == 4  # pushed once


# -- fail closed ---------------------------------------------------------------------------------


def fails(engine: OpaEngine, url: str, *fragments: str, hint: str = "is the OPA server running?") -> str:
    """The engine raises EngineError with one line naming the URL, the fragments and the hint, no input."""
    with pytest.raises(EngineError) as caught:
        engine.decide(FACTS)
    line = caught.value.one_line()
    assert "\n" not in line
    assert display_url(url) in line
    assert hint in line
    assert CANARY not in line and "nl-ams" not in line
    for fragment in fragments:
        assert fragment in line, line
    return line


def test_connection_refused(refused_url: str, toy_policy: Callable[..., Any]) -> None:
    started = time.monotonic()
    fails(OpaEngine(toy_policy(), url=refused_url, timeout=2), refused_url, "cannot connect")
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("on", ["GET /v1/policies", "PUT /v1/policies", "POST /v1/data"])
def test_hanging_server_times_out(opa: OpaStandIn, toy_policy: Callable[..., Any], on: str) -> None:
    opa.inject("hang", on=on)
    started = time.monotonic()
    fails(engine_for(opa, toy_policy(), timeout=0.4), opa.url, "no answer within 0.4 s")
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("on", ["GET /health", "GET /v1/data/system/bundles", "PUT /v1/policies", "POST /v1/data"])
def test_slow_drip_is_bounded_as_a_whole(opa: OpaStandIn, toy_policy: Callable[..., Any], on: str) -> None:
    if on != "PUT /v1/policies":  # a run pushes only what the server lacks
        engine_for(opa, toy_policy()).decide(FACTS)
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
        ("POST /v1/data", "not JSON"),
    ],
)
def test_garbage_answer(opa: OpaStandIn, toy_policy: Callable[..., Any], on: str, why: str) -> None:
    opa.inject("garbage", on=on)
    fails(engine_for(opa, toy_policy()), opa.url, why)


@pytest.mark.parametrize("on", ["GET /v1/data/system/bundles", "GET /v1/policies", "PUT /v1/policies", "POST /v1/data"])
def test_server_error(opa: OpaStandIn, toy_policy: Callable[..., Any], on: str) -> None:
    opa.inject("error500", on=on)
    fails(engine_for(opa, toy_policy()), opa.url, "internal_error")


def test_unhealthy_server(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    opa.inject("error500", on="GET /health")
    fails(engine_for(opa, toy_policy()), opa.url, "/health")


def test_undefined_document_is_not_an_empty_answer(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    opa.inject("undefined", on="POST /v1/data")
    fails(engine_for(opa, toy_policy()), opa.url, "undefined")


def test_policies_without_decisions_are_not_an_empty_answer(any_opa: Any, toy_policy: Callable[..., Any]) -> None:
    policy = toy_policy(modules={"rego/main.rego": "package dpaguard.main\n\nnothing := true\n"})
    fails(engine_for(any_opa, policy), any_opa.url, "decisions is undefined")


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
def test_malformed_decision_shapes(any_opa: Any, toy_policy: Callable[..., Any], bad: Any) -> None:
    main = f"package dpaguard.main\n\ndecisions contains {json.dumps(bad)}\n"
    fails(engine_for(any_opa, toy_policy(modules={"rego/main.rego": main})), any_opa.url, "malformed decision")


def test_rego_syntax_error_names_file_and_line(any_opa: Any, toy_policy: Callable[..., Any]) -> None:
    broken = "package dpaguard.residency\n\nviolation contains x if {{{\n"
    line = fails(engine_for(any_opa, toy_policy(modules={"rego/residency.rego": broken})), any_opa.url, "rego/residency.rego:")
    # OPA's parser reports the unclosed braces at the end of the file: row 4 (after the last newline)
    assert "rego/residency.rego:4:" in line
    assert "rego_parse_error: unexpected eof token" in line


def test_opa_compile_error_body_is_reported_with_location(any_opa: Any, toy_policy: Callable[..., Any]) -> None:
    # a module that parses but does not compile (an unsafe variable, which regopy lets through):
    # OPA's 400 errors[] names the module id, which the engine shows as the policy file
    unsafe = "package dpaguard.extra\n\nflag if {\n\tx == 1\n}\n"
    line = fails(engine_for(any_opa, toy_policy(modules={"rego/extra.rego": unsafe})), any_opa.url,
                 "policies/rego/extra.rego:4:2: rego_unsafe_var_error: var x is unsafe")
    assert "dpaguard/" not in line.split("push module", 1)[1]  # not the server's module id


def test_injected_compile_error_body_is_reported_with_location(opa: OpaStandIn, toy_policy: Callable[..., Any]) -> None:
    opa.inject("compile-error", on="PUT /v1/policies")
    fails(engine_for(opa, toy_policy()), opa.url, ":3:1: rego_unsafe_var_error: var x is unsafe")


def test_keyword_as_a_variable_is_refused_by_opa(any_opa: Any, toy_policy: Callable[..., Any]) -> None:
    # the fault issue 11 found in subprocessor.rego, which the regopy stand-in could not see
    main = toy_policy().rego_modules["rego/main.rego"].replace("some r in input.resources\n\tnot r.region", "some package in input.resources\n\tnot package.region", 1)
    fails(engine_for(any_opa, toy_policy(modules={"rego/main.rego": main})), any_opa.url,
          "policies/rego/main.rego:6:", "rego_parse_error: unexpected package keyword: expected var")


def test_evaluation_error_does_not_quote_the_input(any_opa: Any, toy_policy: Callable[..., Any]) -> None:
    # a builtin error on a value of the input (strict-builtin-errors): a 500 whose message quotes it
    main = 'package dpaguard.main\n\ndecisions contains {"control": "C", "urn": r.urn, "message": "m"} if {\n\tsome r in input.resources\n\tto_number(r.password) > 0\n}\n'
    fails(engine_for(any_opa, toy_policy(modules={"rego/main.rego": main})), any_opa.url, "HTTP 500")


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
    assert "GET /health" in opa.requests and f"POST /v1/data/{namespace(toy_policy().sha256)}/main" in opa.requests


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
    assert len(puts) == len(set(puts)) == len(policy.rego_modules) + 2  # and the data and version modules
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


def test_real_policies_of_two_revisions_coexist(any_opa: Any, policy: Any) -> None:
    # another revision of the real policies (its digest differs): both on one server, neither removed
    facts = normalise([], policy.data, today=dt.date(2026, 11, 29))
    assert OpaEngine(policy, url=any_opa.url, timeout=60).decide(facts) == []
    newer = dataclasses.replace(policy, sha256="f" * 64)
    assert OpaEngine(newer, url=any_opa.url, timeout=60).decide(facts) == []
    held = any_opa.policies
    for revision in (policy, newer):
        ours = [pid for pid in held if pid.startswith(namespace(revision.sha256) + "/")]
        assert len(ours) == len(policy.rego_modules) + 2
    assert not any(pid.startswith("dpaguard/") for pid in held)
    assert OpaEngine(policy, url=any_opa.url, timeout=60).decide(facts) == []
    if isinstance(any_opa, OpaStandIn):
        assert not any(r.startswith("DELETE") for r in any_opa.requests)


def test_the_server_gets_the_input_every_in_process_engine_gets(opa: OpaStandIn, policy: Any) -> None:
    """One Rego input for every engine (engine/shaping.py): facts the Rego never reads are never sent, and
    resources equal in every fact but their identity are sent once, under their position, as OPA in process sends them."""
    from dpaguard.engine.opa_inprocess import OpaInProcessEngine
    from dpaguard.engine.shaping import _NOT_READ_BY_REGO, chunks, distinct
    from dpaguard.normalise import normalise
    from support.estates import vs_checkov_estate

    facts = normalise([vs_checkov_estate(60)], policy.data, today=dt.date(2026, 1, 5))
    decisions = OpaEngine(policy, url=opa.url, timeout=60).decide(facts)
    (sent,) = opa.inputs
    unique, members = distinct(facts)
    expected = chunks(unique, 10_000)[0]
    expected["resources"] = [{**r, "urn": f"@{i}"} for i, r in enumerate(expected["resources"])]
    assert sent == json.loads(json.dumps(expected))
    assert len(sent["resources"]) == len(members) < len(facts["resources"]) / 2
    # every member of a group gets its group's decisions back, under its own URN
    assert decisions == OpaInProcessEngine(policy).decide(facts)
    assert len({d.urn for d in decisions}) > len(sent["resources"])
    dropped = {key for r in facts["resources"] for key in r} & _NOT_READ_BY_REGO
    assert dropped and not any(dropped & set(r) for r in sent["resources"])
