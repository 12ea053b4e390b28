"""Policy engines behind one interface: embedded (regopy, the default) or an OPA server (`--opa-url`)."""

from __future__ import annotations

from typing import Any

from dpaguard.engine.interface import DECISIONS_PATH, Engine, EngineError


def create_engine(policy: Any, *, opa_url: str | None = None, opa_timeout: float = 10.0) -> Engine:
    """The OPA engine when `opa_url` is given, else the embedded one; both loaded with `policy`."""
    if opa_url:
        from dpaguard.engine.opa import OpaEngine

        return OpaEngine(policy, url=opa_url, timeout=opa_timeout)
    from dpaguard.engine.embedded import EmbeddedEngine

    return EmbeddedEngine(policy)


__all__ = ["create_engine", "Engine", "EngineError", "DECISIONS_PATH"]
