"""Benchmark of the policy pack over gRPC, started as the Pulumi engine starts it (prints figures).

    cd tests && ../.venv/bin/python -m benchmarks.bench_pack [--resources 10000] [--analyze 600]

Analyze: the prod stack's resources (rendered offline), each sent with distinct names so that no
answer is reused, one call at a time; the median and 95th percentile per call include the gRPC
round trip. AnalyzeStack: a generated stack of N resources (the prod stack's resources repeated
under distinct URNs), one call, as the engine sends it at the end of `pulumi up`.
Targets (issue 5): median Analyze < 5 ms, AnalyzeStack on 10,000 resources < 3 s.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from support import REPO
from support.pack_harness import (
    analyze_request,
    analyze_stack_request,
    provider_of,
    stack_config_strings,
    start_pack,
)


def _renamed(resource: dict[str, Any], suffix: str, urns: dict[str, str]) -> dict[str, Any]:
    copied = copy.deepcopy(resource)
    copied["urn"] = urns[resource["urn"]]
    if copied.get("parent") in urns:
        copied["parent"] = urns[copied["parent"]]
    if copied.get("provider"):
        urn, _, ident = copied["provider"].rpartition("::")
        copied["provider"] = f"{urns.get(urn, urn)}::{ident}"
    copied["dependencies"] = [urns.get(u, u) for u in copied.get("dependencies") or ()]
    for field in ("inputs", "outputs"):
        props = copied.get(field)
        if isinstance(props, dict) and isinstance(props.get("name"), str):
            props["name"] = f"{props['name']}-{suffix}"
    if copied.get("id"):
        copied["id"] = f"{copied['id']}-{suffix}"
    return copied


def generated_stack(resources: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """`count` resources: the stack's resources repeated under distinct URNs (stack and providers kept once)."""
    fixed = [r for r in resources if r["type"] == "pulumi:pulumi:Stack" or r["type"].startswith("pulumi:providers:")]
    others = [r for r in resources if r not in fixed]
    out = list(fixed)
    copy_index = 0
    while len(out) < count:
        suffix = f"g{copy_index}"
        urns = {r["urn"]: f"{r['urn']}-{suffix}" for r in others}
        for r in others:
            if len(out) >= count:
                break
            out.append(_renamed(r, suffix, urns))
        copy_index += 1
    return out


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--analyze", type=int, default=600, help="Analyze calls to time")
    args = parser.parse_args()

    from dpaguard.source.program import render_stack

    prod = render_stack(REPO, "prod")
    resources = [dict(r) for r in prod.resources]
    pool = generated_stack(resources, max(args.analyze, len(resources)))
    by_urn = {r["urn"]: r for r in pool}
    requests = [analyze_request(r, provider_of(r, by_urn)) for r in pool[: args.analyze]]

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        session = start_pack(Path(tmp))
        boot = time.perf_counter() - started
        try:
            session.handshake()
            session.configure_stack(prod.stack, prod.project, stack_config_strings(prod),
                                    secret_keys=prod.secret_config_keys)
            session.configure()
            for request in requests[:20]:  # warm-up: engines per worker thread
                session.stub.Analyze(request)
            timings = []
            for request in requests:
                t0 = time.perf_counter()
                session.stub.Analyze(request)
                timings.append((time.perf_counter() - t0) * 1000)
            timings.sort()
            median = statistics.median(timings)
            p95 = timings[int(len(timings) * 0.95) - 1]

            big = generated_stack(resources, args.resources)
            stack_request = analyze_stack_request(big)
            size = stack_request.ByteSize()
            t0 = time.perf_counter()
            response = session.stub.AnalyzeStack(stack_request, timeout=600)
            stack_seconds = time.perf_counter() - t0
        finally:
            session.close()

    print(f"pack start-up (process to port):          {boot:.2f} s")
    print(f"Analyze, {len(timings)} calls over gRPC:           median {median:.2f} ms, p95 {p95:.2f} ms"
          f"  (target < 5 ms median: {'met' if median < 5 else 'NOT met'})")
    print(f"AnalyzeStack, {len(big)} resources ({size / 1e6:.1f} MB): {stack_seconds:.2f} s, "
          f"{len(response.diagnostics)} diagnostics  (target < 3 s: {'met' if stack_seconds < 3 else 'NOT met'})")


if __name__ == "__main__":
    main()
