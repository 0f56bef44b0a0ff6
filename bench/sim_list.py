"""LIST at scale: 10,000 RayJobs with their ResourceBindings, listed across all namespaces.

Prints the time to build the objects, then the time of an all-namespaces LIST with a label
selector selecting all of them: in the API server's handler (server side, no socket) and over
real HTTP (urllib3, the kubernetes client's transport; body read, not parsed).
Target: server side under 200 ms.

Run: .venv/bin/python bench/sim_list.py [--jobs 10000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
from typing import Any

import structlog
import urllib3
from starlette.requests import Request

from karmada_sim.http import ApiServer
from karmada_sim.members import ClusterSpec
from karmada_sim.resources import PROPAGATION_POLICY, RAYJOB, RESOURCE_BINDING
from karmada_sim.server import SimulatorServer
from karmada_sim.simulator import Simulator, Timings

NAMESPACES = 100
LABEL = "ml-platform.io/managed-by=ml-platform"
PATH = "/apis/ray.io/v1/rayjobs?labelSelector=ml-platform.io%2Fmanaged-by%3Dml-platform"


def rayjob(index: int) -> dict[str, Any]:
    """A RayJob shaped like the ones ml-platform renders."""
    worker = {
        "groupName": "workers",
        "replicas": 2,
        "minReplicas": 2,
        "maxReplicas": 2,
        "rayStartParams": {},
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "ray-worker",
                        "image": "rayproject/ray:2.9.0",
                        "resources": {"limits": {"cpu": "2", "memory": "4Gi"}},
                    }
                ]
            }
        },
    }
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {
            "name": f"job-{index:05d}",
            "labels": {
                "ml-platform.io/managed-by": "ml-platform",
                "ml-platform.io/job-id": str(index),
            },
        },
        "spec": {
            "entrypoint": "python -m train --epochs 10",
            "shutdownAfterJobFinishes": True,
            "ttlSecondsAfterFinished": 60,
            "rayClusterSpec": {
                "rayVersion": "2.9.0",
                "headGroupSpec": {
                    "rayStartParams": {"dashboard-host": "0.0.0.0"},
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "ray-head",
                                    "image": "rayproject/ray:2.9.0",
                                    "resources": {"limits": {"cpu": "1", "memory": "2Gi"}},
                                }
                            ]
                        }
                    },
                },
                "workerGroupSpecs": [worker],
            },
        },
    }


def populate(sim: Simulator, jobs: int) -> None:
    """Create a policy per namespace and the RayJobs, then reconcile until all are bound."""
    for n in range(NAMESPACES):
        sim.karmada.create(
            PROPAGATION_POLICY,
            {
                "metadata": {"name": "ml-platform"},
                "spec": {
                    "resourceSelectors": [
                        {
                            "apiVersion": "ray.io/v1",
                            "kind": "RayJob",
                            "labelSelector": {
                                "matchLabels": {"ml-platform.io/managed-by": "ml-platform"}
                            },
                        }
                    ],
                    "placement": {
                        "spreadConstraints": [
                            {"spreadByField": "cluster", "maxGroups": 1, "minGroups": 1}
                        ]
                    },
                },
            },
            namespace=f"team-{n:03d}",
        )
    for i in range(jobs):
        sim.karmada.create(RAYJOB, rayjob(i), namespace=f"team-{i % NAMESPACES:03d}")
    sim.reconcile()


def timed(fn: Any, repeat: int) -> list[float]:
    """Wall milliseconds of `repeat` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    return (
        f"min {min(samples):7.1f} ms  median {statistics.median(samples):7.1f} ms  "
        f"max {max(samples):7.1f} ms"
    )


async def server_side(api: ApiServer, repeat: int, jobs: int) -> list[float]:
    """LIST through the API server's handler with no socket and no ASGI transport."""
    path, _, query = PATH.partition("?")
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query.encode(),
        "headers": [(b"accept", b"application/json")],
    }
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = await api.handle(Request(scope), path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        assert bytes(response.body).count(b'"kind":"RayJob"') == jobs
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    # Per-object debug events would dominate the build time.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    # Long runs keep the jobs Running, so the list reads a steady state.
    timings = Timings(initializing_seconds=1.0, running_seconds=10**7)
    sim = Simulator(
        [ClusterSpec("member1"), ClusterSpec("member2")],
        timings=timings,
        seed=1,
        namespaces=[f"team-{n:03d}" for n in range(NAMESPACES)],
    )
    started = time.perf_counter()
    populate(sim, args.jobs)
    built = time.perf_counter() - started
    bindings = sim.karmada.count(RESOURCE_BINDING)
    member_jobs = sum(m.store.count(RAYJOB) for m in sim.members.values())
    print(
        f"built {sim.karmada.count(RAYJOB)} RayJobs, {bindings} ResourceBindings, "
        f"{member_jobs} member RayJobs in {built:.1f} s"
    )
    assert bindings == args.jobs
    assert member_jobs == args.jobs

    server = SimulatorServer(sim)
    samples = asyncio.run(server_side(server.api, args.repeat, args.jobs))
    print(f"LIST -A -l {LABEL} server side (handler, no socket): {summary(samples)}")
    print(
        f"  first (cold caches): {samples[0]:.1f} ms; target 200 ms; "
        f"median/target = {statistics.median(samples[1:] or samples) / 200:.2f}"
    )

    with server:
        # Let the reconcile loop catch up with the wall time the build took, so the timings
        # below measure LIST and not a backlog of lifecycle work sharing the event loop.
        for _ in range(3):
            started = time.perf_counter()
            server.call(sim.reconcile)
            elapsed = (time.perf_counter() - started) * 1000
            print(f"reconcile pass on the server loop: {elapsed:.0f} ms")
        pool = urllib3.PoolManager()

        def over_http() -> None:
            response = pool.request("GET", server.url + PATH)
            assert response.status == 200

        http_samples = timed(over_http, args.repeat)
        body = pool.request("GET", server.url + PATH).data
    print(f"LIST -A -l {LABEL} over HTTP (body read, not parsed): {summary(http_samples)}")
    print(f"  response body {len(body) / 1e6:.1f} MB for {args.jobs} RayJobs")


if __name__ == "__main__":
    main()
