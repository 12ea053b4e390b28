"""Run the estate program of one stack under the Pulumi SDK's mock runtime and print what it registered.

Usage: python estate_harness.py PROJECT_DIR STACK  ->  JSON list on stdout of
{"type", "name", "urn", "parent", "custom", "inputs", "additionalSecretOutputs"}; inputs are the wire form the SDK sent (camelCase,
secrets as signature-marked objects). `secure:` config values become secret placeholders.
Kept beside the tests (not test_*.py) so it also runs before dpaguard's own offline renderer exists.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import json_format

import pulumi
from pulumi.runtime import mocks, settings as runtime_settings, stack as runtime_stack
from pulumi.runtime.config import set_all_config
from pulumi.runtime.sync_await import _sync_await

SECRET_PLACEHOLDER = "offline-secret-placeholder"


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class _CapturingMonitor(mocks.MockMonitor):
    registered: list[dict[str, Any]]

    def __init__(self, m: pulumi.runtime.Mocks) -> None:
        super().__init__(m)
        self.registered = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        self.registered.append(
            {
                "type": request.type,
                "name": request.name,
                "urn": response.urn,
                "parent": request.parent,
                "custom": request.custom,
                "inputs": json_format.MessageToDict(request.object),
                "additionalSecretOutputs": list(request.additionalSecretOutputs),
            }
        )
        return response


def _config_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def main(project_dir: Path, stack: str) -> None:
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())
    name = project["name"]
    stack_file = project_dir / project.get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml"
    stack_config = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, decl in (project.get("config") or {}).items():
        if ":" not in key and isinstance(decl, dict) and "default" in decl:
            config[f"{name}:{key}"] = _config_value(decl["default"])
    for key, value in stack_config.items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full] = SECRET_PLACEHOLDER
            secret_keys.append(full)
        else:
            config[full] = _config_value(value)
    set_all_config(config, secret_keys)
    monitor = _CapturingMonitor(_Mocks())
    mocks.set_mocks(monitor.mocks, project=name, stack=stack, preview=True, monitor=monitor)
    main_dir = project_dir / str(project.get("main", "."))

    def program() -> None:
        runpy.run_path(str(main_dir), run_name="__main__")

    _sync_await(runtime_stack.run_pulumi_func(program))
    json.dump(monitor.registered, sys.stdout)


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), sys.argv[2])
