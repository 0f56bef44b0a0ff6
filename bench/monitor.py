"""The status monitor at scale: N active jobs in Postgres, their workloads in the simulator
running as a separate process (`ml-platform sim`), reached over real HTTP.

Prints:
- tick time p50/p99 and Karmada API calls per tick: the first tick after startup (empty cache,
  every job observed and written), then steady ticks;
- the old design for comparison: one GET per job per tick, one job after another (timed on up
  to --old-sample jobs and scaled to N when N is larger);
- standby takeover: the leader's lock connection dies; the time from a standby getting the lock
  to the end of its first complete sync;
- end-to-end lag: a workload finishing in a member cluster (simulated time moved through the
  simulator's control API) until `GET /jobs/{id}` on the app shows it, with the event path
  (monitor.event_window_seconds 20 ms) and without it (status from the 1 s ticks only), and
  the ratio;
- this process's resident memory (the app, its monitor and watch caches; the simulator runs in
  its own process).

Targets at 10,000 jobs: lag p99 at most 250 ms, tick under 250 ms, takeover at most 2 s, API
calls per tick independent of N.

Run: .venv/bin/python bench/monitor.py --jobs 1000 10000
Needs the local Postgres (127.0.0.1:5432, user postgres); uses a throw-away database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import logging
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import structlog
from sqlalchemy import insert

from karmada_sim.workloads.common import DURATION_ANNOTATION
from ml_platform.app import create_app, freeze_startup_objects
from ml_platform.config import Settings
from ml_platform.db.base import utcnow
from ml_platform.db.engine import build_engine, build_sessionmaker
from ml_platform.db.migrate import upgrade_to_head
from ml_platform.jobs.lifecycle import JobStatus
from ml_platform.jobs.models import TrainingJob
from ml_platform.jobs.schemas import TrainingJobRequest
from ml_platform.jobs.service import resolve_algorithm
from ml_platform.jobs.workload import render_job
from ml_platform.karmada.bindings import binding_ref
from ml_platform.karmada.errors import KarmadaUnavailable
from ml_platform.karmada.gateway import KarmadaGateway, ObjectRef
from ml_platform.karmada.status import JobPhase, observe
from ml_platform.metrics import Metrics
from ml_platform.monitor.service import StatusMonitor

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
NAMESPACES = 20
LAG_SAMPLES = 60
# Every job runs far longer than the benchmark, except the lag samples, which finish one per
# round: sample k after FIRST_FINISH + k * ROUND simulated seconds of running.
LONG_RUN_SECONDS = 10**7
FIRST_FINISH = 200
ROUND = 20
RUNNING_AT = 35  # initializing (30) + RayJob pending (5)
STARTUP_SECONDS = 40
EXAMPLE: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "examples" / "xgboost-job.json").read_text()
)
# The example job without a PVC (two objects per job), on any cluster, allowed to run 30 days.
REQUEST: dict[str, Any] = {
    **EXAMPLE,
    "jobName": "bench",
    "resources": {**EXAMPLE["resources"], "volumeSizeGB": 0},
    "stoppingCondition": {"maxRuntimeSeconds": 30 * 24 * 3600},
    "targetClusters": [],
}


def pct(samples: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def ms(samples: list[float]) -> str:
    """p50/p99/max in milliseconds."""
    return (
        f"p50 {pct(samples, 0.5) * 1000:8.1f} ms  p99 {pct(samples, 0.99) * 1000:8.1f} ms  "
        f"max {max(samples) * 1000:8.1f} ms  (n={len(samples)})"
    )


@contextlib.contextmanager
def simulator_process(workdir: Path) -> Iterator[Path]:
    """`ml-platform sim` on a free port; yields its kubeconfig; stopped at exit."""
    kubeconfig = workdir / "sim.kubeconfig"
    command = [
        sys.executable,
        "-m",
        "ml_platform.cli",
        "sim",
        "--port",
        "0",
        "--kubeconfig-out",
        str(kubeconfig),
        "--seed",
        "1",
        "--initializing-seconds",
        "30",
        "--pending-seconds",
        "5",
        "--running-seconds",
        str(LONG_RUN_SECONDS),
        "--log-interval-seconds",
        "100000",
        "--namespaces",
        ",".join(f"team-{n:02d}" for n in range(NAMESPACES)),
    ]
    env = {**os.environ, "ML_PLATFORM_LOG__LEVEL": "warning"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    try:
        assert process.stdout is not None
        for _ in range(200):  # bounded: the simulator prints its URL within a few seconds
            line = process.stdout.readline()
            if "listening on" in line or not line:
                break
        if not re.search(r"listening on http://", line) or not kubeconfig.exists():
            raise RuntimeError(f"the simulator did not start: {line!r}")
        yield kubeconfig
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


@contextlib.contextmanager
def throwaway_database() -> Iterator[str]:
    """A fresh Postgres database, dropped at exit."""
    name = f"ml_platform_bench_{os.getpid()}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def job_rows(count: int) -> list[dict[str, Any]]:
    """Rows of ``count`` Submitted jobs, as the API and a successful submission leave them."""
    request = TrainingJobRequest.model_validate(REQUEST)
    sent = request.model_dump(mode="json", by_alias=True, exclude_unset=True)
    resolved = resolve_algorithm(request)
    now = utcnow()
    rows = []
    for index in range(count):
        job_id = f"bench-{index:06d}"
        rows.append(
            {
                "id": job_id,
                "job_name": "bench",
                "namespace": f"team-{index % NAMESPACES:02d}",
                "algorithm": resolved.algorithm_id,
                "priority": 1,
                "status": JobStatus.SUBMITTED,
                "reason": "Submitted",
                "message": "submitted",
                "request": {**sent, "namespace": f"team-{index % NAMESPACES:02d}"},
                "workload_kind": resolved.workload_kind,
                "workload_name": job_id,
                "target_clusters": [],
                "cluster_status": None,
                "max_runtime_seconds": REQUEST["stoppingCondition"]["maxRuntimeSeconds"],
                "karmada_attempts": 1,
                "next_karmada_attempt_at": None,
                "submitted_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


async def seed(settings: Settings, gateway: KarmadaGateway, count: int) -> list[str]:
    """Insert the jobs and create their objects in the simulator; the lag samples' ids."""
    engine = build_engine(settings.database)
    await upgrade_to_head(engine)
    sessionmaker = build_sessionmaker(engine)
    rows = job_rows(count)
    async with sessionmaker() as session, session.begin():
        for start in range(0, len(rows), 2000):
            await session.execute(insert(TrainingJob), rows[start : start + 2000])
    await engine.dispose()
    samples = {rows[(k * count) // LAG_SAMPLES]["id"]: k for k in range(LAG_SAMPLES)}
    limit = asyncio.Semaphore(12)

    async def create(row: dict[str, Any]) -> None:
        job = TrainingJob(**row)
        rendered = render_job(job, settings.workloads)
        async with limit:
            for manifest in rendered.objects:
                if manifest is rendered.workload and row["id"] in samples:
                    manifest = copy.deepcopy(manifest)
                    duration = FIRST_FINISH + samples[row["id"]] * ROUND
                    annotations = manifest["metadata"].setdefault("annotations", {})
                    annotations[DURATION_ANNOTATION] = str(duration)
                for attempt in range(5):  # the loaded simulator may drop a connection
                    try:
                        await gateway.create(manifest)
                        break
                    except KarmadaUnavailable:
                        if attempt == 4:
                            raise
                        await asyncio.sleep(0.5)

    started = time.perf_counter()
    # The samples last and together: simulated time runs with the wall clock, and a sample's
    # finish is counted from its creation, so all of them must start within a moment.
    ordered = [r for r in rows if r["id"] not in samples] + [r for r in rows if r["id"] in samples]
    for start in range(0, len(ordered), 500):
        await asyncio.gather(*(create(row) for row in ordered[start : start + 500]))
    print(f"  seeded {count} jobs ({count * 2} objects) in {time.perf_counter() - started:.1f} s")
    return sorted(samples, key=samples.__getitem__)


async def sim_advance(client: httpx.AsyncClient, seconds: float) -> None:
    """Move simulated time through the simulator's control API."""
    response = await client.post("/sim/v1/advance", json={"seconds": seconds})
    response.raise_for_status()


def new_monitor(settings: Settings, gateway: KarmadaGateway) -> tuple[StatusMonitor, Any]:
    """A monitor with an engine of its own (as another replica would have); and the engine."""
    engine = build_engine(settings.database)
    monitor = StatusMonitor(
        engine=engine,
        sessionmaker=build_sessionmaker(engine),
        gateway=gateway,
        settings=settings,
        metrics=Metrics(),
    )
    return monitor, engine


def first_tick(monitor: StatusMonitor) -> str:
    """The first leading tick's time, split, and what its sync did."""
    assert monitor.last is not None
    assert monitor.last.sync is not None, monitor.last.snapshot_error
    last = monitor.last
    return (
        f"{last.seconds * 1000:.0f} ms (snapshot {last.snapshot_seconds * 1000:.0f} ms, sync "
        f"{last.sync_seconds * 1000:.0f} ms), observed {last.sync.observed}, wrote "
        f"{last.sync.changed} rows"
    )


async def measure_ticks(
    settings: Settings, gateway: KarmadaGateway, ticks: int
) -> tuple[list[float], list[int], float]:
    """The first (cold) tick's time, then ``ticks`` steady ticks."""
    monitor, engine = new_monitor(settings, gateway)
    try:
        await monitor.run_once()
        assert monitor.last is not None
        cold = monitor.last.seconds
        print(f"  first tick (cold cache): {first_tick(monitor)}")
        seconds: list[float] = []
        calls: list[int] = []
        snapshot_seconds: list[float] = []
        sync_seconds: list[float] = []
        for _ in range(ticks):
            await monitor.run_once()
            seconds.append(monitor.last.seconds)
            calls.append(monitor.last.api_calls)
            snapshot_seconds.append(monitor.last.snapshot_seconds)
            sync_seconds.append(monitor.last.sync_seconds)
        print(f"  steady snapshot:         {ms(snapshot_seconds)}")
        print(f"  steady status sync:      {ms(sync_seconds)}")
    finally:
        await monitor.stop()
        await engine.dispose()
    return seconds, calls, cold


async def measure_takeover(settings: Settings, gateway: KarmadaGateway) -> float:
    """The leader dies (its lock connection breaks, its caches go with it); seconds from a
    standby's getting the lock to the end of its first complete sync."""
    leader, leader_engine = new_monitor(settings, gateway)
    standby, standby_engine = new_monitor(settings, gateway)
    try:
        await leader.run_once()
        await standby.run_once()
        assert leader.is_leader
        assert not standby.is_leader
        assert standby.snapshots is not None
        reflectors = standby.snapshots.reflectors
        for _ in range(1200):  # bounded: a standby that has run a while follows Karmada
            if all(r.connected for r in reflectors):
                break
            await asyncio.sleep(0.05)
        await leader.leader._drop()  # what a dead process leaves: Postgres frees the lock
        await leader._drop_snapshots()
        for _ in range(100):  # bounded: the lock is free at once
            await standby.run_once()
            if standby.is_leader:
                break
        took = standby.last.seconds if standby.last else float("nan")
        print(f"  standby takeover, lock to first complete sync: {first_tick(standby)}")
        return took
    finally:
        await standby.stop()
        await leader.stop()
        await standby_engine.dispose()
        await leader_engine.dispose()


def rss_mb() -> tuple[float, float]:
    """This process's resident memory now and at its peak, in MB (Linux /proc)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def old_design_tick(gateway: KarmadaGateway, refs: list[ObjectRef]) -> float:
    """One tick of the old design: a GET per job, one after another."""
    started = time.perf_counter()
    for ref in refs:
        await gateway.get(ref)
    return time.perf_counter() - started


@contextlib.asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its monitor loop (1 s) running, past its first tick; a client for its API.

    A new leader's first tick observes every job (timed on its own above), so lag samples
    start once it is done."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        monitor = app.state.monitor
        started = time.perf_counter()
        first = None  # the first tick's report, filled in as that tick runs
        while first is None or first.seconds == 0:
            if time.perf_counter() - started > 120:
                raise RuntimeError("the app's monitor did not finish a tick within 120 s")
            if first is None and monitor.last is not None and monitor.last.led:
                first = monitor.last
            await asyncio.sleep(0.01)
        if first.sync is None:
            raise RuntimeError(f"the app's first tick did not sync: {first.snapshot_error}")
        print(f"  app started; its monitor's first tick took {first.seconds * 1000:.0f} ms")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            yield client


async def _finished_in_sim(gateway: KarmadaGateway, settings: Settings, job_id: str) -> bool:
    """Whether the simulator reports the sample's workload as finished (the ground truth)."""
    row = next(r for r in job_rows(int(job_id.split("-")[1]) + 1) if r["id"] == job_id)
    job = TrainingJob(**row)
    template = await gateway.get(ObjectRef.of(render_job(job, settings.workloads).workload))
    annotations = ((template or {}).get("metadata") or {}).get("annotations")
    observation = observe(
        "RayJob",
        binding=await gateway.get(binding_ref(job, annotations)),
        template_status=(template or {}).get("status"),
        cluster_ready={},
    )
    return observation.phase is JobPhase.SUCCEEDED


async def measure_lag(
    settings: Settings, gateway: KarmadaGateway, samples: list[str], start_at: float
) -> tuple[list[float], int]:
    """Per sample job: simulated finish -> `GET /jobs/{id}` shows Succeeded. Also how many
    samples could not be timed (already finished before their round). The simulator's time is
    moved to ``start_at`` seconds past its start first (a half round before a sample ends)."""
    lags: list[float] = []
    skipped = 0
    async with (
        httpx.AsyncClient(base_url=gateway.host, timeout=30) as sim,
        running_app(settings) as api,
    ):
        await sim_advance(sim, start_at)
        waiting = list(samples)
        for _ in range(len(samples) + 5):  # bounded: one sample finishes per round
            if not waiting:
                break
            running = [
                job_id
                for job_id in waiting
                if (await api.get(f"/api/v1/jobs/{job_id}")).json()["status"] == "Running"
            ]
            skipped += len(waiting) - len(running)  # finished before we could time it
            # A random phase against the 1 s loop, as a real change would have.
            await asyncio.sleep(random.uniform(0, 1))
            await sim_advance(sim, ROUND)
            changed = time.perf_counter()
            # Samples finish in order, one per round: time the first still running, then
            # check against the simulator (the ground truth) that it did finish.
            expected = running[0] if running else None
            lag = None
            for _ in range(2000 if expected else 0):  # bounded: 2000 x 5 ms = 10 s
                body = (await api.get(f"/api/v1/jobs/{expected}")).json()
                if body["status"] == "Succeeded":
                    lag = time.perf_counter() - changed
                    break
                await asyncio.sleep(0.005)
            finished = [j for j in running if await _finished_in_sim(gateway, settings, j)]
            if expected in finished:
                if lag is None:
                    print(f"  {expected} not Succeeded within 10 s")
                else:
                    lags.append(lag)
            waiting = [j for j in running if j not in finished]
        skipped += len(waiting)
    return lags, skipped


async def run(count: int, ticks: int, old_sample: int) -> None:
    """The whole benchmark for ``count`` jobs."""
    print(f"\n=== {count} active jobs ===")
    with (
        tempfile.TemporaryDirectory() as workdir,
        simulator_process(Path(workdir)) as kubeconfig,
        throwaway_database() as url,
    ):
        settings = Settings(
            environment="production",
            allow_unauthenticated=True,
            database={"url": url, "pool_size": 5},
            karmada={"kubeconfig": kubeconfig, "request_timeout_seconds": 30.0},
            log={"level": "warning"},
        )
        gateway = KarmadaGateway.from_kubeconfig(str(kubeconfig), timeout_seconds=30.0)
        try:
            samples = await seed(settings, gateway, count)
            async with httpx.AsyncClient(base_url=gateway.host, timeout=60) as sim:
                await sim_advance(sim, STARTUP_SECONDS)
            # Let the simulator finish writing 2 x N statuses back before timing the monitor.
            await asyncio.sleep(max(1.0, count / 1000))
            seconds, calls, _ = await measure_ticks(settings, gateway, ticks)
            print(f"  steady tick:   {ms(seconds)}")
            print(f"  API calls per tick: {sorted(set(calls))}")

            rows = job_rows(min(count, old_sample))
            refs = [
                ObjectRef.of(render_job(TrainingJob(**row), settings.workloads).workload)
                for row in rows
            ]
            old = [await old_design_tick(gateway, refs) for _ in range(2)]
            scale = count / len(refs)
            old_tick = statistics.median(old) * scale
            note = "" if scale == 1 else f" (timed on {len(refs)} jobs, scaled x{scale:g})"
            print(f"  old design tick: {old_tick * 1000:.0f} ms, {count} API calls per tick{note}")
            print(
                f"  ratio old/new: tick x{old_tick / statistics.median(seconds):.1f}, "
                f"API calls x{count / max(calls):.0f}"
            )
            await measure_takeover(settings, gateway)

            # Running began about 5 s before "now" (the startup margin): stop short of sample 0.
            start_at = FIRST_FINISH - ROUND / 2 - (STARTUP_SECONDS - RUNNING_AT)
            half = len(samples) // 2
            designs = {
                "event path (20 ms window)": settings,
                "ticks only (old design)": settings.model_copy(
                    update={
                        "monitor": settings.monitor.model_copy(update={"event_window_seconds": 0})
                    }
                ),
            }
            results: dict[str, list[float]] = {}
            for (name, design), batch in zip(
                designs.items(), (samples[:half], samples[half:]), strict=True
            ):
                lags, skipped = await measure_lag(design, gateway, batch, start_at)
                start_at = 0  # the first design left time half a round before the next sample
                results[name] = lags
                if lags:
                    print(f"  lag member change -> GET /jobs/{{id}}, {name}: {ms(lags)}")
                if skipped:
                    print(f"  ({skipped} samples not timed: not finishing in their round)")
            new, old_lags = results.values()
            if new and old_lags:
                print(
                    f"  ratio ticks-only/event path: lag p50 "
                    f"x{pct(old_lags, 0.5) / pct(new, 0.5):.1f}, "
                    f"p99 x{pct(old_lags, 0.99) / pct(new, 0.99):.1f}"
                )
            now_mb, peak_mb = rss_mb()
            print(f"  process RSS: {now_mb:.0f} MB now, {peak_mb:.0f} MB peak")
        finally:
            await gateway.close()


def main() -> None:
    """Parse the flags and run the benchmark for each job count."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--ticks", type=int, default=60, help="steady ticks timed")
    parser.add_argument("--old-sample", type=int, default=2000, help="jobs the old tick GETs")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    freeze_startup_objects()  # as `ml-platform serve` does
    for count in args.jobs:
        asyncio.run(run(count, args.ticks, args.old_sample))


if __name__ == "__main__":
    main()
