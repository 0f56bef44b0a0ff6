"""API read benchmark: seeds N jobs in a Postgres database, starts a real ``ml-platform serve``
process (1 and 2 workers), and measures ``GET /jobs/{id}``, ``GET /jobs?limit=50`` (first page,
a deep keyset page, a filtered page, a rare search) and a trivial endpoint on the same server
(the ceiling) at each client concurrency.

    python bench/api.py --jobs 100000 --seconds 4 --concurrency 1,2,4 --workers 1,2

Prints p50/p99 latency and requests/s per endpoint and of its ceiling, and each read's ratio
to the ceiling. The ceiling is measured in slices interleaved with each endpoint's, so that a
change in the load of a shared machine shifts both sides of the ratio alike. It also prints
the server processes' CPU time per request and the "cpu ratio" (ceiling's CPU per request /
the endpoint's): the throughput ratio when the server's CPU is what limits both, which is
steadier than req/s on a shared machine (it leaves out Postgres' and the client's CPU). The
database ``ml_platform_bench_<pid>`` is created and dropped by the script; ``--database NAME``
keeps a seeded database between runs instead (seeded when it does not hold ``--jobs`` jobs).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from ml_platform.jobs.cursor import encode_cursor
from ml_platform.jobs.repository import Position
from ml_platform.readiness import free_port, wait_ready

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
CLI = str(Path(sys.executable).parent / "ml-platform")
# Measured as deployed: every request authenticates with an API token.
BENCH_TOKEN = secrets.token_urlsafe(32)
BENCH_TOKENS = json.dumps([{"name": "bench", "role": "viewer", "token": BENCH_TOKEN}])
READY_SECONDS = 60
STATUSES = ("Pending", "Running", "Succeeded", "Failed", "Stopped")
NAMESPACES = tuple(f"team-{i}" for i in range(10))
# What the UI sends for an XGBoost job (the example request), as each stored row carries it.
REQUEST_TEMPLATE = json.loads(
    (Path(__file__).resolve().parents[1] / "examples" / "xgboost-job.json").read_text()
)


@dataclass
class Result:
    """Latencies of one endpoint's runs."""

    name: str
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0
    server_cpu_seconds: float = 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds

    @property
    def cpu_ms(self) -> float:
        """CPU time of the server processes per request."""
        return self.server_cpu_seconds * 1000 / len(self.latencies_ms)


