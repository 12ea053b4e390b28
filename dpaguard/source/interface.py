"""What every source of deployments (a Pulumi program rendered offline, a `pulumi stack export` file) raises."""

from __future__ import annotations

from dpaguard.errors import InputError, ProgramError


class SourceError(InputError):
    """A deployment could not be produced from its source."""


__all__ = ["SourceError", "ProgramError"]
