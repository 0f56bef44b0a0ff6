"""Fault tests 4 and 5 on real processes: `ml-platform serve` killed (SIGKILL) during a burst
and restarted, and stopped (SIGTERM) with requests in flight; `ml-platform sim` runs apart."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from ml_platform.db.url import normalize_database_url

from .processes import ServiceProcess, SimProcess
from .support import JOBS, Scale, eventually, figure, job_request, retrying


def _dsn(url: str) -> str:
    parsed = normalize_database_url(url)
    return (
        f"host={parsed.host} port={parsed.port or 5432} "
        f"user={parsed.username} dbname={parsed.database}"
    )


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(_dsn(url), autocommit=True, connect_timeout=5) as connection:
        cursor = connection.execute(sql)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimProcess]:
    """`ml-platform sim` as its own process."""
    process = SimProcess(tmp_path)
    yield process
    process.stop()


@pytest.fixture
def empty_database(postgres_url: str) -> str:
    """The test Postgres database with no jobs in it."""
    _query(postgres_url, "DELETE FROM training_job")
    return postgres_url


async def _rows_stored(url: str, count: int) -> None:
    """Return once at least ``count`` jobs are stored."""

    async def enough() -> bool:
        rows = await asyncio.to_thread(_query, url, "SELECT count(*) FROM training_job")
        return bool(rows[0][0] >= count)

    await eventually(enough, within=60, every=0.05)


async def _burst(
    base: str, keys: list[str], *, retry: bool = False
) -> list[httpx.Response | BaseException]:
    """One create per key (its Idempotency-Key), all at once; with ``retry`` each 503 is
    sent again after its Retry-After."""
    limits = httpx.Limits(max_connections=len(keys))
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def send(key: str) -> httpx.Response:
            body = job_request(key)
            post = lambda: client.post(JOBS, json=body, headers={"Idempotency-Key": key})  # noqa: E731
            return (await retrying(post))[0] if retry else await post()

        return await asyncio.gather(*(send(key) for key in keys), return_exceptions=True)


async def test_sigkill_during_a_burst_then_restart(
    empty_database: str, sim: SimProcess, tmp_path: Path, scale: Scale
) -> None:
    count = scale.pick(12, 200)
    keys = [f"killed{n}" for n in range(count)]
    sim.control("DELETE", "stats")
    service = ServiceProcess(tmp_path, database_url=empty_database, kubeconfig=sim.kubeconfig)
    try:
        burst = asyncio.create_task(_burst(service.base, keys, retry=True))
        await _rows_stored(empty_database, count // 3)
        service.signal(signal.SIGKILL)
        answers = await burst
        service.wait(10)
    finally:
        service.stop()
    restarted = ServiceProcess(tmp_path, database_url=empty_database, kubeconfig=sim.kubeconfig)
    try:
        retried = [key for key, a in zip(keys, answers, strict=True) if _status(a) != 201]
        again = await _burst(restarted.base, retried, retry=True) if retried else []
        assert {_status(a) for a in again} <= {201}, again
        stored = _query(empty_database, "SELECT id FROM training_job")
        job_ids = sorted(row[0] for row in stored)

        async def none_pending() -> bool:
            pending = _query(
                empty_database, "SELECT count(*) FROM training_job WHERE status = 'Pending'"
            )
            return pending[0][0] == 0

        await eventually(none_pending, within=60, every=0.5)
        submitted = dict(
            _query(
                empty_database,
                "SELECT job_id, count(*) FROM job_event "
                "WHERE from_status = 'Pending' AND to_status = 'Submitted' GROUP BY job_id",
            )
        )
        names = sim.names("/apis/ray.io/v1/rayjobs")
        creates = sim.control("GET", "stats")["byRequest"].get("create rayjobs.ray.io", 0)
    finally:
        restarted.stop()
    twice = [job_id for job_id in job_ids if submitted.get(job_id) != 1]
    figure(
        "4-sigkill-restart",
        creates=count,
        stored_at_kill=count // 3,
        answered_201_before_kill=sum(_status(a) == 201 for a in answers),
        retried_after_restart=len(retried),
        jobs_stored=len(job_ids),
        submitted_not_exactly_once=len(twice),
        workload_objects=len(names),
        workload_create_requests=creates,
    )
    assert len(job_ids) == count  # every key made exactly one job
    assert twice == []
    assert names == job_ids


async def test_sigterm_with_requests_in_flight(
    empty_database: str, sim: SimProcess, tmp_path: Path, scale: Scale
) -> None:
    in_flight = 50
    keys = [f"term{n}" for n in range(in_flight)]
    # Each Karmada call takes 0.3 s: the creates are still running when SIGTERM comes.
    sim.control("PUT", "faults", {"latencySeconds": 0.3})
    service = ServiceProcess(tmp_path, database_url=empty_database, kubeconfig=sim.kubeconfig)
    try:
        burst = asyncio.create_task(_burst(service.base, keys))
        await _rows_stored(empty_database, 5)  # the server is working on the burst
        signalled = time.monotonic()
        service.signal(signal.SIGTERM)
        answers = await burst
        code = service.wait(15)
        exit_seconds = time.monotonic() - signalled
    finally:
        service.stop()
    statuses = [_status(a) for a in answers]
    bare = [a for a in answers if isinstance(a, httpx.Response) and _is_bare_error(a)]
    stored = {row[0] for row in _query(empty_database, "SELECT idempotency_key FROM training_job")}
    created = [key for key, s in zip(keys, statuses, strict=True) if s == 201]
    figure(
        "5-sigterm",
        in_flight=in_flight,
        answered_201=statuses.count(201),
        answered_503=statuses.count(503),
        bare_500=statuses.count(500),
        no_answer=sum(isinstance(a, BaseException) for a in answers),
        exit_code=code,
        exit_s=round(exit_seconds, 2),
        stored_201=len(set(created) & stored),
        stored_503=len({k for k, st in zip(keys, statuses, strict=True) if st == 503} & stored),
    )
    assert bare == []
    assert set(statuses) <= {201, 503}
    assert set(created) <= stored
    assert code == 0
    assert exit_seconds < 10


def _status(answer: httpx.Response | BaseException) -> int:
    return answer.status_code if isinstance(answer, httpx.Response) else 0


def _is_bare_error(response: httpx.Response) -> bool:
    """A 5xx that is not the API's JSON error with Retry-After."""
    if response.status_code < 500:
        return False
    json_error = response.headers.get("content-type", "").startswith("application/json")
    return not (json_error and response.headers.get("Retry-After"))
