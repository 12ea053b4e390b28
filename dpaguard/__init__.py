"""dpaguard: keep a Pulumi-managed estate inside its GDPR Data Processing Agreement."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    __version__: str


def __getattr__(name: str) -> str:
    """`__version__`, read from the installed metadata when first asked for: the launcher every program and tool
    starts under (`python -m dpaguard.contain`) never asks, and importlib.metadata costs it a tenth of a second."""
    if name != "__version__":
        raise AttributeError(f"module 'dpaguard' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("dpaguard")
    except PackageNotFoundError:  # running from a source tree that was not installed
        found = "0.0.0+source"
    globals()["__version__"] = found
    return found


__all__ = ["__version__"]
