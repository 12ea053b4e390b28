"""The stand-in answers the requests dpaguard makes the way OPA's REST API does (v1/server/server.go):
status codes, bodies, undefined documents, errors with locations; and what it answers is real OPA's
(opa_bindings): its parser, compiler and evaluator."""

from __future__ import annotations

import time

import requests
from support.opa_standin import OpaStandIn

MODULE = "package example\n\nallow if input.flag == true\n"


def test_policy_api(opa: OpaStandIn) -> None:
    put = requests.put(f"{opa.url}/v1/policies/team/example.rego", data=MODULE.encode(),
                       headers={"Content-Type": "text/plain"}, timeout=5)
    assert (put.status_code, put.json()) == (200, {})
    listing = requests.get(f"{opa.url}/v1/policies", timeout=5).json()
    assert [(p["id"], p["raw"]) for p in listing["result"]] == [("team/example.rego", MODULE)]
    one = requests.get(f"{opa.url}/v1/policies/team/example.rego", timeout=5)
    assert one.json()["result"]["raw"] == MODULE
    redirected = requests.get(f"{opa.url}/v1/policies/", timeout=5)
    assert redirected.history[0].status_code == 301 and redirected.json() == listing
    assert requests.delete(f"{opa.url}/v1/policies/team/example.rego", timeout=5).status_code == 200
    missing = requests.get(f"{opa.url}/v1/policies/team/example.rego", timeout=5)
    assert missing.status_code == 404 and missing.json()["code"] == "resource_not_found"


def test_compile_error_has_opas_shape(opa: OpaStandIn) -> None:
    bad = requests.put(f"{opa.url}/v1/policies/bad.rego", data=b"package bad\n\nallow if {{{\n", timeout=5)
    assert bad.status_code == 400
    body = bad.json()
    assert body["code"] == "invalid_parameter"
    assert body["message"] == "error(s) occurred while compiling module(s)"
    assert body["errors"] and {e["location"]["file"] for e in body["errors"]} == {"bad.rego"}
    assert [(e["code"], e["message"], e["location"]["row"]) for e in body["errors"]] == [
        ("rego_parse_error", "unexpected eof token", 4)
    ]
    assert "bad.rego" not in opa.policies


def test_data_api(opa: OpaStandIn) -> None:
    requests.put(f"{opa.url}/v1/policies/example.rego", data=MODULE.encode(), timeout=5)
    put = requests.put(f"{opa.url}/v1/data/a/b", json={"c": 1}, timeout=5)
    assert (put.status_code, put.content) == (204, b"")
    assert requests.get(f"{opa.url}/v1/data/a/b/c", timeout=5).json() == {"result": 1}
    allowed = requests.post(f"{opa.url}/v1/data/example/allow", json={"input": {"flag": True}}, timeout=5)
    assert allowed.json() == {"result": True}
    # an undefined document is 200 without `result`
    undefined = requests.post(f"{opa.url}/v1/data/example/allow", json={"input": {"flag": False}}, timeout=5)
    assert (undefined.status_code, undefined.json()) == (200, {})
    malformed = requests.post(f"{opa.url}/v1/data/example/allow", data=b"{not json", timeout=5)
    assert malformed.status_code == 400 and malformed.json()["code"] == "invalid_parameter"


def test_builtin_errors_are_strict_and_opas(opa: OpaStandIn) -> None:
    module = 'package num\n\nvalue := to_number(input.text)\n'
    requests.put(f"{opa.url}/v1/policies/num.rego", data=module.encode(), timeout=5)
    strict = requests.post(f"{opa.url}/v1/data/num/value?strict-builtin-errors=true", json={"input": {"text": "abc"}}, timeout=5)
    assert strict.status_code == 500 and strict.json()["code"] == "internal_error"
    # OPA's own message: the module, the row and the builtin's error
    assert "num.rego:3: eval_builtin_error: to_number" in strict.json()["message"]
    number = requests.post(f"{opa.url}/v1/data/num/value?strict-builtin-errors=true", json={"input": {"text": "12"}}, timeout=5)
    assert number.json() == {"result": 12}


