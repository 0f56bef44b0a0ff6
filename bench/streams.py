"""Streaming benchmark, in process: the app on a temporary SQLite file, the simulator over real
HTTP. Measures the first-line latency of following a driver log (``follow_driver_log``, what
``GET /jobs/{id}/logs/stream`` serves), then counts the process's threads while N log follows
and the monitor's watch caches are open, right after they are closed, and a moment later.

    python bench/streams.py --follows 20 --rounds 50

Prints p50/p99 of the first-line latency and the thread counts by name.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import copy
import json
import re
import statistics
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI

from karmada_sim.server import SimulatorServer
from karmada_sim.simulator import ClusterSpec, Simulator, Timings
from ml_platform.app import create_app
from ml_platform.config import LogFormat, Settings
from ml_platform.db.engine import build_engine
from ml_platform.db.migrate import upgrade_to_head
from ml_platform.jobs import repository
from ml_platform.jobs.logs import DriverPod, StreamSlots, find_driver, follow_driver_log
from ml_platform.logging import configure_logging
from ml_platform.monitor.watched import WatchedSnapshots

UI_REQUEST = json.loads(
    (Path(__file__).resolve().parents[1] / "examples" / "xgboost-job.json").read_text()
)


def kind(name: str) -> str:
    """A thread's name without its number or the resource or pod it reads."""
    for prefix in ("karmada-watch-", "karmada-log-", "log-follow-", "reflector-"):
        if name.startswith(prefix):
            return prefix.rstrip("-")
    return re.sub(r"_\d+$", "", name)  # pool threads: karmada_3, asyncio_0


def threads_by_kind() -> dict[str, int]:
    """Live threads, grouped by kind (``karmada`` is the gateway's pool for single requests)."""
    return dict(sorted(collections.Counter(kind(t.name) for t in threading.enumerate()).items()))


def show(label: str) -> None:
    print(f"{label:<34} {threading.active_count():>4} threads  {threads_by_kind()}")


async def drivers(app: FastAPI, ids: list[str]) -> list[tuple[DriverPod, str]]:
    found = []
    async with app.state.sessionmaker() as session:
        for job_id in ids:
            job = await repository.get_job(session=session, job_id=job_id)
            assert job is not None
            driver = await find_driver(
                gateway=app.state.gateway, job=job, settings=app.state.settings
            )
            assert driver is not None
            found.append((driver, job.namespace))
    return found


def follow(
    app: FastAPI, driver: DriverPod, namespace: str, slots: StreamSlots
) -> AsyncIterator[str]:
    return follow_driver_log(
        gateway=app.state.gateway, driver=driver, namespace=namespace, tail_lines=5, slots=slots
    )


async def first_line(events: AsyncIterator[str]) -> None:
    async for event in events:
        if event.startswith("data: ") and not event.startswith("event:"):
            return
    raise AssertionError("the log ended before its first line")


async def run(follows: int, rounds: int, workdir: Path) -> None:
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    engine = build_engine(Settings(database={"url": url}).database)
    await upgrade_to_head(engine)
    await engine.dispose()
    sim = Simulator(
        [ClusterSpec.parse("member1@eu-west"), ClusterSpec.parse("member2@us-east")],
        timings=Timings(initializing_seconds=30.0, running_seconds=600.0),
    )
    with SimulatorServer(sim) as server:
        settings = Settings(
            environment="dev",
            allow_unauthenticated=True,
            database={"url": url},
            karmada={"kubeconfig": server.write_kubeconfig(workdir / "kubeconfig")},
            monitor={"enabled": False},
            http={"max_log_streams": follows + 1},
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                ids = []
                for index in range(follows):
                    body = copy.deepcopy(UI_REQUEST)
                    body["jobName"] = f"bench-{index}"
                    response = await client.post("/api/v1/jobs", json=body)
                    response.raise_for_status()
                    ids.append(response.json()["id"])
            server.advance(0)
            server.advance(60)  # every driver runs; simulated time then stands still
            pods = await drivers(app, ids)

            slots = StreamSlots(follows + 1)
            latencies = []
            for index in range(rounds):
                driver, namespace = pods[index % len(pods)]
                events = follow(app, driver, namespace, slots)
                started = time.perf_counter()
                await first_line(events)
                latencies.append((time.perf_counter() - started) * 1000)
                await events.aclose()
            ordered = sorted(latencies)
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            print(
                f"log follow, first line: n={len(ordered)} p50={statistics.median(ordered):.2f} ms"
                f"  p99={p99:.2f} ms  max={ordered[-1]:.2f} ms"
            )

            await asyncio.sleep(0.5)
            show("before")
            open_follows = [follow(app, driver, namespace, slots) for driver, namespace in pods]
            await asyncio.gather(*(first_line(events) for events in open_follows))
            caches = WatchedSnapshots(app.state.gateway)
            caches.start()
            for _ in range(1000):
                if all(r.connected for r in caches.reflectors):
                    break
                await asyncio.sleep(0.01)
            show(f"{follows} follows + {len(caches.reflectors)} watches")
            started = time.perf_counter()
            await asyncio.gather(*(events.aclose() for events in open_follows))
            await caches.stop()
            closing = (time.perf_counter() - started) * 1000
            show(f"just closed ({closing:.0f} ms to close)")
            await asyncio.sleep(0.5)
            show("0.5 s later")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--follows", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    configure_logging(level="WARNING", log_format=LogFormat.CONSOLE)
    with tempfile.TemporaryDirectory() as workdir:
        asyncio.run(run(args.follows, args.rounds, Path(workdir)))


if __name__ == "__main__":
    main()
