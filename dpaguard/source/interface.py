"""Where deployments come from: a Pulumi program rendered offline, or a `pulumi stack export` file."""

from __future__ import annotations

from typing import Protocol

from dpaguard.errors import InputError, ProgramError
from dpaguard.model import Deployment


class SourceError(InputError):
    """A deployment could not be produced from its source."""


class Source(Protocol):
    """Anything that yields one stack's deployment."""

    def load(self) -> Deployment:
        """Produce the deployment, or raise SourceError / ProgramError with a one-line message."""
        ...


__all__ = ["Source", "SourceError", "ProgramError", "Deployment"]
