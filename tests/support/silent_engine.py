"""An engine that decides nothing, for tests that judge only the decisions of another check (checkov, the credential scan)."""

from __future__ import annotations


class SilentEngine:
    """Satisfies the Engine protocol's calls and returns no decision."""

    name = "stub"

    def prepare(self, resources: int) -> None:
        pass

    def decide(self, facts: object) -> list[object]:
        return []

    def close(self) -> None:
        pass
