"""Every config key a program requires and the stack lacks is named in one run, not one key per run (issue 21 §4)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support.cli import assert_one_line_error, dpaguard

from dpaguard.errors import ProgramError
from dpaguard.source.interface import SourceError
from dpaguard.source.program import render_stack
from dpaguard.source.project import load_project, load_stack_config

pytestmark = pytest.mark.e2e  # renders programs

# Five keys, read the ways public programs read them: plain, secret, a number, a flag, an object.
FIVE_KEYS = """
    import pulumi
    import pulumiverse_scaleway as scaleway

    config = pulumi.Config()
    zone = config.require("zone")
    password = config.require_secret("db_password")
    nodes = config.require_int("node_count")
    ha = config.require_bool("high_availability")
    admins = config.require_object("admin_ips")

    db = scaleway.databases.Instance(
        "db", engine="PostgreSQL-15", node_type="DB-DEV-S", is_ha_cluster=ha, password=password,
        tags=[f"zone:{zone}", f"nodes:{nodes}"],
    )
    for index, ip in enumerate(admins):
        scaleway.databases.Acl(f"acl-{index}", instance_id=db.id, acl_rules=[{"ip": ip}])
"""


def _project(root: Path, program: str, *, stack: str = "config: {}\n", declared: str = "") -> Path:
    root.mkdir(parents=True)
    (root / "Pulumi.yaml").write_text(f"name: orders\nruntime: python\n{declared}")
    (root / "Pulumi.prod.yaml").write_text(stack)
    (root / "__main__.py").write_text(textwrap.dedent(program))
    return root


def test_one_run_names_all_five_missing_keys_with_their_lines(tmp_path: Path) -> None:
    project = _project(tmp_path / "orders", FIVE_KEYS)
    with pytest.raises(ProgramError) as caught:
        render_stack(project, "prod", timeout=120)
    line = caught.value.one_line()
    assert line.startswith("render stack prod: 5 missing required configuration values, 'orders:zone' (__main__.py:6), "
                           "'orders:db_password' (__main__.py:7), 'orders:node_count' (__main__.py:8), "
                           "'orders:high_availability' (__main__.py:9), 'orders:admin_ips' (__main__.py:10): ")
    assert ("add `orders:zone: <value>`, `orders:db_password: {secure: <anything>}`, `orders:node_count: <value>`, "
            "`orders:high_availability: <value>`, `orders:admin_ips: <value>` under `config:` in Pulumi.prod.yaml") in line
    assert "then stopped" not in line  # the program ran to its end on the stand-ins


def test_keys_set_are_not_named_and_one_missing_key_reads_as_before(tmp_path: Path) -> None:
    stack = ("config:\n  orders:zone: fr-par-1\n  orders:db_password: {secure: v1:abc}\n  orders:node_count: 2\n"
             "  orders:high_availability: true\n")
    project = _project(tmp_path / "orders", FIVE_KEYS, stack=stack)
    with pytest.raises(ProgramError) as caught:
        render_stack(project, "prod", timeout=120)
    assert caught.value.one_line().startswith(
        "render stack prod: __main__.py:10: missing required configuration value 'orders:admin_ips': "
        "add `orders:admin_ips: <value>` under `config:` in Pulumi.prod.yaml")


def test_keys_pulumi_yaml_declares_are_named_with_those_the_program_requires(tmp_path: Path) -> None:
    declared = "config:\n  region_name:\n    type: string\n  api_token:\n    type: string\n    secret: true\n"
    project = _project(tmp_path / "orders", 'import pulumi\npulumi.Config().require("zone")\n', declared=declared)
    with pytest.raises(ProgramError) as caught:
        render_stack(project, "prod", timeout=120)
    line = caught.value.one_line()
    assert ("3 missing required configuration values, 'orders:region_name' (declared in Pulumi.yaml), "
            "'orders:api_token' (declared in Pulumi.yaml), 'orders:zone' (__main__.py:2)") in line
    assert "`orders:api_token: {secure: <anything>}`" in line
    # Read without a render (a state's stack config), every declared key is named at once too.
    with pytest.raises(SourceError) as read:
        load_stack_config(load_project(project), "prod")
    assert "2 missing required configuration values, 'orders:region_name'" in read.value.one_line()


def test_a_program_that_fails_on_a_stand_in_still_names_the_missing_keys_first(tmp_path: Path) -> None:
    program = """
        import pulumi
        config = pulumi.Config()
        region = config.require("region")
        count = int(config.require("count"))
    """
    run = dpaguard("check", "--project-dir", _project(tmp_path / "orders", program), "--stack", "prod", "--no-checkov")
    assert_one_line_error(run, "2 missing required configuration values, 'orders:region' (__main__.py:4), "
                               "'orders:count' (__main__.py:5): add")
    assert "(the program then stopped: __main__.py:5: ValueError: invalid literal for int()" in run.stderr
