"""A policy revision's own namespace on a shared OPA server (dpaguard/engine/opa_revision.py): the rewrite of
its modules and the check of the server's module set."""

from __future__ import annotations

import pytest

from dpaguard.engine.opa_revision import (
    HeldModule,
    foreign,
    held_modules,
    module_id,
    namespace,
    namespaced,
    revision_modules,
)
from dpaguard.errors import PolicyError

NS = "dpaguard_rev_0123456789abcdef"


def test_packages_imports_and_data_move_into_the_namespace() -> None:
    module = (
        "# METADATA\n# description: reads data.dpa and data.dpaguard.lib\npackage dpaguard.main\n\n"
        "import data.dpaguard.lib.result\nimport data.dpaguard\n\n"
        'ports := data.dpa.settings.ports\nmsg := "data.dpa and data.dpaguard stay in strings"\n'
        "raw := `package dpaguard.x data.dpa`\nx := input.data.dpa\n"
    )
    assert namespaced(module, NS, "rego/main.rego") == (
        "# METADATA\n# description: reads data.dpa and data.dpaguard.lib\npackage " + NS + ".main\n\n"
        f"import data.{NS}.lib.result\nimport data.{NS} as dpaguard\n\n"
        f'ports := data.{NS}.dpa.settings.ports\nmsg := "data.dpa and data.dpaguard stay in strings"\n'
        "raw := `package dpaguard.x data.dpa`\nx := input.data.dpa\n"
    )


@pytest.mark.parametrize(
    ("module", "why"),
    [
        ('package dpaguard.x\n\ny := data["dpa"]\n', "cannot be given a namespace"),
        ("package dpaguard.x\n\ny := data\n", "cannot be given a namespace"),
        ("package dpaguard.x\n\ny := data.team.allow\n", "cannot be given a namespace"),
        ("package team.x\n\ny := 1\n", "package team is outside dpaguard"),
    ],
)
def test_a_module_that_cannot_be_moved_is_refused(module: str, why: str) -> None:
    with pytest.raises(PolicyError, match=why):
        namespaced(module, NS, "rego/x.rego")


def test_a_revision_pushes_its_modules_data_and_version() -> None:
    sha = "0123456789abcdef" + "0" * 48
    modules = revision_modules(sha, {"rego/main.rego": "package dpaguard.main\n"}, {"regions": ["fr-par"]})
    assert namespace(sha) == NS
    assert modules == {
        module_id(sha, "rego/main.rego"): f"package {NS}.main\n",
        f"{NS}/_dpaguard_data.rego": f'package {NS}\n\ndpa := {{"regions": ["fr-par"]}}\n',
        f"{NS}/_dpaguard_version.rego": f'package {NS}.main\n\nimport rego.v1\n\ndpaguard_policy_sha256 := "{sha}"\n',
    }
    with pytest.raises(PolicyError, match="would hide data.dpa"):
        revision_modules(sha, {"rego/dpa.rego": "package dpaguard.dpa\n"}, {})


def _held(pid: str, raw: str, *package: str) -> HeldModule:
    return HeldModule(pid, raw, tuple(package))


def test_foreign_modules_are_those_in_our_packages_that_are_not_ours() -> None:
    own = {f"{NS}/rego/main.rego": f"package {NS}.main\n"}
    held = [
        _held(f"{NS}/rego/main.rego", f"package {NS}.main\n", NS, "main"),  # ours
        _held("team/authz.rego", "package team.authz\n", "team", "authz"),  # another team's
        _held("dpaguard_rev_ffffffffffffffff/rego/main.rego", "...", "dpaguard_rev_ffffffffffffffff", "main"),  # another revision
        _held("pr/a.rego", "package dpaguard.transit_encryption\n", "dpaguard", "transit_encryption"),
        _held("pr/b.rego", f"package {NS}.lib\n", NS, "lib"),
        _held("pr/c.rego", f"package {NS}\n", NS),
        HeldModule("pr/d.rego", "package who.knows\n", None),  # OPA did not give its package
    ]
    assert [m.id for m in foreign(held, own, ("dpaguard", NS))] == ["pr/a.rego", "pr/b.rego", "pr/c.rego", "pr/d.rego"]
    altered = [_held(f"{NS}/rego/main.rego", f"package {NS}.main\n\nx := 1\n", NS, "main")]
    assert foreign(altered, own, ("dpaguard", NS)) == altered


def test_the_package_is_opas_parse_not_the_text() -> None:
    listing = {"result": [{"id": "a", "raw": "package x", "ast": {"package": {"path": [
        {"type": "var", "value": "data"}, {"type": "string", "value": "dpaguard"}, {"type": "string", "value": "x.y"}]}}}]}
    assert held_modules(listing) == [HeldModule("a", "package x", ("dpaguard", "x.y"))]
    with pytest.raises(ValueError):
        held_modules({"result": [{"raw": "no id"}]})
