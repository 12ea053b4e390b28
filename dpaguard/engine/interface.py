"""The policy-engine interface: facts in, decisions out, the same for every engine.

An engine is built from a Policy (the Rego modules and the DPA data of policies/) and asked to
evaluate the facts the normaliser produced. It never returns a partial or empty answer when it
could not evaluate: it raises EngineError, so that evaluation fails closed.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol

from dpaguard.errors import EngineError
from dpaguard.facts import Facts
from dpaguard.model import Decision

# The query every engine answers: the union of all packages' decisions (policies/rego/main.rego).
DECISIONS_PATH = "dpaguard/main/decisions"


class RegoPolicy(Protocol):
    """What an engine evaluates of a loaded policy set: its Rego modules and its DPA data."""

    @property
    def rego_modules(self) -> Mapping[str, str]: ...

    @property
    def data(self) -> Mapping[str, Any]: ...


class PolicyLike(RegoPolicy, Protocol):
    """What the OPA engines and bundles need of a loaded policy set (dpaguard.policy.Policy): also its digest, which names it on a server."""

    @property
    def sha256(self) -> str: ...


class Engine(Protocol):
    """Evaluates the DPA controls over normalised facts."""

    name: str
    # What every report of a run with this engine must say (a fallback from the default engine).
    notices: tuple[str, ...]

    def prepare(self, resources: int) -> None:
        """Get ready for an evaluation of about this many resources (the embedded engine starts its workers)."""
        ...

    def decide(self, facts: Facts) -> list[Decision]:
        """Every decision for these facts; raises EngineError when no complete answer can be had."""
        ...

    def close(self) -> None:
        """Release what the engine holds (connections, interpreters)."""
        ...


__all__ = ["Engine", "EngineError", "DECISIONS_PATH", "PolicyLike", "RegoPolicy"]
