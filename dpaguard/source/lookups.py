"""`--lookups FILE`: answers for a program's lookups (data sources), which offline answer nothing.

A program reads the world through lookups (`scaleway.account.get_project(name="default")`,
`get_ipam_ips_output(...)`): `pulumi preview` asks the provider, an offline render cannot. Without
an answer a lookup's result is unknown, and every finding resting on it is undetermined and names
it. The file, YAML or JSON, is a list of entries:

    - token: scaleway:account/getProject:getProject      # the function's token, as the SDK sends it
      args: {name: default}                               # optional: each must equal the program's argument
      result: {id: 11111111-2222-3333-4444-555555555555, organizationId: ...}

The first entry whose token is the function's and whose `args` all equal the program's arguments
answers the call (`args` left out: every call). Argument and result keys are the provider's names
(camelCase); `project_id` is read as `projectId`. Fields of the result an entry leaves out stay unknown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from dpaguard.errors import InputError
from dpaguard.inputs import MAX_CONFIG_BYTES, UnfitInput, read_input_text
from dpaguard.model import Deployment, Finding

HELP = (
    "answers for the program's lookups (data sources), which answer nothing offline: a YAML or JSON list of "
    "{token, args, result}, e.g. `- {token: 'scaleway:account/getProject:getProject', args: {name: default}, "
    "result: {id: ...}}`; the first entry whose token matches and whose args all equal the program's answers "
    "(args left out: any call). Unanswered, a lookup's result is unknown and the findings resting on it say so"
)
_KEYS = frozenset({"token", "args", "result"})


@dataclass(frozen=True)
class LookupAnswer:
    """One entry of a `--lookups` file: the function's token, the arguments it must be called with, its result."""

    token: str
    args: Mapping[str, Any]
    result: Mapping[str, Any]

    def request(self) -> dict[str, Any]:
        """The entry as the runner's request carries it."""
        return {"token": self.token, "args": dict(self.args), "result": dict(self.result)}


def _entry(number: int, entry: Any) -> LookupAnswer:
    where = f"entry {number}"
    if not isinstance(entry, dict):
        raise InputError(f"{where} is not a mapping of token, args and result")
    unknown = sorted(str(k) for k in set(entry) - _KEYS)
    if unknown:
        raise InputError(f"{where} has unknown key(s) {', '.join(unknown)} (token, args, result)")
    token, args, result = entry.get("token"), entry.get("args") or {}, entry.get("result")
    if not isinstance(token, str) or token.count(":") < 2:
        raise InputError(f"{where}: token must be a function token like 'scaleway:account/getProject:getProject'")
    if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
        raise InputError(f"{where} ({token}): args must be a mapping of argument names to values")
    if not isinstance(result, dict) or not all(isinstance(k, str) for k in result):
        raise InputError(f"{where} ({token}): result must be a mapping of result fields to values")
    try:
        json.dumps([args, result], allow_nan=False)
    except (TypeError, ValueError):
        raise InputError(f"{where} ({token}): args and result must be plain JSON values (no dates, no NaN)") from None
    return LookupAnswer(token, args, result)


def load_lookups(path: Path) -> tuple[LookupAnswer, ...]:
    """The entries of a `--lookups` file; InputError (one line, exit 2) when it is unreadable or malformed."""
    try:
        try:
            text = read_input_text(path, MAX_CONFIG_BYTES)
        except (OSError, UnfitInput) as error:
            raise InputError(f"cannot read it ({getattr(error, 'strerror', None) or error})") from None
        except UnicodeDecodeError:
            raise InputError("not UTF-8 text") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            at = f" at line {mark.line + 1}" if mark is not None else ""
            raise InputError(f"not YAML or JSON{at}") from None
        if not isinstance(data, list):
            raise InputError("must be a list of {token, args, result} entries")
        return tuple(_entry(number, entry) for number, entry in enumerate(data, start=1))
    except InputError as error:
        raise error.wrap(f"--lookups {path}") from None


def _rests_on(finding: Finding, provenance: Mapping[str, Sequence[str]]) -> list[str]:
    """The unanswered lookups a finding rests on: those of the inputs its message names, else, when it is
    undetermined or judged an unknown value, every one its resource's inputs rest on."""
    named = [key for key in provenance if re.search(rf"(?<![A-Za-z0-9_]){re.escape(key)}(?![A-Za-z0-9_])", finding.message)]
    if not named and finding.status != "undetermined" and "unknown" not in finding.message:
        return []
    return sorted({token for key in (named or provenance) for token in provenance[key]})


def annotate_findings(findings: Sequence[Finding], deployments: Sequence[Deployment]) -> tuple[Finding, ...]:
    """Each finding on a resource whose inputs rest on a lookup that answered nothing offline, saying so."""
    provenance = {urn: keys for d in deployments for urn, keys in d.unanswered_lookups.items()}
    if not provenance:
        return tuple(findings)
    answer = []
    for finding in findings:
        tokens = _rests_on(finding, provenance[finding.urn]) if finding.urn in provenance else []
        if tokens:
            finding = replace(finding, message=(
                f"{finding.message} (rests on {len(tokens)} lookup(s) that answered nothing offline: "
                f"{', '.join(tokens)}; answer them with --lookups FILE)"))
        answer.append(finding)
    return tuple(answer)
