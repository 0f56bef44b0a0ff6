"""Karmada-path API benchmark, in process: the app on a temporary SQLite file talks to the
simulator over real HTTP with the real ``kubernetes`` client. Measures ``POST /jobs`` (store,
commit, submit three objects), ``GET /jobs/{id}/status`` (live: binding + workload + cached
clusters), ``GET /jobs/{id}/logs`` (pod lookup + log through the cluster proxy) and
``DELETE /jobs/{id}`` (three deletes + checks), sequentially.

    python bench/api_karmada.py --jobs 30

Prints p50/p99/max latency per route and the number of simulator requests per job.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from karmada_sim.server import SimulatorServer
from karmada_sim.simulator import ClusterSpec, Simulator, Timings
from ml_platform.app import create_app
from ml_platform.config import LogFormat, Settings
from ml_platform.db.engine import build_engine
from ml_platform.db.migrate import upgrade_to_head
from ml_platform.logging import configure_logging

UI_REQUEST = json.loads(
    (Path(__file__).resolve().parents[1] / "examples" / "xgboost-job.json").read_text()
)


async def _timed(
    samples: list[float], call: Callable[[], Awaitable[httpx.Response]]
) -> httpx.Response:
    start = time.perf_counter()
    response = await call()
    samples.append((time.perf_counter() - start) * 1000)
    response.raise_for_status()
    return response


def _report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"{name:<22} n={len(ordered):<4} p50={statistics.median(ordered):7.1f} ms  "
        f"p99={p99:7.1f} ms  max={ordered[-1]:7.1f} ms"
    )


async def run(jobs: int, workdir: Path) -> None:
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    engine = build_engine(Settings(database={"url": url}).database)
    await upgrade_to_head(engine)
    await engine.dispose()
    timings = Timings(initializing_seconds=30.0, running_seconds=60.0)
    sim = Simulator(
        [ClusterSpec.parse("member1@eu-west"), ClusterSpec.parse("member2@us-east")],
        timings=timings,
    )
    with SimulatorServer(sim) as server:
        kubeconfig = server.write_kubeconfig(workdir / "kubeconfig")
        settings = Settings(
            environment="dev",
            allow_unauthenticated=True,
            database={"url": url},
            karmada={"kubeconfig": kubeconfig},
            monitor={"enabled": False},
        )
        app = create_app(settings)
        samples: dict[str, list[float]] = {
            k: [] for k in ("POST /jobs", "GET status", "GET logs", "DELETE /jobs")
        }
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                ids = []
                for index in range(jobs):
                    body = copy.deepcopy(UI_REQUEST)
                    body["jobName"] = f"bench-{index}"
                    response = await _timed(
                        samples["POST /jobs"], lambda b=body: client.post("/api/v1/jobs", json=b)
                    )
                    ids.append(response.json()["id"])
                server.advance(60)
                server.reset_stats()
                for job_id in ids:
                    await _timed(
                        samples["GET status"],
                        lambda j=job_id: client.get(f"/api/v1/jobs/{j}/status"),
                    )
                    await _timed(
                        samples["GET logs"], lambda j=job_id: client.get(f"/api/v1/jobs/{j}/logs")
                    )
                reads = server.stats()["total"]
                for job_id in ids:
                    await _timed(
                        samples["DELETE /jobs"], lambda j=job_id: client.delete(f"/api/v1/jobs/{j}")
                    )
        for name, values in samples.items():
            _report(name, values)
        print(f"simulator requests per job for status + logs: {reads / jobs:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=30)
    args = parser.parse_args()
    configure_logging(level="WARNING", log_format=LogFormat.CONSOLE)
    with tempfile.TemporaryDirectory() as workdir:
        asyncio.run(run(args.jobs, Path(workdir)))


if __name__ == "__main__":
    main()
