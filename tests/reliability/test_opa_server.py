"""The shared OPA server is the adversary's too (issue 24 C6): a module in a dpaguard package, pushed
under another id by anyone who can reach the server (the pull request's program included), must
never switch a control off. Against the real `opa run --server` (`.tools/bin/opa`)."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import assert_one_line_error, dpaguard
from support.control_cases import CASES
from support.opa_server import RealOpa, foreign_module

from dpaguard.source.state import to_export


def test_a_foreign_module_switching_https_off_is_refused(tmp_path: Path) -> None:
    (deployment,), _ = CASES["DPA-TLS-008"]()  # a public container accepting plain HTTP
    state = tmp_path / "prod.json"
    state.write_text(json.dumps(to_export(deployment)), encoding="utf-8")
    audit = ("audit", "--state", state, "--format", "json", "--quiet")
    in_process = dpaguard(*audit)
    assert in_process.returncode == 1, in_process.stderr
    assert "DPA-TLS-008" in {f["control"] for f in json.loads(in_process.stdout)["findings"]}
    with RealOpa() as server:
        assert server.put_policy("pr/override.rego", foreign_module("dpaguard.transit_encryption")).status_code == 200
        served = dpaguard(*audit, "--opa-url", server.url)
        assert_one_line_error(served, 'module "pr/override.rego" in package "dpaguard.transit_encryption" is not one of')
        # the server is left as it was found: dpaguard deletes nothing it did not push
        assert server.policies["pr/override.rego"] == foreign_module("dpaguard.transit_encryption")
