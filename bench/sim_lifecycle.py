"""Karmada and member controllers at scale: N RayJobs, each with its own PropagationPolicy
(spread to one of two clusters), taken through their whole lifecycle with simulated time.

Prints, per phase, the wall time of the reconcile that handles it and the per-job cost, so a
quadratic path shows up as a per-job cost that grows with N. Also the background loop's
longest step (how long an HTTP request can wait behind reconciliation).

Run: .venv/bin/python bench/sim_lifecycle.py [--jobs 10000]
"""

from __future__ import annotations

import argparse
import logging
import resource
import time
from collections import Counter
from typing import Any

import structlog

from karmada_sim.resources import POD, PROPAGATION_POLICY, RAYJOB, RESOURCE_BINDING
from karmada_sim.simulator import STEP_BUDGET, ClusterSpec, Simulator, Timings

NAMESPACES = 20


def rayjob(index: int) -> dict[str, Any]:
    """A RayJob with a head and one worker, like the ones ml-platform renders."""
    group = {"spec": {"containers": [{"name": "ray-worker", "image": "rayproject/ray:2.40.0"}]}}
    return {
        "metadata": {
            "name": f"job-{index}",
            "namespace": f"team-{index % NAMESPACES}",
            "labels": {"ml-platform.io/job-id": str(index)},
        },
        "spec": {
            "entrypoint": "python train.py",
            "rayClusterSpec": {
                "headGroupSpec": {
                    "template": {
                        "spec": {"containers": [{"name": "ray-head", "image": "rayproject/ray"}]}
                    }
                },
                "workerGroupSpecs": [{"groupName": "workers", "replicas": 1, "template": group}],
            },
        },
    }


def policy(index: int) -> dict[str, Any]:
    """A policy per job: that job only, exactly one of the clusters."""
    return {
        "metadata": {"name": f"job-{index}", "namespace": f"team-{index % NAMESPACES}"},
        "spec": {
            "resourceSelectors": [
                {"apiVersion": "ray.io/v1", "kind": "RayJob", "name": f"job-{index}"}
            ],
            "placement": {
                "spreadConstraints": [{"spreadByField": "cluster", "maxGroups": 1, "minGroups": 1}]
            },
        },
    }


def timed(label: str, jobs: int, action: Any) -> None:
    start = time.perf_counter()
    action()
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {elapsed:8.2f} s   {elapsed / jobs * 1000:7.3f} ms/job")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    timings = Timings(initializing_seconds=30, pending_seconds=5, running_seconds=60)
    sim = Simulator(
        [ClusterSpec.parse("member1@eu-west/a"), ClusterSpec.parse("member2@us-east/b")],
        timings=timings,
        seed=1,
        namespaces=[f"team-{n}" for n in range(NAMESPACES)],
    )
    jobs = args.jobs

    def create() -> None:
        for index in range(jobs):
            sim.karmada.create(RAYJOB, rayjob(index))
            sim.karmada.create(PROPAGATION_POLICY, policy(index))

    def step_sizes() -> None:
        longest = 0.0
        for _ in range(10_000):
            start = time.perf_counter()
            handled = sim.reconcile(budget=STEP_BUDGET)
            longest = max(longest, time.perf_counter() - start)
            if handled == 0:
                break
        print(f"{'  longest background step':<44} {longest * 1000:8.1f} ms")

    print(f"{jobs} RayJobs, 2 member clusters")
    timed("create templates + policies", jobs, create)
    timed("bind, schedule, propagate, start (stepped)", jobs, step_sizes)
    timed("advance 30 s: clusters ready, submitters", jobs, lambda: sim.advance(30))
    timed("advance 5 s: jobs RUNNING", jobs, lambda: sim.advance(5))
    timed("advance 60 s: jobs complete, write-back", jobs, lambda: sim.advance(60))
    timed("idle reconcile", jobs, sim.reconcile)
    states = Counter(
        (obj.get("status") or {}).get("jobDeploymentStatus") for obj in sim.karmada.items(RAYJOB)
    )
    placed = {name: m.store.count(RAYJOB) for name, m in sim.members.items()}
    pods = sum(m.store.count(POD) for m in sim.members.values())
    print(f"bindings {sim.karmada.count(RESOURCE_BINDING)}  templates {dict(states)}")
    print(f"member RayJobs {placed}  pods {pods}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
