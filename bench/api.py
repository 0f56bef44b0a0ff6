"""API read benchmark: seeds N jobs in a dedicated Postgres database, starts a real
``ml-platform serve`` process, and measures ``GET /jobs/{id}``, ``GET /jobs?limit=50`` (first
page and a deep keyset page) and a trivial endpoint on the same server (the ceiling).

    python bench/api.py --jobs 100000 --seconds 10 --concurrency 4

Prints p50/p99 latency and requests/s per endpoint, and each read's ratio to the ceiling.
The database ``ml_platform_bench_<pid>`` is created and dropped by the script.
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
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from ml_platform.jobs.cursor import encode_cursor
from ml_platform.jobs.repository import Position

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
CLI = str(Path(sys.executable).parent / "ml-platform")
STATUSES = ("Pending", "Running", "Succeeded", "Failed", "Stopped")
NAMESPACES = tuple(f"team-{i}" for i in range(10))
# A random viewer token for the server under test (never printed).
BENCH_TOKEN = secrets.token_urlsafe(32)
BENCH_TOKENS = json.dumps([{"name": "bench", "role": "viewer", "token": BENCH_TOKEN}])
# What the UI sends for an XGBoost job (the example request), as each stored row carries it.
REQUEST_TEMPLATE = json.loads(
    (Path(__file__).resolve().parents[1] / "examples" / "xgboost-job.json").read_text()
)


@dataclass(frozen=True)
class Result:
    """Latencies of one endpoint run."""

    name: str
    latencies_ms: list[float]
    seconds: float
    errors: int

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


def admin(sql: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
        row = [
            job_id, name, namespace, "xgboost", "100", STATUSES[i % len(STATUSES)], "Created",
            json.dumps(request), "RayJob", json.dumps(["member1"]), "14400", "0", stamp, stamp,
        ]  # fmt: skip
        jobs.write("\t".join(row) + "\n")
        events.write(f"{job_id}\t{stamp}\tPending\tCreated\n")
        keys.append((created, job_id))
    columns = (
        "id, job_name, namespace, algorithm, priority, status, reason, request, workload_kind,"
        " target_clusters, max_runtime_seconds, karmada_attempts, created_at, updated_at"
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
    client: httpx.AsyncClient, name: str, urls: list[str], seconds: float, concurrency: int
) -> Result:
    """Requests ``urls`` round-robin from ``concurrency`` workers for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        nonlocal errors
        index = offset
        while time.perf_counter() < deadline:
            url = urls[index % len(urls)]
            index += concurrency
            started = time.perf_counter()
            response = await client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                errors += 1
            latencies.append(elapsed)

    began = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return Result(name, latencies, time.perf_counter() - began, errors)


def wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not become ready within 60 s")


async def measure(
    base: str, keys: list[tuple[datetime, str]], seconds: float, concurrency: int
) -> list[Result]:
    rng = random.Random(11)
    ids = [job_id for _, job_id in rng.sample(keys, min(2000, len(keys)))]
    newest_first = sorted(keys, reverse=True)
    deep_offsets = [int(len(newest_first) * fraction) for fraction in (0.5, 0.7, 0.9)]
    deep_cursors = [
        encode_cursor(Position(*newest_first[offset]))
        for offset in deep_offsets
        if offset < len(newest_first)
    ]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    # Measured as deployed: every request authenticates with an API token.
    headers = {"Authorization": f"Bearer {BENCH_TOKEN}"}
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=30, headers=headers
    ) as client:
        plan = [
            ("trivial GET /docs (ceiling)", ["/docs"]),
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
        results = []
        for name, urls in plan:
            await drive(client, name, urls, min(1.0, seconds), concurrency)  # warm-up
            results.append(await drive(client, name, urls, seconds, concurrency))
        return results


def report(results: list[Result], jobs: int, concurrency: int) -> None:
    ceiling = results[0]
    print(f"\n{jobs} jobs in Postgres, {concurrency} concurrent client(s), 1 server process")
    print(f"{'endpoint':56} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'err':>5} {'rps/ceil':>9}")
    for result in results:
        print(
            f"{result.name:56} {result.p50:8.2f} {result.p99:8.2f} {result.rps:8.0f}"
            f" {result.errors:5d} {result.rps / ceiling.rps:9.2f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per endpoint")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    name = f"ml_platform_bench_{os.getpid()}"
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    process: subprocess.Popen[bytes] | None = None
    try:
        migrated = subprocess.run([CLI, "migrate", f"--database-url={url}"], capture_output=True)
        if migrated.returncode != 0:
            raise SystemExit(migrated.stderr.decode()[-2000:])
        started = time.perf_counter()
        keys = seed(f"host=127.0.0.1 user=postgres dbname={name}", args.jobs)
        print(f"seeded {args.jobs} jobs in {time.perf_counter() - started:.1f} s")

        port = free_port()
        process = subprocess.Popen(
            [CLI, "serve", f"--database-url={url}", f"--port={port}", "--http-host=127.0.0.1"],
            env={**os.environ, "ML_PLATFORM_AUTH__TOKENS": BENCH_TOKENS},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, process)
        results = asyncio.run(measure(base, keys, args.seconds, args.concurrency))
        report(results, args.jobs, args.concurrency)
        return 0
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
