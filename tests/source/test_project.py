"""Reading Pulumi.yaml and stack config files as `pulumi` does, offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import REPO

from dpaguard.errors import InputError
from dpaguard.model import PLAINTEXT_REDACTED, REDACTED
from dpaguard.source.project import load_project, load_stack_config


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


def test_the_estate_project_file() -> None:
    project = load_project(REPO)
    assert project.name == "dpa-estate"
    assert project.main_dir == REPO / "infra"
    assert project.stack_config_dir == REPO / "stacks"
    assert project.stacks == ("dev", "prod", "staging")


def test_runtime_as_a_mapping_and_main_default(tmp_path: Path) -> None:
    write(tmp_path, {"Pulumi.yaml": "name: p\nruntime:\n  name: python\n  options:\n    toolchain: uv\n"})
    project = load_project(tmp_path)
    assert project.main_dir == tmp_path.resolve() and project.runtime_options == {"toolchain": "uv"}
    assert project.stacks == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("runtime: python\n", "missing project 'name'"),
        ("name: p\n", "missing 'runtime'"),
        ("name: p\nruntime: go\n", "runtime 'go' is not supported"),
        ("name: p\nruntime: python\nmain: ../elsewhere\n", "project 'main' must be a subfolder"),
        ("name: p\nruntime: python\nmain: src/\n", "project 'main' src/ does not exist"),
        ("- just\n- a list\n", "not a Pulumi project file"),
        ("name: p\nruntime: python\nconfig:\n  n:\n    type: number\n", "unknown type 'number'"),
        ("name: p\nruntime: python\nconfig:\n  n:\n    type: integer\n    default: many\n", "is not of type 'integer'"),
    ],
)
def test_invalid_project_files(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, {"Pulumi.yaml": text})
    with pytest.raises(InputError) as caught:
        load_project(tmp_path)
    assert message in caught.value.one_line()
    assert "Pulumi.yaml" in caught.value.one_line()


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, {"Pulumi.yaml": "name: p\nruntime: python\nmain: [\n\nconfig: {\n"})
    with pytest.raises(InputError, match=r"Pulumi.yaml:\d+: malformed YAML in project file"):
        load_project(tmp_path)


PROJECT = """\
name: shop
runtime: python
stackConfigDir: stacks
config:
  replicas:
    type: integer
    default: 2
  domain:
    type: string
  dbPassword:
    type: string
    secret: true
  aws:region: eu-west-3
