"""The policy compiled once, when it is loaded, by the engine that evaluates it by default (dpaguard/engine/compile.py)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from dpaguard.engine.embedded import CompiledRego, EmbeddedEngine
from dpaguard.errors import EngineError, PolicyError
from dpaguard.normalise import normalise
from dpaguard.policy import load_policy
from support import POLICIES
from support.estates import finding_heavy_estate

TODAY = dt.date(2026, 11, 29)


@pytest.fixture
def without_opa(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """A machine where the OPA wheel does not load; the interpreters regopy builds, counted."""
    import dpaguard.engine.embedded as embedded
    import dpaguard.engine.opa_inprocess as opa_inprocess

    def cannot_load() -> Any:
        raise EngineError("OPA engine: opa-golib-python-bindings is not installed (No module named 'opa_bindings')")

    built: list[Any] = []
    build = embedded.build_interpreter

    def counting(*args: Any) -> Any:
        built.append(args)
        return build(*args)

    monkeypatch.setattr(opa_inprocess, "load_bindings", cannot_load)
    monkeypatch.setattr(embedded, "build_interpreter", counting)
    return built


def test_where_opa_cannot_load_regopy_compiles_at_load_and_its_engine_takes_that_interpreter(without_opa: list[Any]) -> None:
    loaded = load_policy(POLICIES)
    assert isinstance(loaded.compiled, CompiledRego) and len(without_opa) == 1
    facts = normalise([finding_heavy_estate(40)], loaded.data, today=TODAY)
    engine = EmbeddedEngine(loaded, processes=1)
    try:
        decisions = engine.decide(facts)
        assert len(without_opa) == 1  # the engine compiled nothing more
        second = EmbeddedEngine(loaded, processes=1)  # the load's interpreter is taken: a second engine builds its own
        try:
            assert len(without_opa) == 2
            assert second.decide(facts) == decisions and decisions
        finally:
            second.close()
    finally:
        engine.close()


def test_where_opa_cannot_load_a_module_that_does_not_compile_is_a_policy_error(without_opa: list[Any], tmp_path: Path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    target = root / "rego" / "residency.rego"
    target.write_text(target.read_text() + "\nbroken contains x if {\n")
    with pytest.raises(PolicyError, match=r"/rego/residency\.rego:\d+:\d+: "):
        load_policy(root)
