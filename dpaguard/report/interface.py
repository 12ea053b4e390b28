"""The reporter interface: every reporter is a pure function from a Result to text."""

from __future__ import annotations

from typing import Protocol

from dpaguard.model import Result


class Reporter(Protocol):
    """A pure renderer: no files, no stdout, no clock; only the CLI writes what it returns."""

    def __call__(self, result: Result) -> str:
        ...


__all__ = ["Reporter", "Result"]