def server_pids(pid: int) -> list[int]:
    """The server process and its worker processes."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return [pid, *children]


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time these processes have used so far."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def admin(sql: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


def seed(dsn: str, count: int) -> list[tuple[datetime, str]]:
    """COPY ``count`` jobs (and one event each) into the migrated database."""
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    keys: list[tuple[datetime, str]] = []
    jobs = io.StringIO()
    events = io.StringIO()
    for i in range(count):
        name = f"job-{i}"
        job_id = f"{name}-{rng.getrandbits(32):08x}"
        created = start + timedelta(seconds=i * 13, microseconds=rng.randrange(1_000_000))
        namespace = NAMESPACES[i % len(NAMESPACES)]
        request = dict(REQUEST_TEMPLATE, jobName=name, namespace=namespace)
        stamp = created.isoformat()
        status = STATUSES[i % len(STATUSES)]
        # What the monitor stores once a job reached a cluster (monitor/sync.cluster_status).
        on_cluster = {
            "member1": {
                "phase": status, "reason": None, "message": "job is running on the cluster",
                "active": 1, "succeeded": 0, "failed": 0, "ready": True,
            }
        }  # fmt: skip
        seen = status != "Pending"
        row = [
            job_id, name, namespace, "xgboost", "100", status, "Created", json.dumps(request),
            "RayJob", json.dumps(["member1"]), json.dumps(on_cluster) if seen else "\\N",
            stamp if seen else "\\N", stamp if seen else "\\N", "14400", "0", stamp, stamp,
        ]  # fmt: skip
        jobs.write("\t".join(row) + "\n")
        events.write(f"{job_id}\t{stamp}\tPending\tCreated\n")
        keys.append((created, job_id))
    columns = (
        "id, job_name, namespace, algorithm, priority, status, reason, request, workload_kind,"
        " target_clusters, cluster_status, submitted_at, observed_at, max_runtime_seconds,"
        " karmada_attempts, created_at, updated_at"
    )
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY training_job ({columns}) FROM STDIN") as copy:  # type: ignore[arg-type]
            copy.write(jobs.getvalue())
        with cursor.copy(
            "COPY job_event (job_id, occurred_at, to_status, reason) FROM STDIN"
        ) as copy:
            copy.write(events.getvalue())
        connection.commit()
        cursor.execute("ANALYZE training_job")
        cursor.execute("ANALYZE job_event")
        connection.commit()
    return keys


async def drive(
    client: httpx.AsyncClient,
    urls: list[str],
    seconds: float,
    concurrency: int,
    into: Result,
    pids: list[int],
) -> None:
    """Requests ``urls`` round-robin from ``concurrency`` workers for ``seconds``."""
    deadline = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        index = offset
        while time.perf_counter() < deadline:
            url = urls[index % len(urls)]
            index += concurrency
            started = time.perf_counter()
            response = await client.get(url)
            into.latencies_ms.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                into.errors += 1

    began, cpu_before = time.perf_counter(), cpu_seconds(pids)
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    into.seconds += time.perf_counter() - began
    into.server_cpu_seconds += cpu_seconds(pids) - cpu_before


# Endpoint and ceiling alternate in slices of this length.
SLICE_SECONDS = 0.5
CEILING = ("trivial GET /docs (ceiling)", ["/docs"])


def plan(keys: list[tuple[datetime, str]]) -> list[tuple[str, list[str]]]:
    """The endpoints measured, each with the URLs it cycles through."""
    rng = random.Random(11)
    ids = [job_id for _, job_id in rng.sample(keys, min(2000, len(keys)))]
    newest_first = sorted(keys, reverse=True)
    deep_offsets = [int(len(newest_first) * fraction) for fraction in (0.5, 0.7, 0.9)]
    deep_cursors = [
        encode_cursor(Position(*newest_first[offset]))
        for offset in deep_offsets
        if offset < len(newest_first)
    ]
    return [
        ("GET /api/v1/jobs/{id}", [f"/api/v1/jobs/{job_id}" for job_id in ids]),
        ("GET /api/v1/jobs?limit=50 (first page)", ["/api/v1/jobs?limit=50"]),
        (
            "GET /api/v1/jobs?limit=50&cursor=… (deep page)",
            [f"/api/v1/jobs?limit=50&cursor={cursor}" for cursor in deep_cursors],
        ),
        (
            "GET /api/v1/jobs?limit=50&namespace=team-3 (filtered)",
            ["/api/v1/jobs?limit=50&namespace=team-3"],
        ),
        # Substring search that matches ~11 of the jobs: scans the keyset index to the end.
        (
            "GET /api/v1/jobs?limit=50&q=job-9999 (rare search)",
            ["/api/v1/jobs?limit=50&q=job-9999"],
        ),
    ]


async def measure(
    base: str,
    endpoints: list[tuple[str, list[str]]],
    seconds: float,
    concurrency: int,
    pids: list[int],
) -> list[tuple[Result, Result]]:
    """Each endpoint's result with the ceiling's, measured in alternating slices."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {BENCH_TOKEN}"}
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=30, headers=headers
    ) as client:
        pairs = []
        for name, urls in endpoints:
            warm_up = Result(name)
            await drive(client, CEILING[1], SLICE_SECONDS, concurrency, warm_up, pids)
            await drive(client, urls, SLICE_SECONDS, concurrency, warm_up, pids)
            result, ceiling = Result(name), Result(CEILING[0])
            for _ in range(max(1, round(seconds / SLICE_SECONDS))):
                await drive(client, CEILING[1], SLICE_SECONDS, concurrency, ceiling, pids)
                await drive(client, urls, SLICE_SECONDS, concurrency, result, pids)
            pairs.append((result, ceiling))
        return pairs


