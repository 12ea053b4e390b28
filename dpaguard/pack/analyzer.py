"""The analyzer gRPC service of the pack: pulumi_policy's servicer, with the calls that decide replaced.

`pulumi_policy` 1.21 keeps GetAnalyzerInfo, GetPluginInfo and Configure as they are (policy
metadata, config schema, enforcement levels as the engine reconciled them). Replaced:
  Handshake       implemented (the SDK leaves it unimplemented; the engine tolerates either)
  ConfigureStack  keeps the whole request (the SDK keeps only the tags), secrets redacted at once
  GetAnalyzerInfo advertises each control's level in the stack's environment
  Configure       also reads the pack's config (its `dpaguard` policy's config)
  Analyze/AnalyzeStack  decide through dpaguard's stages from the protobuf request, where unknown
                  values are still visible (the SDK would skip the policy) and secrets still wrapped
  Remediate       nothing to remediate (and no secret is ever deserialized)
A dpaguard error (engine down, OPA timeout, bad pack config) aborts the call: the engine then
stops the preview or update with that one line. It never turns into an empty, passing answer.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

import grpc
from google.protobuf import empty_pb2, json_format
from pulumi.runtime import proto
import pulumi_policy
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from dpaguard.errors import DpaguardError
from dpaguard.model import Finding
from dpaguard.pack import protocol
from dpaguard.pack.context import PackConfigError, pack_config, stack_context
from dpaguard.pack.policies import PACK_POLICY
from dpaguard.pack.runtime import MISSING_CONTEXT, PackRuntime

REPORT_ENV = "DPAGUARD_REPORT"
# Where the pack writes the resources the engine handed it in AnalyzeStack (stack-export shape), so
# a test can compare what the real `pulumi preview` gives a policy with what `dpaguard render` derives.
RESOURCES_ENV = "DPAGUARD_PACK_RESOURCES"
_LEVEL = {"mandatory": proto.MANDATORY, "advisory": proto.ADVISORY, "disabled": proto.DISABLED, "remediate": proto.REMEDIATE}
_LEVEL_NAME = {v: k for k, v in _LEVEL.items()}
_SEVERITY = {
    "low": proto.POLICY_SEVERITY_LOW,
    "medium": proto.POLICY_SEVERITY_MEDIUM,
    "high": proto.POLICY_SEVERITY_HIGH,
    "critical": proto.POLICY_SEVERITY_CRITICAL,
}


def _guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a dpaguard error into an aborted call with its one line; anything else into a short internal error."""

    def call(self: "DpaguardAnalyzer", request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(self, request, context)
        except DpaguardError as error:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"dpaguard: {error.one_line()}")
        except PackConfigError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"dpaguard policy pack config: {error}")
        except Exception as error:  # noqa: BLE001 - the engine must see a failure, never a pass
            # The exception text may quote property values: only its type leaves the process.
            print(f"dpaguard policy pack: internal error in {method.__name__}: {type(error).__name__}", file=sys.stderr)
            context.abort(grpc.StatusCode.INTERNAL, f"dpaguard: internal error ({type(error).__name__}) in {method.__name__}")

    call.__name__ = method.__name__
    call.__doc__ = method.__doc__
    return call


class ReportWriter:
    """Keeps `DPAGUARD_REPORT` up to date with the run's findings, as `dpaguard --format json` writes them.

    `pulumi preview --json` drops policy violations and the engine kills the pack without notice at
    the end, so the file is rewritten (atomically) whenever the findings change.
    """

    def __init__(self, path: Path, runtime: PackRuntime) -> None:
        self.path = path
        self.runtime = runtime
        self._lock = threading.Lock()
        self._last: tuple[int, int] | None = None

    def write(self) -> None:
        """Render the run so far and replace the file, when what it shows changed since the last write."""
        from dpaguard.report import json as json_report

        with self._lock:
            version = self.runtime.report_version()
            if version == self._last:
                return
            text = json_report.render(self.runtime.result())
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                temporary.write_text(text, encoding="utf-8")
                os.replace(temporary, self.path)
            except OSError as error:
                raise PackReportError(f"cannot write {REPORT_ENV}={self.path}: {error.strerror or error}") from None
            self._last = version


class PackReportError(DpaguardError):
    """The report file named by DPAGUARD_REPORT cannot be written."""


