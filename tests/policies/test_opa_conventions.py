"""OPA's own conventions, run with the real `opa` and `regal` binaries, from `.tools/bin/` (where `.ci/real-tools` puts them).

What an OPA user runs on Rego in CI, as commands: `opa fmt --list` (the Rego is laid out as OPA
lays it out), `opa check --strict` (OPA's hygiene), `opa test --coverage` over the policies, their
`_test.rego` files and the DPA tables written by `dpaguard data` (the Rego reads them at `data.dpa`),
and `regal lint` (the idioms, with the rules the project sets aside named in `.regal/config.yaml`).
Every path handed to a tool is absolute and it runs in a scratch directory, so nothing depends on
the directory pytest was started from. The in-process runs of the same tests are
`test_rego_units.py`; this module holds the policies to the binary itself.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from dpaguard.cli import main
from dpaguard.policy import test_modules
from support import POLICIES, REPO
from support.real_tools import real_tool
from support.rego_statements import PACKAGE, TEST_RULE

REGO = POLICIES / "rego"
# The floor `opa test --coverage` must report, over all the Rego and for each policy module.
MIN_COVERAGE = 90.0


class Run(NamedTuple):
    """What one run of a tool did."""

    returncode: int
    stdout: str
    stderr: str


def tool(name: str, *args: str | Path, cwd: Path) -> Run:
    """Run the real tool `name` with `args` in `cwd` (a scratch directory: paths in `args` are absolute)."""
    done = subprocess.run([str(real_tool(name)), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    return Run(done.returncode, done.stdout, done.stderr)


def opa(*args: str | Path, cwd: Path) -> Run:
    """Run the real `opa`."""
    return tool("opa", *args, cwd=cwd)


def write_dpa_data(target: Path) -> Path:
    """The DPA tables as OPA data (`{"dpa": ...}`), written by `dpaguard data` itself."""
    assert main(["data", "--policies", str(POLICIES), "--output", str(target)]) == 0
    return target


def rego_test_results(rego: Path, data: Path, cwd: Path) -> list[dict[str, Any]]:
    """`opa test --format json`: one entry per test OPA ran (`fail`, `error` or `skip` on those that did not pass)."""
    run = opa("test", "--format", "json", rego, data, cwd=cwd)
    assert run.stdout.lstrip().startswith("["), f"opa test printed no JSON (exit {run.returncode}): {run.stdout[:2000]}{run.stderr[:2000]}"
    results: list[dict[str, Any]] = json.loads(run.stdout)
    failed = [r for r in results if r.get("fail") or r.get("error") or r.get("skip")]
    assert (run.returncode == 0) == (not failed), f"opa test exited {run.returncode} with {len(failed)} failures"
    return results





def not_passed(results: list[dict[str, Any]]) -> list[str]:
    """`package.rule (file:row): why` for each test OPA did not pass."""
    return [
        f"{r['package']}.{r['name']} ({r['location']['file']}:{r['location']['row']}): "
        + ("skipped" if r.get("skip") else json.dumps(r["error"]) if r.get("error") else "failed")
        for r in results if r.get("fail") or r.get("error") or r.get("skip")
    ]


def coverage(rego: Path, data: Path, cwd: Path) -> dict[str, Any]:
    """`opa test --coverage --format json`: the coverage report, `{"coverage": %, "files": {path: {"coverage": %, ...}}}`."""
    run = opa("test", "--coverage", "--format", "json", rego, data, cwd=cwd)
    assert run.returncode == 0, f"opa test --coverage exited {run.returncode}:\n{run.stdout[:4000]}{run.stderr[:2000]}"
    report: dict[str, Any] = json.loads(run.stdout)
    return report


def below_floor(report: dict[str, Any], rego: Path) -> list[str]:
    """Each policy module (not a `_test.rego`) under `rego` that OPA covers below MIN_COVERAGE % or not at all."""
    files: dict[str, Any] = report.get("files", {})
    low = []
    for path in sorted(p for p in rego.rglob("*.rego") if not p.name.endswith("_test.rego")):
        measured = files.get(str(path))
        if measured is None:
            low.append(f"{path.relative_to(rego)}: not covered at all")
        elif measured.get("coverage", 0) < MIN_COVERAGE:  # OPA leaves `coverage` out at 0 %
            rows = sorted({span["start"]["row"] for span in measured.get("not_covered", [])})
            low.append(f"{path.relative_to(rego)}: {measured.get('coverage', 0):.1f} % (rows not covered: {rows})")
    return low


def declared_tests(rego: Path) -> set[tuple[str, str]]:
    """(`data.<package>`, rule) of every `test_` rule written in the `_test.rego` files under `rego`."""
    declared = set()
    for text in test_modules(rego.parent).values():
        package = PACKAGE.search(text)
        assert package, "a test module without a package"
        declared |= {(f"data.{package.group(1)}", name) for name in TEST_RULE.findall(text)}
    return declared


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of the tests' own, the cwd of every `opa` run (so none depends on pytest's)."""
    return tmp_path_factory.mktemp("opa")


