"""The HTTP side of the OPA-server engine: opa_client's client at OPA's own paths, and each exchange bounded as a whole.

requests' timeout bounds each read of the socket, not the answer: a server sending a byte a second
would hold a run for ever, so every exchange runs in a helper thread the engine waits for at most
its timeout.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, TypeVar

import requests
from opa_client import OpaClient

from dpaguard.engine.opa_revision import HeldModule, held_modules

_T = TypeVar("_T")


class Deadline(requests.Timeout):
    """An HTTP exchange as a whole took longer than the engine's timeout."""


class Client(OpaClient):  # type: ignore[misc]
    """opa_client's client, listing policies at OPA's own path.

    OpaClient lists `/v1/policies/`, which OPA's router answers with a redirect to the absolute
    path `/v1/policies`: one round trip more, and behind a reverse proxy with a path prefix the
    redirect would leave the prefix out.
    """

    def get_policies_list(self) -> list[str]:
        """The ids of every policy module the server holds."""
        return [module.id for module in self.get_policies_held()]

    def get_policies_held(self) -> list[HeldModule]:
        """Every policy module the server holds: id, raw Rego text, and the package OPA parsed."""
        response = self._session.get(f"{self.root_url}/policies", timeout=self.timeout)
        response.raise_for_status()
        return held_modules(response.json())


def bounded(fn: Callable[[], _T], timeout: float, expired: Callable[[], None]) -> _T:
    """Run one HTTP exchange in a helper thread and wait for it at most `timeout` seconds (`expired` runs when it did not end).

    requests' timeout bounds each read of the socket, not the answer: a server sending a byte
    a second never trips it. On expiry the exchange is left to its thread (a daemon, ended
    by requests' own read timeout or the server), and the caller's session is replaced (`expired`).
    """
    outcome: list[tuple[bool, Any]] = []

    def exchange() -> None:
        try:
            outcome.append((True, fn()))
        except BaseException as error:  # handed to the waiting thread, which raises it
            outcome.append((False, error))

    worker = threading.Thread(target=exchange, name="dpaguard-opa-request", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive() or not outcome:
        expired()
        raise Deadline(f"no complete answer within {timeout:g} s")
    ok, value = outcome[0]
    if ok:
        return value  # type: ignore[no-any-return]
    raise value