class DpaguardAnalyzer(_PolicyAnalyzerServicer):
    """The analyzer service: pulumi_policy's, deciding through dpaguard's stages."""

    def __init__(self, name: str, version: str, policies: list[pulumi_policy.Policy], runtime: PackRuntime, *,
                 description: str, report: Path | None = None) -> None:
        super().__init__(name, version, policies, EnforcementLevel.MANDATORY, description=description,
                         display_name="dpaguard GDPR DPA controls", provider="scaleway",
                         tags=["gdpr", "dpa", "scaleway", "datapacket"])
        self.pack_name = name
        self.pack_version = version
        self.policies = {p.name: p for p in policies}
        self.runtime = runtime
        self.report = ReportWriter(report, runtime) if report is not None else None
        self.control_ids = frozenset(runtime.controls)

    # --- set-up calls ---------------------------------------------------------------------------

    def Handshake(self, request: Any, context: grpc.ServicerContext) -> Any:
        """The engine's first call: nothing to set up (the pack never calls back into the engine)."""
        return proto.AnalyzerHandshakeResponse()

    @_guarded
    def ConfigureStack(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Keep the stack's identity and config (secrets redacted on arrival), and its tags as the SDK does."""
        self.runtime.configure_stack(stack_context(request))
        super().ConfigureStack(proto.AnalyzerStackConfigureRequest(tags=dict(request.tags)), context)
        return proto.AnalyzerStackConfigureResponse()

    @_guarded
    def GetAnalyzerInfo(self, request: Any, context: grpc.ServicerContext) -> Any:
        """The SDK's policy metadata, each control at its level in the stack's environment."""
        info = super().GetAnalyzerInfo(request, context)  # type: ignore[no-untyped-call]
        levels = self.runtime.advertised_levels()
        for policy_info in info.policies:
            if policy_info.name in levels:
                policy_info.enforcementLevel = _LEVEL[levels[policy_info.name]]
        return info

    @_guarded
    def Configure(self, request: Any, context: grpc.ServicerContext) -> Any:
        """The SDK's handling of policy config, plus the pack's config from its own policy's config."""
        super().Configure(request, context)  # type: ignore[no-untyped-call]
        levels = {name: _LEVEL_NAME.get(cfg.enforcementLevel, "mandatory") for name, cfg in request.policyConfig.items()}
        properties: dict[str, Any] = {}
        if PACK_POLICY in request.policyConfig:
            properties = json_format.MessageToDict(request.policyConfig[PACK_POLICY].properties)
        self.runtime.configure(levels, pack_config(properties, self.control_ids))
        return empty_pb2.Empty()

    def Cancel(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Nothing runs in the background: cancelling is immediate."""
        return empty_pb2.Empty()

    def Remediate(self, request: Any, context: grpc.ServicerContext) -> Any:
        """dpaguard reports, it never rewrites a resource."""
        return proto.RemediateResponse()

    # --- decisions ------------------------------------------------------------------------------

    @_guarded
    def Analyze(self, request: Any, context: grpc.ServicerContext) -> Any:
        """One resource's inputs, before it is created: its resource-level findings."""
        resources = protocol.analyze_request_resources(request)
        findings = self.runtime.analyze(resources, request.urn)
        response = self._response(findings)
        self._missing_context(response, request.urn)
        self._write_report()
        return response

    @_guarded
    def AnalyzeStack(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Every resource's outputs, at the end: the stack-level findings and whatever Analyze did not say."""
        resources = protocol.analyze_stack_resources(request)
        _write_resources(resources)
        findings = self.runtime.analyze_stack(resources)
        response = self._response(findings)
        self._missing_context(response, "")
        self._write_report()
        return response

    def _write_report(self) -> None:
        if self.report is not None:
            self.report.write()

    def _missing_context(self, response: Any, urn: str) -> None:
        level = self.runtime.pack_policy_level()
        if self.runtime.context is not None or level == "disabled":
            return
        response.diagnostics.append(
            proto.AnalyzeDiagnostic(
                policyName=PACK_POLICY,
                policyPackName=self.pack_name,
                policyPackVersion=self.pack_version,
                description=self.policies[PACK_POLICY].description,
                message=MISSING_CONTEXT,
                urn=urn,
                enforcementLevel=_LEVEL[level],
                severity=proto.POLICY_SEVERITY_CRITICAL,
            )
        )

    def _response(self, findings: Sequence[Finding]) -> Any:
        response = proto.AnalyzeResponse()
        for finding in findings:
            policy = self.policies.get(finding.control)
            message = finding.message
            level = finding.enforcement
            if finding.waived and finding.waiver is not None:
                # A waived finding stays visible but never blocks, as in the CLI's reports.
                waiver = finding.waiver
                message = f"{message} [waived until {waiver.expires.isoformat()} by {waiver.approver}: {waiver.reason}]"
                level = "advisory"
            response.diagnostics.append(
                proto.AnalyzeDiagnostic(
                    policyName=finding.control,
                    policyPackName=self.pack_name,
                    policyPackVersion=self.pack_version,
                    description=policy.description if policy is not None else finding.control,
                    message=message,
                    urn=finding.urn,
                    enforcementLevel=_LEVEL[level],
                    severity=_SEVERITY.get(finding.severity, proto.POLICY_SEVERITY_UNSPECIFIED),
                )
            )
        return response


def _write_resources(resources: Sequence[Any]) -> None:
    """Write the stack's resources where DPAGUARD_PACK_RESOURCES names a file (nothing when unset)."""
    path = os.environ.get(RESOURCES_ENV)
    if not path:
        return
    import json

    try:
        Path(path).write_text(json.dumps({"resources": list(resources)}, indent=1, sort_keys=True), encoding="utf-8")
    except OSError as error:
        raise PackReportError(f"cannot write {RESOURCES_ENV}={path}: {error.strerror or error}") from None


__all__ = ["DpaguardAnalyzer", "ReportWriter", "REPORT_ENV", "RESOURCES_ENV"]
