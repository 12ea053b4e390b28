"""The real `pulumi` CLI on a scratch copy of the house estate, fully offline.

A scratch copy holds the project (Pulumi.yaml, infra/, stacks/) with its virtualenv pointed at the
venv running the tests, a local file backend, and stack files whose `secure:` values are set again
with a test passphrase (the project's own passphrase is not the tests' to know). The CLI finds the
Python language host, its shims and the Scaleway provider DOUBLE in `.tools/bin` (`.ci/real-tools`),
downloads no plugin and checks for no update. Everything else is real: the engine, the program, the
SDKs, the DataPacket dynamic provider and the policy pack.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from support import POLICIES, REPO
from support.real_tools import real_tool

PASSPHRASE = "dpaguard-test-passphrase"
# The pack as the CLI's binary-analyzer form starts it (see policies/pulumi-analyzer-dpaguard).
PACK_LAUNCHER = POLICIES / "pulumi-analyzer-dpaguard"
# Plaintext the scratch stacks' secrets are set to: no output may contain them.
SECRET_VALUES = {
    "datapacket:apiKey": "dp-canary-api-key-5c1e",
    "dpa-estate:dbPassword": "Db-canary-Passw0rd-77aa",
    "dpa-estate:redisPassword": "Redis-canary-Passw0rd-91bf",
}


@dataclass
class PulumiProject:
    """A scratch copy of the estate and the environment that runs the real CLI on it."""

    root: Path
    env: dict[str, str]

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """`pulumi ARGS` in the project, non-interactive, without colour."""
        return subprocess.run(
            [str(real_tool("pulumi")), *args, "--non-interactive", "--color", "never"],
            cwd=self.root, env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def preview(self, stack: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`pulumi preview` of `stack` with dpaguard's policy pack."""
        return self.run("preview", "--stack", stack, "--policy-pack", str(PACK_LAUNCHER), *extra, env=env)

    def init_stack(self, stack: str) -> None:
        """Create `stack` in the file backend and set its secrets with the test passphrase."""
        created = self.run("stack", "init", stack)
        assert created.returncode == 0, created.stdout + created.stderr
        for key, value in self._secret_keys(stack).items():
            set_ = self.run("config", "set", "--secret", "--stack", stack, key, value)
            assert set_.returncode == 0, set_.stdout + set_.stderr

    def _secret_keys(self, stack: str) -> dict[str, str]:
        removed: list[str] = json.loads((self.root / f".secret-keys.{stack}.json").read_text(encoding="utf-8"))
        return {key: SECRET_VALUES.get(key, f"canary-{key}") for key in removed}

    def add_program_lines(self, text: str) -> None:
        """Append Python to the program's entry point (a change a pull request would make)."""
        main = self.root / "infra" / "__main__.py"
        main.write_text(main.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")

    def resource_count(self, stack: str) -> int:
        """How many resources the stack's state holds (0 for a stack never updated)."""
        exported = self.run("stack", "export", "--stack", stack)
        assert exported.returncode == 0, exported.stderr
        deployment = json.loads(exported.stdout).get("deployment", {})
        return len(deployment.get("resources") or [])


def _strip_secrets(stack_file: Path) -> list[str]:
    """Remove the encryption salt and every `secure:` value; return the keys removed."""
    data: dict[str, Any] = yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}
    data.pop("encryptionsalt", None)
    config = data.get("config") or {}
    removed = sorted(k for k, v in config.items() if isinstance(v, dict) and "secure" in v)
    for key in removed:
        del config[key]
    stack_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return removed


def scratch_estate(root: Path) -> PulumiProject:
    """A scratch copy of the house estate under `root`, ready for `init_stack`."""
    root.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(REPO / "infra", root / "infra", ignore=ignore)
    shutil.copytree(REPO / "stacks", root / "stacks", ignore=ignore)
    project: dict[str, Any] = yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8"))
    # The venv running the tests has the program's packages (pulumi, pulumiverse-scaleway, dpa_datapacket).
    project["runtime"]["options"]["virtualenv"] = sys.prefix
    (root / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False), encoding="utf-8")
    for stack_file in sorted((root / "stacks").glob("Pulumi.*.yaml")):
        stack = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
        (root / f".secret-keys.{stack}.json").write_text(json.dumps(_strip_secrets(stack_file)), encoding="utf-8")
    tools = real_tool("pulumi").parent
    for name in ("pulumi-language-python", "pulumi-language-python-exec", "pulumi-resource-pulumi-python",
                 "pulumi-resource-scaleway"):
        real_tool(name)
    venv_bin = Path(sys.executable).parent
    home = root / "home"
    home.mkdir()
    env = {
        # The activated venv first, as a platform engineer runs `pulumi`: the v3.68 language host
        # takes `python3` from PATH (it predates the runtime options the v3.276 CLI sends).
        "PATH": f"{venv_bin}:{tools}:/usr/local/bin:/usr/bin:/bin",
        "VIRTUAL_ENV": sys.prefix,
        "HOME": str(home),
        "PULUMI_HOME": str(root / "pulumi-home"),
        "PULUMI_BACKEND_URL": f"file://{root / 'state'}",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
        "LANG": "C.UTF-8",
    }
    (root / "state").mkdir()
    return PulumiProject(root, env)


def stack_resources(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """URN -> resource of a stack export, a `dpaguard render` output or the pack's DPAGUARD_PACK_RESOURCES file."""
    resources = document.get("deployment", document).get("resources") or []
    return {r["urn"]: r for r in resources}
