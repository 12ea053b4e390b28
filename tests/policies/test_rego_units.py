"""The Rego unit tests beside the policies (`*_test.rego`), run under the real OPA as `opa test` runs them.

Every policy module, every test module and the DPA tables (`{"dpa": policy.data}`, the document
`dpaguard data` writes for `opa test`) are loaded into one OPA engine (OPA v1.20 through
opa-golib-python-bindings). Each `test_*` rule of each `*_test` package is one pytest case; as in
`opa test`, it passes only when it is true: undefined, false or an evaluation error fail it. The
tests set their input themselves (`with input as`), so the files run unchanged under `opa test`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import pytest
from opa_bindings import OpaEngine, OpaError

from support import POLICIES
from dpaguard.engine.index import build_index
from dpaguard.policy import Policy, test_modules
from support.rego_statements import PACKAGE, TEST_RULE, policy_statements

_IMPORT = re.compile(r"^import\s+data\.([\w.]+)", re.MULTILINE)


class RegoTest(NamedTuple):
    """One `test_` rule: the file that holds it, its package and its name."""

    path: str
    package: str
    rule: str

    @property
    def id(self) -> str:
        """`file::rule`, as pytest names the case."""
        return f"{self.path}::{self.rule}"


def package_of(path: str, text: str) -> str:
    """The package a Rego module declares."""
    found = PACKAGE.search(text)
    assert found, f"{path}: no package"
    return found.group(1)


def discover(modules: Mapping[str, str]) -> list[RegoTest]:
    """Every `test_` rule of the `*_test` packages, read from the modules' text."""
    tests = []
    for path, text in modules.items():
        package = package_of(path, text)
        assert package.endswith("_test"), f"{path}: a test module's package ends in _test (got {package})"
        names = TEST_RULE.findall(text)
        assert len(names) == len(set(names)), f"{path}: a test name is used twice (OPA would merge them into one rule)"
        tests += [RegoTest(path, package, name) for name in names]
    return tests


def load_engine(policy: Policy, extra: Mapping[str, str]) -> OpaEngine:
    """An OPA engine holding the policy's modules, `extra` modules and `data.dpa`, as `opa test policies/rego data.json` loads them."""
    built = OpaEngine()
    built.add_data({"dpa": policy.data})
    for path, text in {**policy.rego_modules, **extra}.items():
        built.add_policy(path, text)
    return built


def failure(engine: OpaEngine, test: RegoTest) -> str | None:
    """Why a Rego test fails (None when it passes): as in `opa test`, only a true result passes."""
    try:
        results = engine.eval_query(f"x = data.{test.package}.{test.rule}")
    except OpaError as error:
        return f"{test.id}: error: {error.message}"
    if not results:
        return f"{test.id}: undefined (a condition of the test does not hold)"
    return _verdict(test, results[0].get("x"))


def _verdict(test: RegoTest, value: Any) -> str | None:
    if value is not True:
        return f"{test.id}: {value!r}, not true"
    return None


class TestRun:
    """The Rego tests of one engine, evaluated a package at a time.

    OPA prepares (compiles) each distinct query once, about half a second over these modules, so a
    package's document is evaluated in one query and its tests read from it. When that query
    fails (a test raised an error), each test of the package is evaluated alone, so the error is
    charged to the test that raised it.
    """

    __test__ = False

    def __init__(self, engine: OpaEngine) -> None:
        self.engine = engine
        self._documents: dict[str, dict[str, Any] | None] = {}

    def document(self, package: str) -> dict[str, Any] | None:
        """The values OPA gives the package's rules (None when the package cannot be evaluated whole)."""
        if package not in self._documents:
            try:
                results = self.engine.eval_query(f"x = data.{package}")
            except OpaError:
                self._documents[package] = None
            else:
                found = results[0].get("x") if results else None
                self._documents[package] = found if isinstance(found, dict) else {}
        return self._documents[package]

    def failure(self, test: RegoTest) -> str | None:
        """Why a Rego test fails (None when it passes)."""
        document = self.document(test.package)
        if document is None:
            return failure(self.engine, test)
        if test.rule not in document:
            return f"{test.id}: undefined (a condition of the test does not hold)"
        return _verdict(test, document[test.rule])


TEST_MODULES = test_modules(POLICIES)
CASES = discover(TEST_MODULES)


@pytest.fixture(scope="module")
def opa(policy: Policy) -> Iterator[TestRun]:
    """One OPA over the policies, their tests and the DPA tables."""
    built = load_engine(policy, TEST_MODULES)
    yield TestRun(built)
    built.close()


@pytest.mark.parametrize("test", CASES, ids=[case.id for case in CASES])
def test_rego(test: RegoTest, opa: TestRun) -> None:
    problem = opa.failure(test)
    assert problem is None, problem


def test_discovery_finds_every_test_opa_sees(opa: TestRun) -> None:
    """Every test rule OPA finds in a test package was read from its file: no test escapes the runner (those that fail are test_rego's)."""
    for package in sorted({case.package for case in CASES}):
        document = opa.document(package)
        assert document is not None, f"data.{package} cannot be evaluated"
        seen = {name for name in document if name.startswith("test_")}
        read = {case.rule for case in CASES if case.package == package}
        assert seen, f"{package}: OPA finds no true test"
        assert seen <= read, f"{package}: OPA has {sorted(seen - read)}, not read from the file"


_PROBE = """package dpaguard.runner_probe_test

import rego.v1

import data.dpaguard.access

test_false_is_reported if {
	count(access.decisions) == 1 with input as {"stacks": [], "resources": [], "index": {"type": {}}, "context": {}}
}

test_undefined_is_reported if {
	access.no_such_rule == 1
}

test_an_error_is_reported if {
	to_number("twelve") == 12
}

test_true_passes if {
	count(access.decisions) == 0 with input as {"stacks": [], "resources": [], "index": {"type": {}}, "context": {}}
}
"""


