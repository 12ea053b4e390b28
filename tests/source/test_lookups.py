"""`--lookups FILE`: a program's lookups answered by token and arguments; unanswered, unknown, and the findings say so.

The fixture `lookups` is written as public programs are: the project and the private network the
platform team made are looked up (`account.get_project`, the older `get_account_project`,
`get_private_network_output`), and so are the office's IP and the server image.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support import SOURCE_FIXTURES
from support.cli import assert_one_line_error, dpaguard
from support.source_helpers import by_name

from dpaguard.errors import InputError
from dpaguard.model import UNKNOWN
from dpaguard.source.lookups import load_lookups
from dpaguard.source.program import render_stack

SHOP = SOURCE_FIXTURES / "lookups"
ANSWERS = SHOP / "lookups.yaml"
PROJECT = "scaleway:account/getProject:getProject"
LEGACY_PROJECT = "scaleway:index/getAccountProject:getAccountProject"
NETWORK = "scaleway:network/getPrivateNetwork:getPrivateNetwork"
OFFICE_IP = "scaleway:instance/getIp:getIp"
IMAGE = "scaleway:instance/getImage:getImage"
PROJECT_ID = "5f0e6a4c-8f0b-4a53-9d1e-2c6b7a8e9f10"


def _check(*extra: str | Path) -> dict[str, Any]:
    run = dpaguard("check", "--project-dir", SHOP, "--stack", "prod", "--no-checkov", "--format", "json", "--output", "-",
                   "--fail-on", "never", *extra)
    assert run.returncode == 0, run.stderr
    document: dict[str, Any] = json.loads(run.stdout)
    return document


@pytest.mark.e2e
def test_answered_lookups_give_their_values_by_token_and_arguments() -> None:
    deployment = render_stack(SHOP, "prod", timeout=120, lookups=load_lookups(ANSWERS))
    database = by_name(deployment, "shop-db")
    assert database["inputs"]["projectId"] == PROJECT_ID  # account.get_project, answered with a snake_case arg key
    assert database["inputs"]["privateNetwork"]["pnId"] == "fr-par/3a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d"  # the output form
    servers = [r for r in deployment.resources if r["type"] == "scaleway:instance/server:Server"]
    assert [s["inputs"]["projectId"] for s in servers] == [PROJECT_ID]  # the older get_account_project
    assert servers[0]["inputs"]["image"] == "fr-par-1/7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918"
    acl = by_name(deployment, "shop-db-acl")
    assert acl["inputs"]["aclRules"][0]["ip"] == "198.51.100.24/32"
    assert deployment.unanswered_lookups == {}
    assert not [n for n in deployment.notices if "lookup" in n]


@pytest.mark.e2e
def test_a_lookup_no_entry_answers_is_unknown_and_names_what_rests_on_it(tmp_path: Path) -> None:
    # The network's entry asks for another name: that lookup stays unanswered, the others are answered.
    other = tmp_path / "lookups.yaml"
    other.write_text(ANSWERS.read_text().replace("args: {name: platform}", "args: {name: other-network}"))
    deployment = render_stack(SHOP, "prod", timeout=120, lookups=load_lookups(other))
    database = by_name(deployment, "shop-db")
    assert database["inputs"]["privateNetwork"]["pnId"] == UNKNOWN
    assert database["inputs"]["projectId"] == PROJECT_ID
    assert deployment.unanswered_lookups[database["urn"]] == {"privateNetwork": (NETWORK,)}
    (notice,) = [n for n in deployment.notices if "lookup" in n]
    assert notice.endswith(f"(answer them with --lookups FILE): {NETWORK}")


@pytest.mark.e2e
def test_without_answers_every_finding_resting_on_a_lookup_names_it() -> None:
    document = _check()
    (notice,) = [n for n in document["notices"] if "lookup" in n]
    assert notice.startswith("stack prod: offline, 5 lookup(s) answered nothing, so what rests on them is unknown")
    resting = {(f["control"], f["urn"].rsplit("::", 1)[-1], f["message"]) for f in document["findings"]
               if "answered nothing offline" in f["message"]}
    # The project each resource names is unknown: its segregation cannot be shown, and the finding says why.
    assert ("DPA-SEG-001", "shop-db", f"projectId is unknown until apply (rests on 1 lookup(s) that answered nothing"
            f" offline: {PROJECT}; answer them with --lookups FILE)") in resting
    assert any(c == "DPA-SEG-001" and n == "web" and LEGACY_PROJECT in m for c, n, m in resting)
    # The ACL's source is the office's IP: unknown, judged as the internet, and both findings name the lookup.
    acl = [(c, m) for c, n, m in resting if n == "shop-db-acl"]
    assert len(acl) == 2 and all(OFFICE_IP in m for _, m in acl)
    with_answers = _check("--lookups", ANSWERS)
    assert not [f for f in with_answers["findings"] if "lookup" in f["message"] or f["urn"].endswith("shop-db-acl")]
    assert not [n for n in with_answers["notices"] if "lookup" in n]


def test_the_file_may_be_json_and_args_may_be_left_out(tmp_path: Path) -> None:
    path = tmp_path / "lookups.json"
    path.write_text(json.dumps([{"token": IMAGE, "result": {"id": "img"}},
                                {"token": PROJECT, "args": {"project_id": "p"}, "result": {"name": "n"}}]))
    first, second = load_lookups(path)
    assert (first.token, dict(first.args), dict(first.result)) == (IMAGE, {}, {"id": "img"})
    assert second.request() == {"token": PROJECT, "args": {"project_id": "p"}, "result": {"name": "n"}}


@pytest.mark.parametrize(("text", "expected"), [
    ("token: a:b:c\n", "must be a list of {token, args, result} entries"),
    ("- token: getProject\n  result: {}\n", "entry 1: token must be a function token"),
    ("- {token: 'a:b:c', result: {}, answer: 1}\n", "entry 1 has unknown key(s) answer"),
    ("- {token: 'a:b:c', result: [1]}\n", "entry 1 (a:b:c): result must be a mapping"),
    ("- {token: 'a:b:c', args: [1], result: {}}\n", "entry 1 (a:b:c): args must be a mapping"),
    ("- {token: 'a:b:c', result: {day: 2026-01-01}}\n", "must be plain JSON values"),
    ("- [unclosed\n", "not YAML or JSON at line 2"),
])
def test_a_bad_lookups_file_is_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "lookups.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_lookups(path)
    assert caught.value.one_line().startswith(f"--lookups {path}: ") and expected in caught.value.one_line()


@pytest.mark.parametrize("command", ["check", "render"])
def test_the_cli_refuses_a_bad_lookups_file_with_exit_2_before_any_render(tmp_path: Path, command: str) -> None:
    path = tmp_path / "lookups.yaml"
    path.write_bytes(b"\xff\xfe")
    extra = ["--no-checkov"] if command == "check" else []
    run = dpaguard(command, "--project-dir", SHOP, "--stack", "prod", "--lookups", path, *extra)
    assert_one_line_error(run, f"--lookups {path}: not UTF-8 text")
    missing = dpaguard(command, "--project-dir", SHOP, "--stack", "prod", "--lookups", tmp_path / "none.yaml", *extra)
    assert_one_line_error(missing, "--lookups")
