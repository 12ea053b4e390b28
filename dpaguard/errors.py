"""The application's error hierarchy: one base class, caught once in the CLI's main()."""

from __future__ import annotations

from urllib.parse import urlsplit


class DpaguardError(Exception):
    """Base of every error the user can cause or fix; printed as one line, exit code 2."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def one_line(self) -> str:
        """The message as printed on stderr: one line, with the hint when there is one."""
        text = " ".join(str(self).split())
        return f"{text} ({self.hint})" if self.hint else text

    def wrap(self, context: str) -> "DpaguardError":
        """The same error with a short context phrase in front ("render stack prod: ...")."""
        wrapped = type(self).__new__(type(self))
        DpaguardError.__init__(wrapped, f"{context}: {self}", hint=self.hint)
        return wrapped


class UsageError(DpaguardError):
    """Options that contradict each other or name something that does not exist."""


class InputError(DpaguardError):
    """A file the user gave (project, stack config, state export, policy data) is missing or malformed."""


class ProgramError(DpaguardError):
    """The user's Pulumi program failed, hung or could not be started."""


class PolicyError(DpaguardError):
    """The policy set (catalogue, DPA tables, Rego, waivers) is missing or malformed."""


class EngineError(DpaguardError):
    """A policy engine could not give an answer: evaluation fails closed."""


class OutputError(DpaguardError):
    """A report could not be written."""


def shown_url(url: str) -> str:
    """A server's URL as a message may show it: `scheme://host:port`, nothing else.

    Userinfo, path, query and fragment can each carry a credential (`/v1/<token>/`, `?key=`), so an
    error line names the server only; a URL that cannot be split is not repeated at all.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(a malformed URL)"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    shown_port = f":{port}" if port else ""
    return f"{parts.scheme}://{host}{shown_port}" if parts.scheme and host else "(a malformed URL)"
