"""`dpaguard audit`'s stack exports, each paired with the stack config file of its stack.

One state and one config are paired directly; otherwise each config, named `Pulumi.<stack>.yaml`,
goes with the state file of that stack. A stack is audited from one state file only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from dpaguard.errors import UsageError
from dpaguard.model import Deployment
from dpaguard.urn import short_stack_name


def _config_stack(path: Path) -> str:
    name = path.name
    for suffix in (".yaml", ".yml"):
        if name.startswith("Pulumi.") and name.endswith(suffix) and len(name) > len("Pulumi.") + len(suffix):
            return name[len("Pulumi."):-len(suffix)]
    raise UsageError(f"{path}: with several --state files, a --stack-config must be named Pulumi.<stack>.yaml")


def load_states(states: Sequence[Path], stack_configs: Sequence[Path]) -> list[Deployment]:
    """Read stack exports, each with the stack config file of its stack when one is given."""
    from dpaguard.source.state import load_state

    if len(states) == 1 and len(stack_configs) == 1:
        deployments = [load_state(states[0], stack_config=stack_configs[0])]
    else:
        by_stack: dict[str, Path] = {}
        for config in stack_configs:
            stack = _config_stack(config)
            if stack in by_stack:
                raise UsageError(f"{config}: a second --stack-config for stack '{stack}'")
            by_stack[stack] = config
        deployments = []
        for path in states:
            deployment = load_state(path)
            short = short_stack_name(deployment.stack)
            if short in by_stack:
                deployment = load_state(path, stack_config=by_stack.pop(short))
            deployments.append(deployment)
        if by_stack:
            stacks = ", ".join(sorted(by_stack))
            raise UsageError(f"{next(iter(by_stack.values()))}: no --state file of stack {stacks}")
    seen: dict[str, str] = {}
    for deployment, path in zip(deployments, states):
        if deployment.stack in seen:
            raise UsageError(f"{path}: stack '{deployment.stack}' is already audited from {seen[deployment.stack]}")
        seen[deployment.stack] = str(path)
    return deployments