def test_opa_semantics_not_regopys(opa: OpaStandIn) -> None:
    # `not f(x)` with x undefined is undefined in OPA (regopy says true); "3" < 7 is false in OPA
    module = (
        "package sem\n\nf(x) if x == true\n\nmissing if not f(input.absent)\n\n"
        "cross := \"3\" < 7\n"
    )
    assert requests.put(f"{opa.url}/v1/policies/sem.rego", data=module.encode(), timeout=5).status_code == 200
    answer = requests.post(f"{opa.url}/v1/data/sem", json={"input": {}}, timeout=5).json()
    assert answer == {"result": {"cross": False}}


def test_keyword_as_a_variable_is_opas_parse_error(opa: OpaStandIn) -> None:
    module = "package p\n\nr if {\n\tsome package, x in input\n}\n"
    bad = requests.put(f"{opa.url}/v1/policies/p.rego", data=module.encode(), timeout=5)
    assert bad.status_code == 400
    [error] = bad.json()["errors"]
    assert error["code"] == "rego_parse_error"
    assert error["message"] == "unexpected package keyword: expected var"
    assert (error["location"]["file"], error["location"]["row"]) == ("p.rego", 4)


def test_a_refused_change_keeps_the_old_state(opa: OpaStandIn) -> None:
    lib = "package lib\n\nf(x) := x + 1\n"
    user = "package user\n\nimport data.lib\n\nv := lib.f(1)\n"
    requests.put(f"{opa.url}/v1/policies/lib.rego", data=lib.encode(), timeout=5)
    assert requests.put(f"{opa.url}/v1/policies/user.rego", data=user.encode(), timeout=5).status_code == 200
    # a module using an undefined name: OPA's compiler refuses it, nothing changes
    unsafe = requests.put(f"{opa.url}/v1/policies/user.rego", data=b"package user\n\nv := y\n", timeout=5)
    assert unsafe.status_code == 400
    assert [e["code"] for e in unsafe.json()["errors"]] == ["rego_unsafe_var_error"]
    assert unsafe.json()["errors"][0]["location"] == {"file": "user.rego", "row": 3, "col": 1}
    assert opa.policies["user.rego"] == user
    # removing a module another one needs is refused as OPA refuses it (400 invalid_operation)
    refused = requests.delete(f"{opa.url}/v1/policies/lib.rego", timeout=5)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_operation"
    assert "undefined function data.lib.f" in refused.json()["errors"][0]["message"]
    assert requests.post(f"{opa.url}/v1/data/user/v", json={}, timeout=5).json() == {"result": 2}
    # the same text again is accepted at once, as OPA compares the raw text first
    assert requests.put(f"{opa.url}/v1/policies/user.rego", data=user.encode(), timeout=5).json() == {}


def test_provenance(opa: OpaStandIn) -> None:
    requests.put(f"{opa.url}/v1/policies/example.rego", data=MODULE.encode(), timeout=5)
    answer = requests.post(f"{opa.url}/v1/data/example/allow?provenance=true", json={"input": {"flag": True}}, timeout=5).json()
    assert answer["result"] is True and answer["provenance"]["version"]
    assert "bundles" not in answer["provenance"]  # no bundle loaded


def test_slow_drip_sends_a_byte_at_a_time(opa: OpaStandIn) -> None:
    opa.drip_seconds = 0.05
    opa.inject("drip", on="GET /health")
    started = time.monotonic()
    health = requests.get(f"{opa.url}/health", timeout=1)  # every read is quick: requests' timeout never trips
    assert (health.status_code, health.json()) == (200, {})
    assert time.monotonic() - started > 0.05 * 60  # status line, headers and body, byte by byte


def test_health(opa: OpaStandIn) -> None:
    health = requests.get(f"{opa.url}/health", timeout=5)
    assert (health.status_code, health.json()) == (200, {})
