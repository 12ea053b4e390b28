"""The offline render of Pulumi Python programs: what each fixture program registers, and how failures look."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest
from support import SOURCE_FIXTURES
from support.source_helpers import Render
from support.source_helpers import all_gone_soon, by_name, copy_fixture, processes_in, wait_for_named_process

from dpaguard.errors import InputError, ProgramError
from dpaguard.model import PLAINTEXT_REDACTED, REDACTED, SECRET_SIG, SECRET_SIG_KEY, UNKNOWN
from dpaguard.source.program import render_stack

pytestmark = pytest.mark.e2e  # the render stage: every test renders a program

SCALEWAY_DEFAULT = "pulumi:providers:scaleway::default_1_60_0_github_/api.github.com/pulumiverse"
# How a failed program's line ends: the interpreter it ran under (the fixtures name no virtualenv: dpaguard's own).
RAN_UNDER = f" (the program ran under {sys.executable})"


def provider_urn(reference: str) -> str:
    return reference.rsplit("::", 1)[0]


def test_default_provider_carries_the_stack_config_and_the_sdk_version(rendered: Render) -> None:
    deployment = rendered("providers")
    main = by_name(deployment, "main")
    default = next(r for r in deployment.resources if r["urn"] == provider_urn(main["provider"]))
    assert default["urn"] == f"urn:pulumi:dev::providers::{SCALEWAY_DEFAULT}"
    assert default["custom"] is True and default["type"] == "pulumi:providers:scaleway"
    assert default["inputs"] == {
        "region": "fr-par",
        "zone": "fr-par-1",
        "projectId": "11111111-2222-3333-4444-555555555555",
        "version": "1.60.0",
    }
    assert main["provider"] == f"{default['urn']}::{default['id']}"
    # region is not set on the VPC itself: only the default provider knows it
    assert main["inputs"] == {"name": "main-vpc"}


def test_resources_being_created_have_unknown_ids_as_in_a_preview(rendered: Render) -> None:
    # What `pulumi preview` hands a policy pack for a new stack: no id is known before creation, the
    # providers' included, and a reference names the provider by its URN and the unknown id.
    deployment = rendered("providers")
    assert {r["id"] for r in deployment.resources if r["custom"]} == {UNKNOWN}
    ams = by_name(deployment, "ams")
    assert by_name(deployment, "backup")["provider"] == f"{ams['urn']}::{UNKNOWN}"


def test_default_provider_follows_the_selected_stack(rendered: Render) -> None:
    prod = rendered("providers", "prod")
    default = next(r for r in prod.resources if r["urn"].endswith(SCALEWAY_DEFAULT))
    assert default["inputs"]["region"] == "nl-ams" and "zone" not in default["inputs"]
    assert by_name(prod, "main")["urn"].startswith("urn:pulumi:prod::providers::")


def test_explicit_provider_is_a_resource_and_is_referenced(rendered: Render) -> None:
    deployment = rendered("providers")
    ams = by_name(deployment, "ams")
    assert ams["type"] == "pulumi:providers:scaleway" and ams["custom"] is True
    assert ams["inputs"]["region"] == "nl-ams" and ams["inputs"]["zone"] == "nl-ams-1"
    assert ams["inputs"]["version"] == "1.60.0"
    backup = by_name(deployment, "backup")
    assert backup["provider"] == f"{ams['urn']}::{ams['id']}"
    urns = [r["urn"] for r in deployment.resources]
    assert urns.index(ams["urn"]) < urns.index(backup["urn"])


def test_stack_resource_is_the_root_and_parents_top_level_resources(rendered: Render) -> None:
    deployment = rendered("providers")
    root = deployment.resources[0]
    assert root["type"] == "pulumi:pulumi:Stack" and root["urn"] == deployment.stack_urn
    assert by_name(deployment, "main")["parent"] == deployment.stack_urn
    assert deployment.stack == "dev" and deployment.project == "providers" and deployment.source == "program"


def test_source_positions_point_at_the_users_lines(rendered: Render) -> None:
    deployment = rendered("providers")
    main = by_name(deployment, "main")
    assert main["sourcePosition"] == "project:///__main__.py#6"
    assert deployment.source_positions[main["urn"]] == ("__main__.py", 6, 1)
    lines = (SOURCE_FIXTURES / "providers" / "__main__.py").read_text().splitlines()
    assert lines[5].startswith('scaleway.network.Vpc("main"')


def test_components_keep_their_children_and_nesting(rendered: Render) -> None:
    deployment = rendered("components")
    core = by_name(deployment, "core")
    vpc = by_name(deployment, "core-vpc")
    subnet = by_name(deployment, "core-app")
    network = by_name(deployment, "core-app-pn")
    assert core["custom"] is False and "provider" not in core and "id" not in core
    assert core["type"] == "acme:net:Network" and core["parent"] == deployment.stack_urn
    assert vpc["parent"] == core["urn"] and subnet["parent"] == core["urn"]
    assert network["parent"] == subnet["urn"]
    assert network["urn"] == (
        "urn:pulumi:dev::components::acme:net:Network$acme:net:Subnet$"
        "scaleway:network/privateNetwork:PrivateNetwork::core-app-pn"
    )
    # the VPC's id flows into the private network's input, and the dependency is recorded
    assert network["inputs"]["vpcId"] == vpc["id"]
    assert vpc["urn"] in network["dependencies"]
    assert network["propertyDependencies"]["vpcId"] == [vpc["urn"]]
    assert core["outputs"] == {"vpcId": vpc["id"]}


def test_transforms_run_in_the_engines_order(rendered: Render) -> None:
    deployment = rendered("transforms")
    assert by_name(deployment, "loose")["inputs"] == {"tags": {"env": "dev"}}  # stack transform
    child = by_name(deployment, "fax-bucket")  # parent's transform, then the stack's
    assert child["inputs"] == {"region": "fr-par", "tags": {"data-category": "fax", "env": "dev"}}
    assert child["outputs"] == child["inputs"]


def test_deprecated_top_level_classes_keep_their_own_tokens(rendered: Render) -> None:
    deployment = rendered("deprecated")
    db = by_name(deployment, "legacy-db")
    bucket = by_name(deployment, "legacy-bucket")
    assert db["type"] == "scaleway:index/databaseInstance:DatabaseInstance"
    assert db["inputs"] == {"nodeType": "DB-DEV-S", "engine": "PostgreSQL-15", "isHaCluster": False}
    assert bucket["type"] == "scaleway:index/objectBucket:ObjectBucket"
    assert provider_urn(db["provider"]).endswith(SCALEWAY_DEFAULT)


def test_stack_reference_is_recorded_and_its_outputs_are_unknown(rendered: Render) -> None:
    deployment = rendered("stackref")
    reference = by_name(deployment, "acme/network/prod")
    assert reference["type"] == "pulumi:pulumi:StackReference"
    assert reference["inputs"] == {"name": "acme/network/prod"} and reference["external"] is True
    app = by_name(deployment, "app")
    assert app["inputs"]["vpcId"] == UNKNOWN
    assert reference["urn"] in app["dependencies"]


def test_data_sources_answer_nothing_offline_so_what_rests_on_them_is_unknown(rendered: Render) -> None:
    deployment = rendered("stackref")
    zones = by_name(deployment, "zones")
    assert zones["inputs"]["tags"] == [UNKNOWN]
    token = "scaleway:index/getAvailabilityZones:getAvailabilityZones"
    assert deployment.unanswered_lookups == {zones["urn"]: {"tags": (token,)}}


def test_dynamic_resource_loses_its_pickled_provider_and_gets_a_default_provider(rendered: Render) -> None:
    deployment = rendered("dynamic")
    ticket = by_name(deployment, "first")
    assert ticket["type"] == "pulumi-python:dynamic/tickets:Ticket"
    assert ticket["inputs"] == {"title": "rotate keys", "queue": "ops"}
    assert provider_urn(ticket["provider"]) == "urn:pulumi:dev::dynamic::pulumi:providers:pulumi-python::default"
    assert "__provider" not in json.dumps(deployment.resources)



def test_the_dynamic_provider_gets_the_whole_stack_config_as_the_engine_hands_it(rendered: Render) -> None:
    # As `pulumi preview` (3.276) records it: every key in full, as the string the CLI passes (objects as
    # JSON with sorted keys), secrets wrapped and never decrypted, sensitive-named plaintext redacted.
    deployment = rendered("dynamic")
    provider = next(r for r in deployment.resources if r["urn"].endswith("::pulumi:providers:pulumi-python::default"))
    secret = {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": REDACTED}
    assert provider["inputs"] == {
        "dynamic:apiToken": PLAINTEXT_REDACTED,
        "dynamic:dbPassword": secret,
        "dynamic:limits": '{"burst":2,"tickets":5}',
        "dynamic:queue": "ops",
        "scaleway:region": "fr-par",
        "scaleway:zone": "fr-par-1",
    }
    assert "plain-dynamic-token-0001" not in json.dumps(deployment.resources)

CANARIES = (
    "CANARYSECUREPROVIDERKEY0001",
    "CANARYSECUREDBPASSWORD0002",
    "CANARYSECURENESTEDTOKEN0003",
    "CANARYPLAINPASSWORD0004",
    "CANARYLITERALSECRET0005",
    "canary-secret-bucket-0006",
)


def is_secret(value: object) -> bool:
    return value == {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": REDACTED}


def test_no_secret_reaches_the_deployment_in_plaintext(rendered: Render) -> None:
    deployment = rendered("secrets")
    text = json.dumps([deployment.resources, deployment.config, sorted(deployment.secret_config_keys)])
    for canary in CANARIES:
        assert canary not in text
    assert "v1:" not in text


def test_secure_config_reaches_the_program_as_a_secret(rendered: Render) -> None:
    deployment = rendered("secrets")
    db = by_name(deployment, "db")
    assert is_secret(db["inputs"]["password"])
    assert db["inputs"]["userName"] == "admin"  # project-level default of dbUser
    cache = by_name(deployment, "cache")
    assert is_secret(cache["inputs"]["password"])  # Output.secret in the program
    assert is_secret(cache["inputs"]["tags"])  # derived from a secret object: still secret
    bucket = by_name(deployment, "named-secretly")
    assert is_secret(bucket["inputs"]["name"]) and is_secret(bucket["outputs"]["name"])  # additional_secret_outputs
    root = deployment.resources[0]
    assert is_secret(root["outputs"]["dbPassword"])


def test_secret_config_is_listed_and_plaintext_passwords_are_redacted(rendered: Render) -> None:
    deployment = rendered("secrets")
    assert deployment.secret_config_keys == {"scaleway:secretKey", "secrets:dbPassword", "secrets:settings"}
    assert deployment.config["secrets:dbPassword"] == REDACTED
    assert deployment.config["secrets:adminPassword"] == PLAINTEXT_REDACTED
    default = next(r for r in deployment.resources if r["type"] == "pulumi:providers:scaleway")
    assert is_secret(default["inputs"]["secretKey"])
    bastion = by_name(deployment, "bastion")
    assert bastion["inputs"]["userData"] == {"password": PLAINTEXT_REDACTED}
    assert deployment.config_file == "Pulumi.dev.yaml" and len(deployment.config_sha256 or "") == 64


def test_two_renders_of_one_program_are_equal() -> None:
    first = render_stack(SOURCE_FIXTURES / "components", "dev")
    second = render_stack(SOURCE_FIXTURES / "components", "dev")
    assert first.resources == second.resources


def test_crash_is_one_line_naming_the_users_file_and_line() -> None:
    with pytest.raises(ProgramError) as caught:
        render_stack(SOURCE_FIXTURES / "crash", "dev")
    message = caught.value.one_line()
    assert message == f"render stack dev: helpers.py:7: ValueError: unknown size 'tiny'{RAN_UNDER}"
    line = (SOURCE_FIXTURES / "crash" / "helpers.py").read_text().splitlines()[6]
    assert "raise ValueError" in line


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("syntax_error", "render stack dev: __main__.py:4: SyntaxError: "),
        ("import_error", "render stack dev: __main__.py:2: ModuleNotFoundError: No module named 'pulumi_not_installed'"),
    ],
)
def test_programs_that_cannot_start_fail_in_one_line(fixture: str, expected: str) -> None:
    with pytest.raises(ProgramError) as caught:
        render_stack(SOURCE_FIXTURES / fixture, "dev")
    assert caught.value.one_line().startswith(expected)
    assert "\n" not in str(caught.value)


def test_hanging_program_is_killed_at_the_time_limit(tmp_path: Path) -> None:
    project = copy_fixture("hang", tmp_path)
    seen: list[bool] = []
    watcher = threading.Thread(target=lambda: seen.append(wait_for_named_process(project, "dpaguard-hang", within=10)))
    watcher.start()
    started = time.monotonic()
    with pytest.raises(ProgramError, match=r"program did not finish within 3 s"):
        render_stack(project, "dev", timeout=3)
    assert time.monotonic() - started < 10
    watcher.join()
    assert seen == [True], "the program never ran"
    assert all_gone_soon(project)


def test_forked_children_are_killed_and_cannot_answer(tmp_path: Path) -> None:
    project = copy_fixture("forks", tmp_path)
    deployment = render_stack(project, "dev", timeout=60)
    assert by_name(deployment, "after-fork")["type"] == "scaleway:network/vpc:Vpc"
    assert deployment.resources[0]["outputs"] == {"forked": True, "running": ["child", "child.detached"]}
    assert all_gone_soon(project)


def test_orphans_in_their_own_session_with_an_empty_environment_are_killed(tmp_path: Path) -> None:
    project = copy_fixture("escapes", tmp_path)
    deployment = render_stack(project, "dev", timeout=60)
    assert deployment.resources[0]["outputs"] == {"escaped": ["escaped-1", "escaped-2"]}
    assert all_gone_soon(project), processes_in(project)


def test_program_output_on_stdout_does_not_change_the_result(rendered: Render) -> None:
    deployment = rendered("prints")
    assert [r["type"] for r in deployment.resources] == [
        "pulumi:pulumi:Stack",
        "pulumi:providers:scaleway",
        "scaleway:network/vpc:Vpc",
    ]


def test_missing_stack_file_lists_the_stacks_that_exist() -> None:
    with pytest.raises(InputError) as caught:
        render_stack(SOURCE_FIXTURES / "providers", "staging")
    assert caught.value.one_line() == (
        "render stack staging: Pulumi.staging.yaml: stack 'staging' has no config file"
        " (stacks found: dev, prod) (see --stack)"
    )


def test_malformed_project_file_names_file_and_line() -> None:
    with pytest.raises(InputError) as caught:
        render_stack(SOURCE_FIXTURES / "malformed_project", "dev")
    message = caught.value.one_line()
    assert "malformed_project/Pulumi.yaml:5: malformed YAML in project file" in message


def test_directory_without_project_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no Pulumi.yaml"):
        render_stack(tmp_path, "dev")


def test_wrong_runtime_is_refused() -> None:
    with pytest.raises(InputError, match="runtime 'nodejs' is not supported"):
        render_stack(SOURCE_FIXTURES / "wrong_runtime", "dev")


def small_project(directory: Path, main: str | None, files: dict[str, str]) -> Path:
    project = f"name: small\nruntime: python\n" + (f"main: {main}\n" if main else "")
    (directory / "Pulumi.yaml").write_text(project)
    (directory / "Pulumi.dev.yaml").write_text("config:\n  scaleway:region: fr-par\n")
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    return directory


def test_main_naming_a_file_runs_that_file_from_its_directory(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        "src/app.py",
        {
            "src/app.py": "import os\nimport pulumiverse_scaleway as s\ns.network.Vpc(open('name.txt').read().strip())\n",
            "src/name.txt": "from-cwd\n",
        },
    )
    deployment = render_stack(tmp_path, "dev")
    vpc = by_name(deployment, "from-cwd")
    assert vpc["sourcePosition"] == "project:///src/app.py#3"


def test_main_directory_without_main_module(tmp_path: Path) -> None:
    small_project(tmp_path, "infra/", {"infra/other.py": "x = 1\n"})
    with pytest.raises(ProgramError, match="no __main__.py in infra"):
        render_stack(tmp_path, "dev")


def test_runaway_memory_fails_as_a_program_error(tmp_path: Path) -> None:
    small_project(tmp_path, None, {"__main__.py": "hoard = bytearray(8 * 1024 ** 3)\n"})
    with pytest.raises(ProgramError, match=r"__main__.py:1: MemoryError"):
        render_stack(tmp_path, "dev")


def test_duplicate_resource_names_are_refused_as_the_engine_does(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        None,
        {"__main__.py": "import pulumiverse_scaleway as s\ns.network.Vpc('twin')\ns.network.Vpc('twin')\n"},
    )
    with pytest.raises(ProgramError) as caught:
        render_stack(tmp_path, "dev")
    assert caught.value.one_line() == (
        "render stack dev: __main__.py:3: DuplicateResourceError: duplicate resource URN"
        f" 'urn:pulumi:dev::small::scaleway:network/vpc:Vpc::twin'; try giving it a unique name{RAN_UNDER}"
    )


def test_resource_method_calls_answer_nothing_offline(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        None,
        {
            "__main__.py": (
                "import pulumi.runtime\nimport pulumiverse_scaleway as s\n"
                "result = pulumi.runtime.call('scaleway:index/thing:Thing/method', {'a': 1})\n"
                "s.network.Vpc('v', tags=result.apply(lambda r: [f'r:{r}']))\n"
            )
        },
    )
    assert by_name(render_stack(tmp_path, "dev"), "v")["inputs"]["tags"] == ["r:None"]


def test_credentials_in_the_environment_do_not_reach_the_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCW_SECRET_KEY", "CANARYENVSECRET0007")
    monkeypatch.setenv("DATAPACKET_API_KEY", "CANARYENVAPIKEY0008")
    monkeypatch.setenv("PULUMI_CONFIG", '{"small:leak": "CANARYENVCONFIG0009"}')
    monkeypatch.setenv("SCW_DEFAULT_REGION", "fr-par")
    small_project(
        tmp_path,
        None,
        {
            "__main__.py": (
                "import os\nimport pulumi\nimport pulumiverse_scaleway as s\n"
                "seen = [os.environ.get(k, '-') for k in ('SCW_SECRET_KEY', 'DATAPACKET_API_KEY', 'SCW_DEFAULT_REGION')]\n"
                "s.network.Vpc('v', tags=seen + [pulumi.Config().get('leak') or '-'])\n"
            )
        },
    )
    assert by_name(render_stack(tmp_path, "dev"), "v")["inputs"]["tags"] == ["-", "-", "fr-par", "-"]


def test_error_messages_do_not_repeat_plaintext_credentials(tmp_path: Path) -> None:
    small_project(
        tmp_path,
        None,
        {"__main__.py": "import pulumi\nraise ValueError('cannot log in with ' + pulumi.Config().require('dbPassword'))\n"},
    )
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  small:dbPassword: CANARYPLAINERROR0010\n")
    with pytest.raises(ProgramError) as caught:
        render_stack(tmp_path, "dev")
    assert caught.value.one_line() == f"render stack dev: __main__.py:2: ValueError: cannot log in with [plaintext redacted]{RAN_UNDER}"


def test_the_render_records_where_the_stack_file_sets_each_key(rendered: Render) -> None:
    """Findings about the stack's config point at its line; the source stage is the one that read the file."""
    deployment = rendered("providers")
    assert deployment.config_file == "Pulumi.dev.yaml"
    assert deployment.config_positions["scaleway:region"] == (2, 3)
    assert deployment.config_positions["scaleway:projectId"] == (4, 3)
