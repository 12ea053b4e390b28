"""The OPA-server engine: the same Rego and DPA data, evaluated by the team's `opa run --server`.

Talks OPA's v1 REST API through `opa-python-client` (package `opa_client`):

    GET    /health                              is the server up?
    GET    /v1/data/system/bundles              does a bundle own `dpaguard` (`opa run --bundle`)?
    GET    /v1/policies                         (after each query) every module: id, raw text, OPA's package
    GET    /v1/data/dpa                         (bundle) the DPA tables it holds
    POST   /v1/data/dpaguard/main/decisions?strict-builtin-errors=true&provenance=true   (bundle)
    PUT    /v1/policies/dpaguard_rev_<sha16>/<rel>   (push) each module of this revision
    POST   /v1/data/dpaguard_rev_<sha16>/main?strict-builtin-errors=true   (push) {"input": facts}

Two ways to hold the policies, chosen by what the server says:

- **A bundle** (`dpaguard bundle`, served by `opa run --server --bundle dpa.tar.gz`): when
  `data.system.bundles` names a bundle whose manifest roots cover `dpaguard`, the server's
  policies and `data.dpa` are that bundle's, read-only through the API (OPA answers 400 "path ...
  is owned by bundle"). Nothing is pushed. The server serves that one revision: its manifest
  revision must be the local policy digest (Policy.sha256), else the run stops naming both; the
  modules of the server in `dpaguard` packages must be exactly the local ones, text for text (a
  bundle edited after it was written, or with one module added, is refused), and `data.dpa` the
  local data. Each query is `POST /v1/data/dpaguard/main/decisions?strict-builtin-errors=true&
  provenance=true`, and the revision OPA's provenance block names for the bundle that answered is
  checked again, so a bundle replaced between the check and the query cannot answer for these
  policies.
- **Pushed modules** (any other server): the revision's modules go into a package namespace of
  their own, `dpaguard_rev_<sha16>`, its DPA tables included as a module (opa_revision.py), so
  that revisions pushed by many repositories coexist and never merge; nothing of another revision
  is ever deleted or overwritten. After each query the server's module set is checked: a module in
  a `dpaguard` package or in this revision's namespace that is not exactly one of this revision's
  (another id, or our id with other text), or one of ours missing, fails the run, since OPA would
  merge it into the rules. The query is the package `data.dpaguard_rev_<sha16>.main`,
  whose version rule states the full policy digest, so the answer proves which revision gave it.
  Modules are pushed in import order (OPA compiles the whole module set on every PUT and refuses a
  module calling a function of one it does not hold yet); re-sending a module the server holds
  unchanged is a no-op for OPA, so every run sends them all and concurrent runs of one revision
  push together.

`?strict-builtin-errors=true`: a builtin that fails (a type error on odd input) is an error of
the query, not a silently undefined expression that would drop a violation.

Fail closed: every way of not getting a complete answer (refused, timeout, HTTP error, a Rego
compile error answered with OPA's `errors[]` locations, an undefined document, non-JSON, a
malformed decision, a foreign module) raises EngineError with one line that names the URL
(credentials removed) and never the input. `timeout` bounds each HTTP exchange as a whole
(connecting, sending, and reading the whole answer): requests' own timeout bounds each read only,
so a server that sends a byte a second would hold it for ever; each exchange runs in a helper
thread the engine waits for at most `timeout`. Requests are not retried, so a dead server costs at
most one `timeout` per call. An optional bearer token (OPA's `--authentication=token`) is read
from DPAGUARD_OPA_TOKEN; an https:// server's certificate is verified (a private CA:
REQUESTS_CA_BUNDLE).
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import urlsplit

import requests
from opa_client.errors import DeletePolicyError, PolicyNotFoundError, RegoParseError, TypeException

from dpaguard.engine.bundle import DATA_ROOT, POLICY_ROOT
from dpaguard.engine.interface import DECISIONS_PATH, PolicyLike
from dpaguard.engine.opa_errors import describe, is_parse_error, shown
from dpaguard.engine.opa_http import Client, bounded
from dpaguard.engine.opa_revision import (
    DATA_MODULE,
    VERSION_MODULE,
    VERSION_RULE,
    HeldModule,
    described,
    foreign,
    governs,
    module_id,
    namespace,
    push_order,
    revision_modules,
)
from dpaguard.engine.shaping import distinct, parse_decisions, rego_input
from dpaguard.errors import EngineError, PolicyError, shown_url
from dpaguard.facts import Facts
from dpaguard.model import ControlId, Decision, DecisionStatus, Urn

HINT = "is the OPA server running? --opa-url URL, --opa-timeout SECONDS"
TOKEN_ENV = "DPAGUARD_OPA_TOKEN"
DATA_PATH = DATA_ROOT  # data.dpa (bundle mode)
BUNDLE_HINT = "dpaguard bundle --output FILE writes the bundle of the local policies"
FOREIGN_HINT = (
    "only dpaguard may write dpaguard's packages on a shared OPA server: remove the module "
    "(DELETE /v1/policies/<id>) and restrict who can write (OPA --authorization)"
)
_T = TypeVar("_T")


class _Replaced(Exception):
    """The server answered with another run's policies or data."""