@pytest.fixture(scope="module")
def dpa_data(scratch: Path) -> Path:
    """`dpaguard data --output <scratch>/dpa-data.json`."""
    return write_dpa_data(scratch / "dpa-data.json")


def test_the_binary_is_the_real_opa_v1(scratch: Path) -> None:
    run = opa("version", cwd=scratch)
    assert run.returncode == 0, run.stderr
    assert re.search(r"^Version: 1\.\d+\.\d+$", run.stdout, re.MULTILINE), run.stdout
    assert re.search(r"^Rego Version: v1$", run.stdout, re.MULTILINE), run.stdout


def test_opa_fmt_lists_no_module_it_would_reformat(scratch: Path) -> None:
    run = opa("fmt", "--list", REGO, cwd=scratch)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "", f"opa fmt would reformat (run `.tools/bin/opa fmt -w policies/rego`):\n{run.stdout}"


def test_opa_check_strict_passes(scratch: Path) -> None:
    run = opa("check", "--strict", REGO, cwd=scratch)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")


def test_opa_test_passes_every_rego_test_with_the_dpa_data(scratch: Path, dpa_data: Path) -> None:
    results = rego_test_results(REGO, dpa_data, scratch)
    assert not not_passed(results), "opa test: tests that did not pass:\n" + "\n".join(not_passed(results))
    ran = {(r["package"], r["name"]) for r in results}
    assert ran == declared_tests(REGO), f"OPA ran {sorted(ran ^ declared_tests(REGO))} differently from the files"


def test_opa_test_coverage_is_at_least_the_floor(scratch: Path, dpa_data: Path) -> None:
    report = coverage(REGO, dpa_data, scratch)
    assert report["coverage"] >= MIN_COVERAGE, f"opa test --coverage: {report['coverage']:.1f} % of the Rego"
    low = below_floor(report, REGO)
    assert not low, f"policy modules below {MIN_COVERAGE} % by opa test --coverage:\n" + "\n".join(low)


# The checks above on a scratch copy of the Rego, broken on purpose: each must see what it guards.

def _copy_of_the_rego(root: Path) -> Path:
    """A scratch `policies/rego` holding the shipped modules (absolute path)."""
    copy = root / "policies" / "rego"
    for source in REGO.rglob("*.rego"):
        target = copy / source.relative_to(REGO)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return copy


_UNTESTED_MODULE = """package dpaguard.untested

import rego.v1

decisions contains "DPA-NONE-001" if {
	input.never == 1
	input.nor_this == 2
}
"""


def test_opa_fmt_and_check_see_a_misformatted_module_and_an_unused_import(tmp_path: Path) -> None:
    rego = _copy_of_the_rego(tmp_path)
    (rego / "sloppy.rego").write_text("package dpaguard.sloppy\nimport rego.v1\nimport data.dpaguard.lib.facts\nx := 1\n")
    listed = opa("fmt", "--list", rego, cwd=tmp_path)
    assert listed.stdout.split() == [str(rego / "sloppy.rego")]
    checked = opa("check", "--strict", rego, cwd=tmp_path)
    assert checked.returncode != 0 and "sloppy.rego" in checked.stderr + checked.stdout