def report(pairs: list[tuple[Result, Result]], jobs: int, concurrency: int, workers: int) -> None:
    """One table: each endpoint with its interleaved ceiling and their ratio."""
    print(f"\n{jobs} jobs in Postgres, {concurrency} concurrent client(s), {workers} worker(s)")
    print(
        f"{'endpoint':56} {'p50 ms':>7} {'p99 ms':>7} {'req/s':>6} {'err':>4} {'ceil p50':>8}"
        f" {'ceil p99':>8} {'ceil req/s':>10} {'ratio':>6} {'cpu ms':>7} {'ceil cpu':>8}"
        f" {'cpu ratio':>9}"
    )
    for result, ceiling in pairs:
        print(
            f"{result.name:56} {result.p50:7.2f} {result.p99:7.2f} {result.rps:6.0f}"
            f" {result.errors:4d} {ceiling.p50:8.2f} {ceiling.p99:8.2f} {ceiling.rps:10.0f}"
            f" {result.rps / ceiling.rps:6.2f} {result.cpu_ms:7.2f} {ceiling.cpu_ms:8.2f}"
            f" {ceiling.cpu_ms / result.cpu_ms:9.2f}"
        )


def seeded_keys(name: str, count: int) -> list[tuple[datetime, str]]:
    """The (created_at, id) of the jobs in a kept database, if it holds exactly ``count``."""
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={name}") as connection:
        try:
            rows = connection.execute("SELECT created_at, id FROM training_job").fetchall()
        except psycopg.errors.UndefinedTable:
            return []
    return rows if len(rows) == count else []


def serve(url: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """A real server process on a free port, once it is ready."""
    port = free_port()
    process = subprocess.Popen(
        [
            CLI,
            "serve",
            f"--database-url={url}",
            f"--port={port}",
            "--http-host=127.0.0.1",
            "--log-level=warning",
            # Only when more than one: a build without the flag can still be measured.
            *([f"--workers={workers}"] if workers > 1 else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ML_PLATFORM_AUTH__TOKENS": BENCH_TOKENS},
    )
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, process, READY_SECONDS)
    return process, base


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=4.0, help="per endpoint and setting")
    parser.add_argument("--concurrency", type=numbers, default=[1, 2, 4], help="e.g. 1,2,4")
    parser.add_argument("--workers", type=numbers, default=[1, 2], help="e.g. 1,2")
    parser.add_argument("--database", help="keep this seeded database between runs")
    args = parser.parse_args()

    name = args.database or f"ml_platform_bench_{os.getpid()}"
    keys: list[tuple[datetime, str]] = []
    if args.database:
        if not database_exists(name):
            admin(f'CREATE DATABASE "{name}"')
        keys = seeded_keys(name, args.jobs)
    else:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        migrated = subprocess.run([CLI, "migrate", f"--database-url={url}"], capture_output=True)
        if migrated.returncode != 0:
            raise SystemExit(migrated.stderr.decode()[-2000:])
        if not keys:
            started = time.perf_counter()
            with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={name}") as connection:
                connection.execute("TRUNCATE training_job CASCADE")
            keys = seed(f"host=127.0.0.1 user=postgres dbname={name}", args.jobs)
            print(f"seeded {args.jobs} jobs in {time.perf_counter() - started:.1f} s")
        endpoints = plan(keys)
        for workers in args.workers:
            process, base = serve(url, workers)
            try:
                pids = server_pids(process.pid)
                for concurrency in args.concurrency:
                    pairs = asyncio.run(measure(base, endpoints, args.seconds, concurrency, pids))
                    report(pairs, args.jobs, concurrency, workers)
            finally:
                stop(process)
        return 0
    finally:
        if not args.database:
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_exists(name: str) -> bool:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return found.fetchone() is not None


if __name__ == "__main__":
    sys.exit(main())
