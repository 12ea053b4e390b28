"""The Rego unit tests beside the policies (`*_test.rego`, rules named `test_*`), run through regopy.

Each `test_<case>` is evaluated with the value of `input_<case>` (same package) as its input: regopy
1.5.2 crashes (segfault) on `with input as` when the policy under test calls a function, so the
runner sets the input itself, as `set_input` does for a real evaluation.
"""

from __future__ import annotations

import re

import pytest
import regopy

from control_estate import POLICIES
from dpaguard.policy import Policy, test_modules

_TEST_RULE = re.compile(r"^(test_\w+)\s+if\b", re.MULTILINE)
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for path, text in test_modules(POLICIES).items():
        package = _PACKAGE.search(text)
        assert package, f"{path}: no package"
        for rule in _TEST_RULE.findall(text):
            cases.append((path, package.group(1), rule))
    return cases


CASES = _cases()


def test_every_package_has_rego_unit_tests() -> None:
    tested = {package.removesuffix("_test") for _, package, _ in CASES}
    assert {"dpaguard.residency", "dpaguard.access", "dpaguard.transit_encryption", "dpaguard.retention"} <= tested


@pytest.fixture(scope="module")
def interpreter(policy: Policy) -> regopy.Interpreter:
    built = regopy.Interpreter()
    built.log_level = regopy.LogLevel.NONE
    built.add_data({"dpa": policy.data})
    for name, text in {**policy.rego_modules, **test_modules(POLICIES)}.items():
        built.add_module(name, text)
    return built


def test_a_false_rego_test_fails(interpreter: regopy.Interpreter) -> None:
    interpreter.set_input({"stacks": [], "resources": [], "index": {}, "context": {}})
    output = interpreter.query("x = data.dpaguard.residency_test.test_region_outside_france_is_a_violation")
    assert not (output.results and output.results[0].bindings.get("x") is True)


@pytest.mark.parametrize(("path", "package", "rule"), CASES, ids=[f"{p}::{r}" for p, _, r in CASES])
def test_rego(path: str, package: str, rule: str, interpreter: regopy.Interpreter) -> None:
    case = rule.removeprefix("test_")
    given = interpreter.query(f"x = data.{package}.input_{case}")
    assert given.results and "x" in given.results[0].bindings, f"{path}: no input_{case}"
    interpreter.set_input(given.results[0].bindings["x"])
    output = interpreter.query(f"x = data.{package}.{rule}")
    assert output.results and output.results[0].bindings.get("x") is True, f"{path}: {rule} is not true: {output}"
