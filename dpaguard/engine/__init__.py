"""Policy engines behind one interface.

    opa      the real OPA (v1, Go) in this process, through opa-golib-python-bindings: the default
    regopy   rego-cpp in this process: the fallback where the OPA wheel cannot load
    an OPA server (`--opa-url`): the team's `opa run --server`

All three are held to OPA's answers by the conformance suite (tests/conformance/). When the
default cannot load, the next one is used and says so in every report, never silently.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from dpaguard.engine.interface import DECISIONS_PATH, Engine, EngineError, PolicyLike, RegoPolicy

ENGINES = ("opa", "regopy")
DEFAULT_ENGINE = "opa"
# What the CLI (--opa-url), the pack (opaUrl) and the OPA engine each say of a URL that is not one.
OPA_URL_FORM = "an http:// or https:// URL with a host (and a port from 1 to 65535)"


def is_opa_url(url: object) -> bool:
    """Whether `url` is an OPA server address dpaguard can use: http(s)://host[:port][/path]."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:  # an unclosed IPv6 bracket, a port that is not a number or out of range
        return False


def create_engine(
    policy: PolicyLike, *, engine: str | None = None, opa_url: str | None = None, opa_timeout: float = 10.0
) -> Engine:
    """The engine asked for (`engine`, or an OPA server at `opa_url`), else the default with its fallback.

    An engine named explicitly must load (EngineError otherwise); the default falls back to
    regopy with a notice when the OPA wheel is not installed or does not load on this platform.
    """
    if opa_url:
        from dpaguard.engine.opa import OpaEngine

        return OpaEngine(policy, url=opa_url, timeout=opa_timeout)
    if engine not in (None, *ENGINES):
        raise EngineError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    if engine == "regopy":
        return _regopy(policy)
    from dpaguard.engine.opa_inprocess import WHEEL, OpaInProcessEngine, load_bindings

    if engine == "opa":
        return OpaInProcessEngine(policy)
    try:
        load_bindings()
    except EngineError as error:
        fallback = _regopy(policy)
        fallback.notices = (
            f"evaluated with regopy (rego-cpp), not OPA: {error} "
            f"(install it: pip install --no-deps --ignore-requires-python {WHEEL})",
        )
        return fallback
    return OpaInProcessEngine(policy)


def _regopy(policy: RegoPolicy) -> Engine:
    from dpaguard.engine.embedded import EmbeddedEngine

    return EmbeddedEngine(policy)


__all__ = ["create_engine", "is_opa_url", "OPA_URL_FORM", "Engine", "EngineError", "DECISIONS_PATH", "DEFAULT_ENGINE", "ENGINES", "PolicyLike"]
