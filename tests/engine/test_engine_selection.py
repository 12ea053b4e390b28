"""Which engine evaluates: OPA by default, regopy when asked or where OPA cannot load (said in every report)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support import CLI_FIXTURES, REPO
from dpaguard.engine import create_engine
from dpaguard.engine.embedded import EmbeddedEngine
from dpaguard.engine.opa_inprocess import OpaInProcessEngine
from dpaguard.errors import EngineError
from dpaguard.policy import Policy

STATE = CLI_FIXTURES / "prod-drifted.json"


def test_the_default_engine_is_opa(policy: Policy) -> None:
    engine = create_engine(policy)
    try:
        assert isinstance(engine, OpaInProcessEngine) and engine.name == "opa" and engine.notices == ()
    finally:
        engine.close()


def test_the_default_falls_back_to_regopy_with_a_notice(policy: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    import dpaguard.engine.opa_inprocess as opa_inprocess

    def cannot_load() -> Any:
        raise EngineError("OPA engine: opa-golib-python-bindings is not installed (No module named 'opa_bindings')")

    monkeypatch.setattr(opa_inprocess, "load_bindings", cannot_load)
    engine = create_engine(policy)
    try:
        assert isinstance(engine, EmbeddedEngine) and engine.name == "regopy"
        assert len(engine.notices) == 1 and "not OPA" in engine.notices[0] and "--ignore-requires-python" in engine.notices[0]
    finally:
        engine.close()


def test_an_engine_named_explicitly_must_load(policy: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    import dpaguard.engine.opa_inprocess as opa_inprocess

    def cannot_load() -> Any:
        raise EngineError("OPA engine: the opa-golib-python-bindings library does not load here")

    monkeypatch.setattr(opa_inprocess, "load_bindings", cannot_load)
    with pytest.raises(EngineError, match="does not load here"):
        create_engine(policy, engine="opa")


def _audit(tmp_path: Path, prelude: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    report = tmp_path / "report.json"
    code = (
        f"{prelude}\nimport sys\nfrom dpaguard.cli import main\n"
        f"sys.exit(main(['audit', '--state', {str(STATE)!r}, '--today', '2026-11-29', '-q', '--format', 'json', "
        f"'--output', {str(report)!r}, '--format', 'markdown', '--output', {str(tmp_path / 'report.md')!r}"
        f"{''.join(f', {e!r}' for e in extra)}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    return done, json.loads(report.read_text()) if report.exists() else {}


def test_a_machine_without_the_wheel_evaluates_with_regopy_and_every_report_says_so(tmp_path: Path) -> None:
    # `sys.modules[name] = None` is how Python itself marks a module that cannot be imported.
    done, document = _audit(tmp_path, "import sys; sys.modules['opa_bindings'] = None")
    assert done.returncode == 1, done.stderr
    assert document["policy"]["engine"] == "regopy"
    assert any("evaluated with regopy (rego-cpp), not OPA" in n for n in document["notices"])
    assert "evaluated with regopy (rego-cpp), not OPA" in (tmp_path / "report.md").read_text()


def test_both_engines_give_the_same_report_on_the_drifted_fixture(tmp_path: Path) -> None:
    reports = {}
    for name in ("opa", "regopy"):
        (tmp_path / name).mkdir()
        done, reports[name] = _audit(tmp_path / name, "", "--engine", name)
        assert done.returncode == 1, done.stderr
        assert reports[name]["policy"]["engine"] == name
    assert reports["opa"]["findings"] and reports["opa"]["findings"] == reports["regopy"]["findings"]


def test_engine_and_opa_url_exclude_each_other() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dpaguard", "audit", "--state", str(STATE), "--engine", "opa", "--opa-url", "http://127.0.0.1:1"],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "exclude each other" in done.stderr