def owns(root: object, path: str) -> bool:
    """Whether a bundle root owns a data path (OPA's isPathOwned: they agree on every segment both have)."""
    if not isinstance(root, str):
        return False
    return all(a == b for a, b in zip(path.split("/"), [p for p in root.split("/") if p]))


def display_url(url: str) -> str:
    """The URL as errors show it: scheme, host and port only (errors.shown_url)."""
    return shown_url(url)


class OpaEngine:
    """Evaluates the DPA controls on an OPA server through its REST API (fails closed)."""

    name = "opa-server"
    notices: tuple[str, ...] = ()

    def __init__(self, policy: PolicyLike, *, url: str, timeout: float = 10.0) -> None:
        from dpaguard.engine import OPA_URL_FORM, is_opa_url

        if not is_opa_url(url):
            raise EngineError(f"OPA server URL {shown_url(url)} is not {OPA_URL_FORM}", hint=HINT)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if timeout <= 0:
            raise EngineError(f"OPA timeout must be positive, not {timeout}", hint=HINT)
        self.url = display_url(url)
        self.timeout = float(timeout)
        self._policy = policy
        self._sha = policy.sha256
        try:
            # what a bundle's data.dpa is compared with; the push sends the tables as a module (opa_revision)
            self._data_json = json.dumps(dict(policy.data), sort_keys=True, ensure_ascii=True, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise EngineError(f"OPA server {self.url}: the DPA data is not JSON ({error})") from error
        self._ns = namespace(self._sha)
        try:
            self._modules = revision_modules(self._sha, policy.rego_modules, policy.data)
        except PolicyError as error:
            raise EngineError(f"OPA server {self.url}: {error}", hint=HINT) from None
        self._relpaths = {module_id(self._sha, rel): rel for rel in policy.rego_modules}
        self._relpaths[module_id(self._sha, VERSION_MODULE)] = "(dpaguard version module)"
        self._relpaths[module_id(self._sha, DATA_MODULE)] = "(dpaguard data module)"
        token = os.environ.get(TOKEN_ENV) or None
        hostname = str(parts.hostname)
        self._client = Client(
            host=f"[{hostname}]" if ":" in hostname else hostname,  # an IPv6 address
            port=port,
            ssl=parts.scheme == "https",
            token=token,
            retries=0,
            timeout=self.timeout,
        )
        base = parts.path.rstrip("/")
        # opa_client builds <scheme>://host:port/v1; a server behind a path prefix needs it kept.
        self._client.root_url = f"{self._client.schema}{self._client.host}:{port}{base}/v1"
        self._health_url = f"{self._client.schema}{self._client.host}:{port}{base}/health"
        self._lock = threading.Lock()
        self._loaded = False
        self._bundle: str | None = None  # the name of the server's bundle holding these policies, if any

    # -- the Engine protocol -------------------------------------------------------------------

    def prepare(self, resources: int) -> None:
        """Nothing to start: the server is already running."""

    def decide(self, facts: Facts) -> list[Decision]:
        """Every decision for these facts, from one query of the server; EngineError otherwise.

        Pushed, the revision's namespace is checked again after the query (a module added there
        meanwhile could have changed the answer). From a bundle, when the server answers with
        another revision (it activated another bundle meanwhile), its bundles are read again and
        the query repeated, once.
        """
        urns = [r["urn"] for r in facts["resources"]]
        unique, members = distinct(facts)
        shaped = rego_input(unique)
        # As the in-process engine sends them: resources equal in every fact but their identity
        # once (a generated estate of 4,000 holds 14 kinds), each under "@<position>" (no rule
        # prints a resource's own URN), their decisions given back to every member.
        shaped["resources"] = [{**r, "urn": f"@{i}"} for i, r in enumerate(shaped["resources"])]
        with self._lock:
            for attempt in (1, 2):
                if not self._loaded:
                    self._load()
                    self._loaded = True
                if self._bundle is None:
                    return self._expanded(self._pushed_decisions(shaped), urns, members)
                try:
                    return self._expanded(self._bundle_decisions(shaped, self._bundle), urns, members)
                except _Replaced as replaced:
                    self._loaded = False
                    if attempt == 2:
                        raise EngineError(str(replaced), hint=BUNDLE_HINT) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _pushed_decisions(self, shaped: dict[str, Any]) -> list[Decision]:
        body = self._call(
            f"query data.{self._ns}.main",
            lambda: self._client.query_rule(
                shaped,
                package_path=f"{self._ns}/main",
                query_params={"strict-builtin-errors": "true"},
            ),
            quote_server=False,
        )
        decisions = self._decisions(body)
        self._verify_pushed("after the query")
        return decisions

    def close(self) -> None:
        """Close the HTTP session; the modules stay on the server for the next run of this version."""
        self._client.close_connection()

    # -- loading -------------------------------------------------------------------------------

    def _load(self) -> None:
        # not opa_client's check_health, which answers False for a refused connection too
        healthy = self._call("GET /health", lambda: self._client._session.get(self._health_url, timeout=self.timeout).status_code == 200)
        if not healthy:
            raise EngineError(f"OPA server {self.url}: GET /health did not answer 200 (not ready)", hint=HINT)
        self._bundle = self._owning_bundle(self._call("read bundles", self._bundles))
        if self._bundle is not None:
            self._verify_bundle(self._bundle)
            return
        # Every module is sent, in import order, the version module last (it says the revision is
        # there once the rest is), and only into this revision's namespace: nothing another
        # revision or anyone else relies on is changed. OPA answers a PUT of the text it holds
        # without compiling (15 ms, against 280 ms for a listing of every module), so concurrent
        # runs of one revision cost little, and a module of ours someone changed is put right;
        # the module set is checked after each query.
        version = module_id(self._sha, VERSION_MODULE)
        order = push_order({pid: text for pid, text in self._modules.items() if pid != version})
        self._settle("push module", [*order, version], self._push)

    def _refuse_foreign(self, held: list[HeldModule], when: str) -> None:
        """EngineError when a module in a dpaguard package or this revision's namespace is not one of ours."""
        found = foreign(held, self._modules, (POLICY_ROOT, self._ns))
        if found:
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise EngineError(
                f"OPA server {self.url}: {described(found[0])}{more} is not one of the local policies' modules "
                f"({when}; OPA would merge it into dpaguard's rules and change the decisions)",
                hint=FOREIGN_HINT,
            )

    def _verify_pushed(self, when: str) -> None:
        """The server holds exactly this revision's modules in its namespace and nothing in `dpaguard`; EngineError otherwise."""
        held = self._call("list policies", self._client.get_policies_held)
        self._refuse_foreign(held, when)
        absent = sorted(set(self._modules) - {module.id for module in held})
        if absent:
            raise EngineError(
                f"OPA server {self.url}: {self._relpaths.get(absent[0], absent[0])} of policy revision {self._sha[:16]} "
                f"is not on the server ({when}; removed by another client?)",
                hint=HINT,
            )

    def _bundles(self) -> dict[str, Any]:
        """`data.system.bundles`: each bundle the server activated, with its manifest ({} when none)."""
        response = self._client._session.get(f"{self._client.root_url}/data/system/bundles", timeout=self.timeout)
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError("GET /v1/data/system/bundles answered a non-object")
        bundles = body.get("result", {})  # undefined (no `result`): no bundle
        if not isinstance(bundles, dict):
            raise ValueError("data.system.bundles is not an object")
        return bundles

    def _owning_bundle(self, bundles: Mapping[str, Any]) -> str | None:
        """The bundle whose roots cover `dpaguard`, when its revision is these policies; EngineError otherwise."""
        for name, info in sorted(bundles.items()):
            manifest = info.get("manifest") if isinstance(info, dict) else None
            if not isinstance(manifest, dict):
                continue
            roots = manifest.get("roots", [""])  # OPA's default when a manifest names none: everything
            if not isinstance(roots, list) or not any(owns(root, POLICY_ROOT) for root in roots):
                continue
            revision = manifest.get("revision")
            if revision != self._sha:
                raise EngineError(
                    f"OPA server {self.url}: bundle {shown(name)} holds policy revision {shown(revision)}, "
                    f"but the local policies are {self._sha}",
                    hint=BUNDLE_HINT,
                )
            return str(name)
        return None

    def _verify_bundle(self, bundle: str) -> None:
        """The server's `dpaguard` packages hold exactly the local modules, and `data.dpa` the local data.

        The revision is what the bundle says of itself; the text of each module and `data.dpa` are
        what OPA evaluates. A bundle edited after `dpaguard bundle` wrote it, or with a module
        added (issue 24 H1), is refused; so is any other module in a `dpaguard` or `dpa` package.
        """
        held = self._call("list policies", self._client.get_policies_held)
        local = {rel: text for rel, text in self._policy.rego_modules.items() if not rel.endswith("_test.rego")}
        matched: set[str] = set()
        for module in held:
            if not governs(module, (POLICY_ROOT, DATA_PATH)):  # a rule under data.dpa would be read as the DPA tables
                continue
            rel = next((r for r in local if module.id.endswith(f"/{r}") and local[r] == module.raw and r not in matched), None)
            if rel is None:
                raise EngineError(
                    f"OPA server {self.url}: bundle {shown(bundle)} has revision {self._sha} but {described(module)} "
                    "is not one of the local policies' modules (a bundle changed after dpaguard bundle wrote it)",
                    hint=BUNDLE_HINT,
                )
            matched.add(rel)
        for rel in sorted(set(local) - matched):
            raise EngineError(
                f"OPA server {self.url}: bundle {shown(bundle)} has revision {self._sha} but not the "
                f"local {rel} as it is (a bundle changed after dpaguard bundle wrote it)",
                hint=BUNDLE_HINT,
            )
        data = self._call("read data", lambda: self._client.get_data(DATA_PATH))
        if not isinstance(data, dict) or data.get("result") != json.loads(self._data_json):
            raise EngineError(
                f"OPA server {self.url}: bundle {shown(bundle)} has revision {self._sha} but its data.{DATA_PATH} "
                "is not the local DPA data (a bundle changed after dpaguard bundle wrote it)",
                hint=BUNDLE_HINT,
            )

    def _bundle_decisions(self, shaped: dict[str, Any], bundle: str) -> list[Decision]:
        """The decisions of a bundle-loaded server, with OPA's word for the bundle revision that answered."""
        body = self._call(
            f"query data.{DECISIONS_PATH.replace('/', '.')}",
            lambda: self._client.query_rule(
                shaped,
                package_path=DECISIONS_PATH.rsplit("/", 1)[0],
                rule_name=DECISIONS_PATH.rsplit("/", 1)[1],
                query_params={"strict-builtin-errors": "true", "provenance": "true"},
            ),
            quote_server=False,
        )
        if not isinstance(body, dict):
            raise EngineError(f"OPA server {self.url}: the answer is not a JSON object", hint=HINT)
        provenance = body.get("provenance")
        bundles = provenance.get("bundles") if isinstance(provenance, dict) else None
        answered = bundles.get(bundle) if isinstance(bundles, dict) else None
        revision = answered.get("revision") if isinstance(answered, dict) else None
        if revision is None:
            raise _Replaced(
                f"OPA server {self.url}: the answer does not name the revision of bundle {shown(bundle)} "
                f"(?provenance=true), so it cannot be tied to the local policies {self._sha}"
            )
        if revision != self._sha:
            raise _Replaced(
                f"OPA server {self.url}: bundle {shown(bundle)} answered with policy revision {shown(revision)}, "
                f"not the local policies' {self._sha}"
            )
        if "result" not in body:
            raise EngineError(
                f"OPA server {self.url}: data.{DECISIONS_PATH.replace('/', '.')} is undefined "
                "(the bundle holds no dpaguard decisions)",
                hint=HINT,
            )
        return self._parsed(body["result"])

    def _push(self, pid: str) -> None:
        # rego_compat=False: the policies are Rego v1; never let the client rewrite them.
        self._client.update_policy_from_string(self._modules[pid], pid, rego_compat=False)

    def _settle(self, what: str, ids: list[str], action: Callable[[str], None]) -> None:
        """Apply `action` to every id, retrying those OPA refused while others still succeed.

        OPA compiles the whole module set on every PUT and DELETE, so a module that calls a
        function of a module not yet pushed (or one still needed) is refused until the other
        is in place: repeat passes until nothing is left or a pass makes no progress.
        """
        pending = list(ids)
        while pending:
            refused: dict[str, Exception] = {}
            for pid in pending:
                try:
                    bounded(lambda: action(pid), self.timeout, self._new_session)
                except (RegoParseError, DeletePolicyError, PolicyNotFoundError) as error:
                    refused[pid] = error
                except (requests.RequestException, ValueError, TypeException) as error:
                    raise self._error(f"{what} {self._relpaths.get(pid, pid)}", error) from error
            if len(refused) == len(pending):
                # Report a syntax error before the errors it causes in the modules that use it.
                pid = min(refused, key=lambda p: (not is_parse_error(refused[p]), pending.index(p)))
                raise self._error(f"{what} {self._relpaths.get(pid, pid)}", refused[pid]) from refused[pid]
            pending = [pid for pid in pending if pid in refused]

    # -- answers -------------------------------------------------------------------------------

    def _decisions(self, body: Any) -> list[Decision]:
        if not isinstance(body, dict):
            raise EngineError(f"OPA server {self.url}: the answer is not a JSON object", hint=HINT)
        if "result" not in body:
            raise EngineError(
                f"OPA server {self.url}: data.{self._ns}.main.decisions is undefined "
                "(policies not loaded, or not dpaguard's)",
                hint=HINT,
            )
        result = body["result"]
        if not isinstance(result, dict):
            raise EngineError(f"OPA server {self.url}: package {self._ns}.main answered a non-object", hint=HINT)
        version = result.get(VERSION_RULE)
        if version != self._sha:
            # only this revision writes its namespace: another digest there is someone else's doing
            raise EngineError(
                f"OPA server {self.url}: package {self._ns}.main answered with policy revision {shown(version)}, "
                f"not {self._sha} (a module of this revision was replaced on the server)",
                hint=FOREIGN_HINT,
            )
        raw = result.get(DECISIONS_PATH.rsplit("/", 1)[1])
        if raw is None:
            raise EngineError(f"OPA server {self.url}: data.{self._ns}.main.decisions is undefined", hint=HINT)
        return self._parsed(raw)

    def _expanded(self, decisions: list[Decision], urns: list[str], members: list[list[int]]) -> list[Decision]:
        """The decisions with each "@<position>" given back to the URN of every resource it stands for, sorted."""
        unique: dict[tuple[ControlId, str, str, DecisionStatus], str | None] = {}  # -> the decision's config key
        for decision in decisions:
            if not decision.urn.startswith("@"):  # a stack's decision
                unique[(decision.control, decision.urn, decision.message, decision.status)] = decision.config_key
                continue
            position = decision.urn[1:]
            if not (position.isascii() and position.isdigit()) or int(position) >= len(members):
                raise EngineError(f"OPA server {self.url}: a decision names an unknown resource {shown(decision.urn)}", hint=HINT)
            for member in members[int(position)]:
                unique[(decision.control, urns[member], decision.message, decision.status)] = decision.config_key
        return [Decision(control=c, urn=Urn(u), message=m, status=st, config_key=k) for (c, u, m, st), k in sorted(unique.items())]

    def _parsed(self, raw: Any) -> list[Decision]:
        """The decisions of an answer, validated, without duplicates, sorted."""
        where = f"OPA server {self.url}: data.{DECISIONS_PATH.replace('/', '.')}"
        try:
            # the embedded engine's own validation: both engines accept and refuse the same answers
            parsed = parse_decisions(raw, where)
        except EngineError as error:
            raise EngineError(str(error), hint=HINT) from None
        unique = {(d.control, d.urn, d.message, d.status): d for d in parsed}
        return [unique[key] for key in sorted(unique)]

    # -- errors --------------------------------------------------------------------------------

    def _new_session(self) -> None:
        """A new HTTP session for the next calls (an exchange left to its thread holds the old one)."""
        self._client._session = self._client._init_session()

    def _call(self, what: str, fn: Callable[[], _T], *, quote_server: bool = True) -> _T:
        try:
            return bounded(fn, self.timeout, self._new_session)
        except EngineError:
            raise
        except Exception as error:  # every failure of the client or the server is fail-closed
            raise self._error(what, error, quote_server=quote_server) from error

    def _error(self, what: str, error: BaseException, *, quote_server: bool = True) -> EngineError:
        said = describe(error, timeout=self.timeout, place=self._place, quote_server=quote_server)
        return EngineError(f"OPA server {self.url}: {what}: {said}", hint=HINT)

    def _place(self, pid: str) -> str:
        """The policy file a module id stands for (under the policies directory, when known)."""
        rel = self._relpaths.get(pid, pid.removeprefix(f"{self._ns}/"))
        root = getattr(self._policy, "root", None)
        return f"{root}/{rel}" if root is not None and pid in self._relpaths and rel.endswith(".rego") else rel