def test_a_false_rego_test_a_skipped_one_and_low_coverage_are_seen(tmp_path: Path, dpa_data: Path) -> None:
    rego = _copy_of_the_rego(tmp_path)
    (rego / "untested.rego").write_text(_UNTESTED_MODULE)
    (rego / "untested_test.rego").write_text(
        "package dpaguard.untested_test\n\nimport data.dpaguard.untested\n\n"
        'test_a_false_case_fails if {\n\t"DPA-NONE-001" in untested.decisions with input as {"never": 1}\n}\n\n'
        "todo_test_a_skipped_case if {\n\ttrue\n}\n"
    )
    problems = not_passed(rego_test_results(rego, dpa_data, tmp_path))
    assert len(problems) == 2
    assert any("test_a_false_case_fails" in p and "failed" in p for p in problems), problems
    assert any("todo_test_a_skipped_case" in p and "skipped" in p for p in problems), problems
    (rego / "untested_test.rego").unlink()
    assert below_floor(coverage(rego, dpa_data, tmp_path), rego) == ["untested.rego: 0.0 % (rows not covered: [5, 6, 7])"]


def test_without_the_dpa_data_the_rego_tests_fail(tmp_path: Path) -> None:
    """The tables are what the Rego reads at `data.dpa`: an empty data document leaves tests undefined (so the data file is no formality)."""
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    assert not_passed(rego_test_results(REGO, empty, tmp_path))


REGAL_CONFIG = REPO / ".regal" / "config.yaml"


def regal_violations(rego: Path, cwd: Path) -> list[tuple[str, str]]:
    """(rule, file under `rego`) of each violation `regal lint --format json` reports (it finds `.regal/config.yaml` above `rego`)."""
    run = tool("regal", "lint", "--format", "json", rego, cwd=cwd)
    assert run.stdout.lstrip().startswith("{"), f"regal printed no JSON (exit {run.returncode}): {run.stdout[:2000]}{run.stderr[:2000]}"
    report = json.loads(run.stdout)
    found = [(v["title"], str(Path(v["location"]["file"]).relative_to(rego))) for v in report.get("violations", [])]
    assert (run.returncode == 0) == (not found), f"regal lint exited {run.returncode} with {len(found)} violations"
    return found


def test_regal_lint_finds_nothing(scratch: Path) -> None:
    assert regal_violations(REGO, scratch) == []


def test_every_rule_the_regal_config_sets_aside_says_why() -> None:
    """Each rule `.regal/config.yaml` configures is followed by a comment giving the reason (STYLE: each disabled rule with its reason)."""
    lines = REGAL_CONFIG.read_text(encoding="utf-8").splitlines()
    rules = [(n, line.strip().rstrip(":")) for n, line in enumerate(lines) if re.fullmatch(r"    [a-z][\w-]*:", line)]
    assert len(rules) >= 5
    unexplained = [rule for n, rule in rules if not lines[n + 1].lstrip().startswith("# ")]
    assert not unexplained, f"rules set aside without a reason: {unexplained}"


def test_regal_sees_a_violation_under_the_repository_config(tmp_path: Path) -> None:
    """A copy of the Rego and the config, plus a module written as Regal would not: that module's violations, and only those."""
    rego = _copy_of_the_rego(tmp_path)
    (tmp_path / ".regal").mkdir()
    (tmp_path / ".regal" / "config.yaml").write_text(REGAL_CONFIG.read_text(encoding="utf-8"))
    (rego / "probe.rego").write_text("package dpaguard.probe\n\nimport rego.v1\n\nallow = true\n")
    assert sorted(regal_violations(rego, tmp_path)) == [("opa-fmt", "probe.rego"), ("use-assignment-operator", "probe.rego")]
