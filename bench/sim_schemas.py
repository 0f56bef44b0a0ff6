"""What schema decoding costs the simulator per create.

Renders one job of every workload kind with ml-platform's own renderers (with a volume, so the
PVC and a 2-worker spread are there), then times, per object: the decode alone (pruning,
defaulting, validation against the structural schema or the official Kubernetes definitions),
and a whole create in the API server's handler (routing, decode, store, watch event; no socket)
with the decode and without it (`fieldValidation` cannot turn decoding off, so the second is
measured by calling the store directly). Prints microseconds and the decode's share.

Run: .venv/bin/python bench/sim_schemas.py [--repeat 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import logging
import statistics
import time
from typing import Any

import orjson
import structlog
from starlette.requests import Request

from karmada_sim import decoding
from karmada_sim.http import ApiServer
from karmada_sim.members import ClusterSpec
from karmada_sim.resources import by_kind
from karmada_sim.simulator import Simulator
from ml_platform.workloads import render
from ml_platform.workloads.settings import WorkloadSettings
from ml_platform.workloads.spec import WorkloadKind, WorkloadSpec


def manifests() -> list[dict[str, Any]]:
    """The workload, policy and PVC of one job of each kind, as the product renders them."""
    out: list[dict[str, Any]] = []
    for kind in WorkloadKind:
        spec = WorkloadSpec(
            job_id=f"bench-{kind.value.lower()}",
            job_name="bench",
            namespace="bench",
            algorithm="custom",
            kind=kind,
            cpu_cores=4,
            memory_gib=16,
            gpu_count=1,
            instance_count=2,
            max_runtime_seconds=3600,
            image="registry.example/train:1",
            entrypoint="python train.py",
            volume_size_gb=10,
            hyperparameter_env={"LEARNING_RATE": "0.01"},
        )
        rendered = render(spec, WorkloadSettings())
        out.append(rendered.workload)
        out.append(rendered.policy)
        if rendered.volume_claim is not None:
            out.append(rendered.volume_claim)
    return out


def per_call_us(repeat: int, call: Any) -> float:
    """The median time of one call (medians: the machine may be busy)."""
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1e6


async def handler_create_us(server: ApiServer, manifest: dict[str, Any], repeat: int) -> float:
    """A POST through the API server's handler, each with a fresh name."""
    res = by_kind(manifest["apiVersion"], manifest["kind"])
    assert res is not None
    prefix = f"/apis/{res.group}/{res.version}" if res.group else f"/api/{res.version}"
    path = f"{prefix}/namespaces/bench/{res.plural}"
    timings = []
    for i in range(repeat):
        body = copy.deepcopy(manifest)
        body["metadata"]["name"] = f"{manifest['metadata']['name']}-{i}"
        raw = orjson.dumps(body)

        async def receive(raw: bytes = raw) -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "query_string": b"",
            "headers": [(b"content-type", b"application/json")],
        }
        started = time.perf_counter()
        response = await server.handle(Request(scope, receive), path)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 201, response.body
    return statistics.median(timings) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    simulator = Simulator([ClusterSpec.parse("member1")], seed=1, namespaces=("bench",))
    server = ApiServer(simulator)
    first = time.perf_counter()
    for manifest in manifests():
        res = by_kind(manifest["apiVersion"], manifest["kind"])
        assert res is not None
        decoding.decode(res, manifest, directive="Strict")
    print(
        f"first decode of every kind (loads and compiles the schemas): "
        f"{(time.perf_counter() - first) * 1e3:.1f} ms"
    )
    print(f"{'object':<28} {'bytes':>6} {'decode us':>10} {'create us':>10} {'share':>6}")
    for manifest in manifests():
        res = by_kind(manifest["apiVersion"], manifest["kind"])
        assert res is not None
        decode_us = per_call_us(
            args.repeat, lambda m=manifest, r=res: decoding.decode(r, m, directive="Strict")
        )
        create_us = asyncio.run(handler_create_us(server, manifest, min(args.repeat, 500)))
        label = f"{res.kind}/{manifest['metadata']['name']}"[:28]
        print(
            f"{label:<28} {len(orjson.dumps(manifest)):>6} {decode_us:>10.1f} "
            f"{create_us:>10.1f} {decode_us / create_us:>6.0%}"
        )


if __name__ == "__main__":
    main()
