"""The stand-in answers the requests dpaguard makes the way OPA's REST API reference says OPA does
(docs/rest-api.md): status codes, bodies, undefined documents, errors with locations."""

from __future__ import annotations

import requests
from opa_standin import OpaStandIn

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
    assert all(e["code"] == "rego_parse_error" and e["location"]["row"] >= 1 for e in body["errors"])
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


def test_strict_builtin_errors(opa: OpaStandIn) -> None:
    module = 'package num\n\nvalue := to_number(input.text)\n'
    requests.put(f"{opa.url}/v1/policies/num.rego", data=module.encode(), timeout=5)
    lenient = requests.post(f"{opa.url}/v1/data/num/value", json={"input": {"text": "abc"}}, timeout=5)
    assert (lenient.status_code, lenient.json()) == (200, {})
    strict = requests.post(f"{opa.url}/v1/data/num/value?strict-builtin-errors=true", json={"input": {"text": "abc"}}, timeout=5)
    assert strict.status_code == 500 and strict.json()["code"] == "internal_error"


def test_health(opa: OpaStandIn) -> None:
    health = requests.get(f"{opa.url}/health", timeout=5)
    assert (health.status_code, health.json()) == (200, {})