def test_the_runner_reports_a_false_rego_test_as_a_failure(policy: Policy) -> None:
    engine = load_engine(policy, {"rego/runner_probe_test.rego": _PROBE})
    try:
        probes = {case.rule: case for case in discover({"rego/runner_probe_test.rego": _PROBE})}
        assert set(probes) == {"test_false_is_reported", "test_undefined_is_reported", "test_an_error_is_reported", "test_true_passes"}
        run = TestRun(engine)
        assert run.document("dpaguard.runner_probe_test") is None  # the error fails the package query: tests run one by one
        assert run.failure(probes["test_true_passes"]) is None
        for name in ("test_false_is_reported", "test_undefined_is_reported"):
            problem = run.failure(probes[name])
            assert problem is not None and "undefined" in problem, (name, problem)
        error = run.failure(probes["test_an_error_is_reported"])
        assert error is not None and "error:" in error and "to_number" in error, error
    finally:
        engine.close()


def test_every_package_has_rego_unit_tests(policy: Policy) -> None:
    """Every package `main.rego` imports, the libraries and `main` itself have a `<package>_test` with tests."""
    main = policy.rego_modules["rego/main.rego"]
    imported = set(_IMPORT.findall(main))
    assert len(imported) >= 9, f"main.rego imports {sorted(imported)}"
    libraries = {package_of(path, text) for path, text in policy.rego_modules.items() if "/lib/" in path}
    expected = imported | libraries | {package_of("rego/main.rego", main)}
    tested = {case.package.removesuffix("_test") for case in CASES}
    assert expected <= tested, f"no Rego tests for {sorted(expected - tested)}"


def test_every_test_module_mirrors_a_policy_module(policy: Policy) -> None:
    """`x_test.rego` sits beside `x.rego` and tests its package (`<package>_test`)."""
    for path, text in TEST_MODULES.items():
        beside = path.removesuffix("_test.rego") + ".rego"
        assert beside in policy.rego_modules, f"{path}: no {beside} beside it"
        assert package_of(path, text) == package_of(beside, policy.rego_modules[beside]) + "_test", path


def test_test_names_say_what_they_prove() -> None:
    for case in CASES:
        words = case.rule.removeprefix("test_").split("_")
        assert len(words) >= 3, f"{case.id}: name the case the test proves"


def test_a_false_rego_test_fails_when_its_package_is_read_whole(policy: Policy) -> None:
    probe = _PROBE.replace('to_number("twelve") == 12', 'to_number("12") == 12')
    engine = load_engine(policy, {"rego/runner_probe_test.rego": probe})
    try:
        run = TestRun(engine)
        assert run.document("dpaguard.runner_probe_test") is not None
        probes = {case.rule: case for case in discover({"rego/runner_probe_test.rego": probe})}
        assert run.failure(probes["test_true_passes"]) is None
        assert run.failure(probes["test_an_error_is_reported"]) is None
        problem = run.failure(probes["test_false_is_reported"])
        assert problem is not None and "undefined" in problem, problem
    finally:
        engine.close()


def test_every_control_a_package_emits_is_named_by_its_tests(policy: Policy) -> None:
    """A package's tests name each control id its rules emit (in an expected decision), so no control goes untested."""
    missing = []
    for statement in policy_statements(policy.rego_modules):
        tests = TEST_MODULES.get(statement.path.removesuffix(".rego") + "_test.rego", "")
        missing += [f"{statement.path}: {control}" for control in sorted(statement.emitted) if f'"{control}"' not in tests]
    assert not missing, "controls no test names:\n" + "\n".join(sorted(set(missing)))


MIN_COVERAGE = 90.0


def test_every_policy_module_is_covered_by_the_rego_tests(policy: Policy) -> None:
    """OPA's coverage of each policy module by all the Rego tests (as `opa test --coverage` reports it) is at least MIN_COVERAGE %."""
    engine = load_engine(policy, TEST_MODULES)
    try:
        packages = sorted({case.package for case in CASES})
        engine.eval_query("x = [" + ", ".join(f"data.{package}" for package in packages) + "]", coverage=True)
        report: dict[str, Any] = engine.last_coverage or {}
    finally:
        engine.close()
    files: dict[str, Any] = report.get("files", {})
    low = []
    for path in sorted(policy.rego_modules):
        measured = files.get(path)
        assert measured is not None, f"{path}: OPA reports no coverage (no test reaches it)"
        if measured.get("coverage", 0) < MIN_COVERAGE:
            rows = sorted({span["start"]["row"] for span in measured.get("not_covered", [])})
            low.append(f"{path}: {measured.get('coverage', 0):.1f} % (lines not covered: {rows})")
    assert not low, f"policy modules below {MIN_COVERAGE} % coverage by their tests:\n" + "\n".join(low)


def test_the_index_the_tests_build_has_every_key_of_the_normaliser_index(opa: TestRun) -> None:
    """Each test package's `_index(groups)` starts from the index `build_index` makes of no resources: the same keys, the same empty values."""
    packages = sorted(package_of(path, text) for path, text in TEST_MODULES.items() if "\n_index(groups) :=" in text)
    assert len(packages) >= 9
    results = opa.engine.eval_query("x = [" + ", ".join(f"data.{package}._index({{}})" for package in packages) + "]")
    assert results, "an _index({}) is undefined"
    for package, index in zip(packages, results[0]["x"]):
        assert index == build_index([]), f"{package}: _index({{}}) is not the normaliser's empty index"