"""


def test_stack_config_over_project_defaults(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Pulumi.yaml": PROJECT,
            "stacks/Pulumi.prod.yaml": (
                "config:\n"
                "  shop:domain: shop.example\n"
                "  shop:dbPassword:\n    secure: v1:abc\n"
                "  shop:apiToken: tok-plain\n"
                "  shop:limits:\n    cpu: 2\n    key:\n      secure: v1:def\n"
                "  scaleway:region: fr-par\n"
            ),
        },
    )
    project = load_project(tmp_path)
    assert project.stacks == ("prod",)
    config = load_stack_config(project, "acme/shop/prod")
    assert config.stack == "prod"
    assert config.values["shop:replicas"] == 2 and config.values["aws:region"] == "eu-west-3"
    assert config.values["shop:dbPassword"] == REDACTED
    assert config.values["shop:limits"] == {"cpu": 2, "key": REDACTED}
    assert config.secret_keys == {"shop:dbPassword", "shop:limits"}
    assert config.program_config()["shop:replicas"] == "2"
    assert config.program_config()["shop:limits"] == '{"cpu":2,"key":"[secret]"}'
    assert config.package_config("scaleway") == {"region": "fr-par"}
    public = config.public()
    assert public["shop:apiToken"] == PLAINTEXT_REDACTED and public["shop:domain"] == "shop.example"
    assert public["shop:limits"] == {"cpu": REDACTED, "key": REDACTED}  # the whole value of a secret key
    assert "v1:" not in repr(config)


def test_stack_value_of_the_wrong_declared_type(tmp_path: Path) -> None:
    write(tmp_path, {"Pulumi.yaml": PROJECT, "stacks/Pulumi.dev.yaml": "config:\n  shop:domain: d\n  shop:replicas: lots\n  shop:dbPassword: {secure: v1:x}\n"})
    with pytest.raises(InputError, match=r"stacks/Pulumi.dev.yaml: config 'shop:replicas' must be of type 'integer'"):
        load_stack_config(load_project(tmp_path), "dev")


@pytest.mark.parametrize("text, accepted", [
    ('"3"', True), ('"-12"', True), ('"+7"', True), ("3", True), ("3.0", True),
    ('"3.5"', False), ('" 3"', False), ('"0x10"', False), ('"9223372036854775808"', False), ("3.5", False), ("true", False),
])
def test_integer_config_as_pulumi_config_set_writes_it(tmp_path: Path, text: str, accepted: bool) -> None:
    # `pulumi config set` writes every value as text (replicas: "3"); Pulumi's own check
    # (workspace.ValidateConfigValue) takes the text of an integer, so must dpaguard.
    stack = f"config:\n  shop:domain: d\n  shop:replicas: {text}\n  shop:dbPassword: {{secure: v1:x}}\n"
    write(tmp_path, {"Pulumi.yaml": PROJECT, "stacks/Pulumi.dev.yaml": stack})
    if accepted:
        load_stack_config(load_project(tmp_path), "dev")
    else:
        with pytest.raises(InputError, match="must be of type 'integer'"):
            load_stack_config(load_project(tmp_path), "dev")


def test_boolean_config_text_as_pulumi_accepts_it(tmp_path: Path) -> None:
    project = PROJECT.replace("  aws:region: eu-west-3\n", "  ha:\n    type: boolean\n    default: false\n")
    for text, accepted in (('"true"', True), ('"false"', True), ("true", True), ('"yes"', False), ('"True"', False)):
        write(tmp_path, {"Pulumi.yaml": project,
                         "stacks/Pulumi.dev.yaml": f"config:\n  shop:domain: d\n  shop:ha: {text}\n  shop:dbPassword: {{secure: v1:x}}\n"})
        if accepted:
            load_stack_config(load_project(tmp_path), "dev")
        else:
            with pytest.raises(InputError, match="must be of type 'boolean'"):
                load_stack_config(load_project(tmp_path), "dev")


def test_declared_value_without_default_must_be_set(tmp_path: Path) -> None:
    write(tmp_path, {"Pulumi.yaml": PROJECT, "stacks/Pulumi.dev.yaml": "config:\n  shop:dbPassword: {secure: v1:x}\n"})
    with pytest.raises(InputError) as caught:
        load_stack_config(load_project(tmp_path), "dev")
    line = caught.value.one_line()
    assert "stack 'dev': missing required configuration value 'shop:domain'" in line
    assert "add `shop:domain: <value>` under `config:` in stacks/Pulumi.dev.yaml" in line


def test_missing_stack_file_lists_the_existing_stacks(tmp_path: Path) -> None:
    write(tmp_path, {"Pulumi.yaml": PROJECT, "stacks/Pulumi.dev.yaml": "", "stacks/Pulumi.prod.yaml": ""})
    with pytest.raises(InputError) as caught:
        load_stack_config(load_project(tmp_path), "qa")
    assert caught.value.one_line() == (
        "stacks/Pulumi.qa.yaml: stack 'qa' has no config file (stacks found: dev, prod) (see --stack)"
    )


def test_malformed_stack_file_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, {"Pulumi.yaml": "name: p\nruntime: python\n", "Pulumi.dev.yaml": "config:\n  p:a: 1\n  p:b: [\n"})
    with pytest.raises(InputError, match=r"Pulumi.dev.yaml:\d+: malformed YAML in stack config file"):
        load_stack_config(load_project(tmp_path), "dev")


def test_value_declared_secret_must_be_encrypted(tmp_path: Path) -> None:
    write(tmp_path, {"Pulumi.yaml": PROJECT, "stacks/Pulumi.dev.yaml": "config:\n  shop:domain: d\n  shop:dbPassword: plain\n"})
    with pytest.raises(InputError) as caught:
        load_stack_config(load_project(tmp_path), "dev")
    assert "'shop:dbPassword' is declared secret and must be a secure value" in caught.value.one_line()
    assert "write `shop:dbPassword: {secure: <anything>}` (offline, a dummy value is fine" in caught.value.one_line()
    assert "plain" not in caught.value.one_line().replace("pulumi config", "")


def test_config_key_positions_are_the_first_line_setting_each_key() -> None:
    from dpaguard.source.project import config_key_positions

    text = "config:\n  scaleway:region: fr-par\n  # scaleway:zone: nl-ams-1\n\tdpa:x: 1\n  scaleway:region: nl-ams\n  plain: 2\n"
    assert config_key_positions(text) == {"scaleway:region": (2, 3), "dpa:x": (4, 2)}
