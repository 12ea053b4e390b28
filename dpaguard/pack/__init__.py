"""dpaguard as a Pulumi CrossGuard policy pack: the logic behind `policies/__main__.py`.

The Pulumi engine starts the pack the way it starts every Python policy pack: the
`pulumi-analyzer-policy-python` shim runs `python -u -m pulumi.policy <engine address> .` in the
pack's directory (policies/, with the virtual environment PulumiPolicy.yaml names), which runs
`__main__.py`; the pack prints the port of its analyzer gRPC server on stdout and serves until
the engine kills it. The same catalogue, normaliser, Rego policies, engines, waivers and findings
as the `dpaguard` command decide; only the source of the deployment differs.
"""

from __future__ import annotations

import os
import signal
import sys
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dpaguard import __version__
from dpaguard.errors import DpaguardError
from dpaguard.pack.analyzer import REPORT_ENV, DpaguardAnalyzer
from dpaguard.pack.policies import PACK_NAME, PackPolicy, control_policies
from dpaguard.pack.runtime import PackRuntime

DESCRIPTION = "dpaguard: the GDPR Data Processing Agreement's controls for the Scaleway/DataPacket estate"
# gRPC worker threads: the engine analyzes resources concurrently (PULUMI_PARALLEL_ANALYZE).
MAX_WORKERS = 8
_MAX_MESSAGE = 1024 * 1024 * 400  # as pulumi_policy: a whole stack arrives in one AnalyzeStack message


@dataclass(frozen=True)
class PolicyPack:
    """The pack: its policies (one per control, plus the pack's own) and the runtime that decides them."""

    name: str
    version: str
    policies: tuple[Any, ...]
    runtime: PackRuntime

    def servicer(self, report: Path | None = None) -> DpaguardAnalyzer:
        """The analyzer gRPC service of this pack, writing its findings to `report` when given."""
        return DpaguardAnalyzer(self.name, self.version, list(self.policies), self.runtime,
                                description=DESCRIPTION, report=report)


def load_pack(policies_dir: Path) -> PolicyPack:
    """The pack over the policies of `policies_dir` (catalogue, DPA tables, Rego, waivers)."""
    from dpaguard.pipeline import load_policy

    policy = load_policy(policies_dir)
    policies = (PackPolicy(), *control_policies(policy.controls))
    return PolicyPack(PACK_NAME, __version__, policies, PackRuntime(policy))


def serve(pack: PolicyPack, *, report: Path | None = None) -> None:
    """Serve the analyzer on a local port, print the port (the engine reads it), block until stopped."""
    import grpc
    from pulumi.runtime.proto import analyzer_pb2_grpc

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=MAX_WORKERS),
        options=[("grpc.max_receive_message_length", _MAX_MESSAGE)],
    )
    analyzer_pb2_grpc.add_AnalyzerServicer_to_server(pack.servicer(report), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    # The engine stops its plugins with SIGINT (then SIGKILL): a clean stop, not a traceback in its output.
    signal.signal(signal.SIGTERM, lambda *_: server.stop(0))
    signal.signal(signal.SIGINT, lambda *_: server.stop(0))
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    server.wait_for_termination()


def main(policies_dir: Path) -> None:
    """Entry point of `policies/__main__.py`: a policy error stops the pack with one line (fail closed)."""
    report = os.environ.get(REPORT_ENV)
    try:
        pack = load_pack(policies_dir)
    except DpaguardError as error:
        print(f"dpaguard policy pack: {error.one_line()}", file=sys.stderr)
        sys.exit(2)
    serve(pack, report=Path(report).resolve() if report else None)


__all__ = ["PolicyPack", "load_pack", "serve", "main", "PACK_NAME", "REPORT_ENV"]
