"""A stand-in for the Pulumi engine's side of the analyzer protocol, for tests without the Pulumi CLI.

It starts the pack as the engine starts a Python policy pack (the `pulumi-analyzer-policy-python`
shim: `python -u -m pulumi.policy <engine address> .` in the pack's directory, the stack's
identity in PULUMI_* variables), reads the port the pack prints, and speaks to it with the
analyzer stubs of the `pulumi` package, in the engine's order: Handshake, ConfigureStack,
GetAnalyzerInfo, Configure, then Analyze per resource (inputs) and AnalyzeStack (outputs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as pb
from pulumi.runtime.proto import analyzer_pb2_grpc as pb_grpc

from support import POLICIES
from dpaguard.model import SECRET_SIG, SECRET_SIG_KEY, Deployment
from dpaguard.deployment.redact import is_secret

ENGINE_ADDRESS = "127.0.0.1:1"  # the pack never calls back into the engine
LEVEL_NAMES = {pb.ADVISORY: "advisory", pb.MANDATORY: "mandatory", pb.DISABLED: "disabled", pb.REMEDIATE: "remediate"}
LEVELS = {v: k for k, v in LEVEL_NAMES.items()}


def engine_value(value: Any, secret_value: str) -> Any:
    """A property as the engine marshals it (KeepSecrets): a secret placeholder gets a plaintext `value`."""
    if is_secret(value):
        return {SECRET_SIG_KEY: SECRET_SIG, "value": secret_value}
    if isinstance(value, Mapping):
        return {str(k): engine_value(v, secret_value) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [engine_value(v, secret_value) for v in value]
    return value


def struct_of(properties: Mapping[str, Any], secret_value: str = "canary-secret-value") -> struct_pb2.Struct:
    """A property map as the protobuf Struct the engine sends."""
    result = struct_pb2.Struct()
    result.update(engine_value(dict(properties), secret_value))
    return result


@dataclass
class Diagnostic:
    """One AnalyzeDiagnostic, as plain values."""

    policy: str
    urn: str
    message: str
    level: str
    severity: int
    description: str


def diagnostics(response: Any) -> list[Diagnostic]:
    """The diagnostics of an AnalyzeResponse."""
    return [
        Diagnostic(d.policyName, d.urn, d.message, LEVEL_NAMES[d.enforcementLevel], d.severity, d.description)
        for d in response.diagnostics
    ]


@dataclass
class EngineSession:
    """A running pack and the engine's connection to it."""

    process: subprocess.Popen[bytes]
    channel: grpc.Channel
    stub: pb_grpc.AnalyzerStub
    stderr_path: Path
    providers: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    def handshake(self) -> None:
        """The engine's Handshake: its address, the pack's directory as root and program directory."""
        self.stub.Handshake(pb.AnalyzerHandshakeRequest(
            engine_address=ENGINE_ADDRESS, root_directory=str(POLICIES), program_directory=str(POLICIES)))

    def configure_stack(self, stack: str, project: str, config: Mapping[str, str], *,
                        secret_keys: Iterable[str] = (), dry_run: bool = True,
                        tags: Mapping[str, str] | None = None) -> None:
        """ConfigureStack as NewPolicyAnalyzer sends it: every config value a string, secrets decrypted."""
        self.stub.ConfigureStack(pb.AnalyzerStackConfigureRequest(
            stack=stack, project=project, organization="organization", dry_run=dry_run,
            config=dict(config), config_secret_keys=list(secret_keys), tags=dict(tags or {})))

    def info(self) -> Any:
        """GetAnalyzerInfo."""
        return self.stub.GetAnalyzerInfo(empty_pb2.Empty())

    def configure(self, config: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Configure as the engine reconciles it: every policy at its advertised level, then the user's config."""
        info = self.info()
        given = dict(config or {})
        request = pb.ConfigureAnalyzerRequest()
        everything = given.get("all", {}).get("enforcementLevel")
        for policy in info.policies:
            level = everything or LEVEL_NAMES[policy.enforcementLevel]
            properties: dict[str, Any] = {}
            for key, value in (given.get(policy.name) or {}).items():
                if key == "enforcementLevel":
                    level = value
                else:
                    properties[key] = value
            entry = request.policyConfig[policy.name]
            entry.enforcementLevel = LEVELS[level]
            entry.properties.update(properties)
        self.stub.Configure(request)

    def analyze(self, resource: Mapping[str, Any], provider: Mapping[str, Any] | None = None,
                secret_value: str = "canary-secret-value") -> list[Diagnostic]:
        """Analyze one resource with its inputs (and its provider's inputs), as the step generator does."""
        request = analyze_request(resource, provider, secret_value)
        return diagnostics(self.stub.Analyze(request))

    def analyze_stack(self, resources: Iterable[Mapping[str, Any]], secret_value: str = "canary-secret-value") -> list[Diagnostic]:
        """AnalyzeStack with every resource's outputs, as AnalyzeResources does at the end."""
        request = analyze_stack_request(list(resources), secret_value)
        return diagnostics(self.stub.AnalyzeStack(request))

    def stderr(self) -> str:
        """What the pack wrote on stderr so far."""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        """Close the connection and kill the pack, as the engine does at the end."""
        self.channel.close()
        self.process.kill()
        self.process.wait(timeout=10)


def provider_of(resource: Mapping[str, Any], by_urn: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The provider resource a resource's provider reference names."""
    ref = resource.get("provider")
    if not ref:
        return None
    return by_urn.get(str(ref).rsplit("::", 1)[0])


def _provider_message(provider: Mapping[str, Any], field: str, secret_value: str) -> pb.AnalyzerProviderResource:
    return pb.AnalyzerProviderResource(
        urn=provider["urn"], type=provider["type"], name=provider["urn"].rsplit("::", 1)[-1],
        properties=struct_of(provider.get(field) or {}, secret_value))


def analyze_request(resource: Mapping[str, Any], provider: Mapping[str, Any] | None,
                    secret_value: str = "canary-secret-value") -> pb.AnalyzeRequest:
    """The AnalyzeRequest of a resource: its inputs, its options, its provider's inputs."""
    request = pb.AnalyzeRequest(
        urn=resource["urn"], type=resource["type"], name=resource["urn"].rsplit("::", 1)[-1],
        properties=struct_of(resource.get("inputs") or {}, secret_value),
        options=pb.AnalyzerResourceOptions(parent=resource.get("parent") or ""))
    if provider is not None:
        request.provider.CopyFrom(_provider_message(provider, "inputs", secret_value))
    return request


def analyze_stack_request(resources: Sequence[Mapping[str, Any]], secret_value: str = "canary-secret-value") -> pb.AnalyzeStackRequest:
    """The AnalyzeStackRequest of a stack: each resource's outputs (with its id, as a bridged provider returns it)."""
    by_urn = {r["urn"]: r for r in resources}
    request = pb.AnalyzeStackRequest()
    for r in resources:
        outputs = dict(r.get("outputs") or r.get("inputs") or {})
        if r.get("custom") and r.get("id") and not r["type"].startswith("pulumi:providers:"):
            outputs.setdefault("id", r["id"])
        message = request.resources.add(
            urn=r["urn"], type=r["type"], name=r["urn"].rsplit("::", 1)[-1],
            properties=struct_of(outputs, secret_value), parent=r.get("parent") or "",
            dependencies=list(r.get("dependencies") or ()))
        for key, deps in (r.get("propertyDependencies") or {}).items():
            message.propertyDependencies[key].urns.extend(deps)
        provider = provider_of(r, by_urn)
        if provider is not None:
            message.provider.CopyFrom(_provider_message(provider, "inputs", secret_value))
    return request


def start_pack(tmp_path: Path, *, env: Mapping[str, str] | None = None, policies: Path = POLICIES,
               timeout: float = 60) -> EngineSession:
    """Start the pack the way the engine's Python shim does, and connect to the port it prints."""
    stderr_path = tmp_path / "pack.stderr"
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "DPAGUARD_"))}
    child_env.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, "."],
        cwd=policies, env=child_env, stdout=subprocess.PIPE, stderr=stderr_path.open("wb"),
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.isdigit():
        process.kill()
        raise AssertionError(f"the pack printed {line!r} instead of a port; stderr: {stderr_path.read_text()}")
    channel = grpc.insecure_channel(f"127.0.0.1:{line}", options=[("grpc.max_receive_message_length", 400 << 20),
                                                                 ("grpc.max_send_message_length", 400 << 20)])
    grpc.channel_ready_future(channel).result(timeout=timeout)
    return EngineSession(process, channel, pb_grpc.AnalyzerStub(channel), stderr_path)


def engine_env(deployment: Deployment, secret_value: str, *, dry_run: bool = True) -> dict[str, str]:
    """The variables the engine sets for a Python policy pack (constructEnv): config JSON with secrets decrypted."""
    config = stack_config_strings(deployment)
    for key in deployment.secret_config_keys:
        config[key] = secret_value
    return {
        "PULUMI_CONFIG": json.dumps(config),
        "PULUMI_PROJECT": deployment.project,
        "PULUMI_STACK": deployment.stack,
        "PULUMI_DRY_RUN": "true" if dry_run else "false",
        "PULUMI_ORGANIZATION": "organization",
    }


def stack_config_strings(deployment: Deployment) -> dict[str, str]:
    """A deployment's config as the engine passes it: strings, objects as JSON."""
    from dpaguard.source.project import config_string

    return {key: config_string(value) for key, value in deployment.config.items()}


def report_json(path: Path) -> Any:
    """The JSON document the pack wrote to DPAGUARD_REPORT."""
    return json.loads(path.read_text(encoding="utf-8"))
