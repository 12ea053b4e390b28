"""What an OPA server's failures say: one line naming the URL's step and the policy file, never the input.

A timeout is told from a refused connection however deep the client wrapped it; OPA's compile
errors (`errors[]` with locations) name the policy file and line; an evaluation error may quote
values of the input, so for queries only its code and the policy locations are kept.
"""

from __future__ import annotations

import json
import re
from typing import Callable

import requests
import urllib3
from opa_client.errors import DeletePolicyError, PolicyNotFoundError, RegoParseError

# "dpaguard_rev_<sha16>/rego/x.rego:12: eval_conflict_error" inside an OPA evaluation error message
_LOCATION = re.compile(r"(\S+?\.rego):(\d+): ([a-z_]+_error)")


def _timed_out(error: BaseException) -> bool:
    """Whether a failure is, underneath, a timeout (and not a refused connection).

    With retries off, urllib3 reports a read timeout as MaxRetryError(reason=ReadTimeoutError),
    which requests turns into a plain ConnectionError; and urllib3's NewConnectionError (refused)
    is, for history's sake, a subclass of its ConnectTimeoutError.
    """
    causes = _chain(error)
    if any(isinstance(c, (urllib3.exceptions.NewConnectionError, ConnectionRefusedError)) for c in causes):
        return False
    return any(isinstance(c, (TimeoutError, urllib3.exceptions.TimeoutError)) for c in causes)


def _chain(error: BaseException) -> list[BaseException]:
    """The error and everything it wraps (args, reason, cause, context)."""
    found: list[BaseException] = []
    seen: set[int] = set()
    stack: list[object] = [error]
    while stack:
        item = stack.pop()
        if id(item) in seen or item is None:
            continue
        seen.add(id(item))
        if isinstance(item, BaseException):
            found.append(item)
            stack.extend([*item.args, getattr(item, "reason", None), item.__cause__, item.__context__])
    return found


def is_parse_error(error: Exception) -> bool:
    """Whether OPA refused a module for its syntax (reported before the errors it causes elsewhere)."""
    return isinstance(error, RegoParseError) and any(
        isinstance(item, dict) and item.get("code") == "rego_parse_error" for item in error.errors
    )


def shown(value: object) -> str:
    """A value the server sent, as an error may quote it: JSON, one line, at most 80 characters."""
    if not isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)[:80]
    return value if re.fullmatch(r"[0-9a-f]{1,80}", value) else json.dumps(value[:80], ensure_ascii=True)


def describe(error: BaseException, *, timeout: float, place: Callable[[str], str], quote_server: bool = True) -> str:
    """What went wrong, on one line: a timeout, a refused connection, OPA's own words, a compile error's files and lines."""
    if isinstance(error, requests.Timeout) or _timed_out(error):
        return f"no answer within {timeout:g} s"
    if isinstance(error, requests.ConnectionError):
        return "cannot connect (connection refused or host unreachable)"
    if isinstance(error, requests.HTTPError):
        response = error.response
        status = response.status_code if response is not None else "?"
        return f"HTTP {status}{_opa_message(response, quote_server, place)}"
    if isinstance(error, RegoParseError):
        return _compile_errors(error, place)
    if isinstance(error, (DeletePolicyError, PolicyNotFoundError)):
        return f"{error.expression}: {error.message}"
    if isinstance(error, ValueError):  # json.JSONDecodeError, requests' JSONDecodeError
        return "the answer is not JSON"
    if isinstance(error, requests.RequestException):
        return f"request failed ({type(error).__name__})"
    return f"{type(error).__name__}"


def _opa_message(response: requests.Response | None, quote_server: bool, place: Callable[[str], str]) -> str:
    """OPA's {"code", "message", "errors"} body of a failed call, on one line.

    An evaluation error's message can quote values of the input (a builtin's argument):
    for queries only the error code and the policy locations (`file.rego:12`) are kept.
    """
    if response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    code, message = body.get("code"), body.get("message")
    if not quote_server:
        places = _LOCATION.findall(str(message or ""))
        message = ", ".join(dict.fromkeys(f"{place(f)}:{row}: {kind}" for f, row, kind in places))
    text = ": ".join(str(part) for part in (code, message) if part)
    return f" ({' '.join(text.split())[:300]})" if text else ""


def _compile_errors(error: RegoParseError, place_of: Callable[[str], str]) -> str:
    """OPA's 400 errors[] as `file:row:col: code: message`, file being the policy file."""
    lines: list[str] = []
    for item in error.errors[:3]:
        if not isinstance(item, dict):
            continue
        location = item.get("location") or {}
        place = place_of(str(location.get("file", "")))
        if location.get("row"):
            place = f"{place}:{location['row']}"
            if location.get("col"):
                place = f"{place}:{location['col']}"
        lines.append(f"{place}: {item.get('code', 'error')}: {' '.join(str(item.get('message', '')).split())}")
    more = f" (+{len(error.errors) - 3} more)" if len(error.errors) > 3 else ""
    head = ": ".join(str(part) for part in (error.expression, error.message) if part) or "Rego error"
    return f"{head}: {'; '.join(lines)}{more}" if lines else str(head)
