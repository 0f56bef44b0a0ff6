"""A stop through the API racing the monitor's status write, on real Postgres: whichever
commits first, the stop is never lost and the job's history stays a valid chain."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from fastapi import FastAPI

from karmada_support import store_pending_job
from ml_platform.config import Settings
from ml_platform.db.base import utcnow
from ml_platform.db.session import begin_write
from ml_platform.jobs import lifecycle, repository, service
from ml_platform.jobs.lifecycle import JobState, JobStatus, RowWrite, plan_observation
from ml_platform.karmada.status import JobPhase, Observation
from ml_platform.monitor import sync
from ml_platform.monitor.sync import Change, SyncState
from tests_support import AppFactory

RUNNING = Observation(
    phase=JobPhase.RUNNING,
    reason="RayJobRunning",
    message="running on member1",
    active=1,
    succeeded=0,
    failed=0,
    start_time=None,
    completion_time=None,
    clusters=(),
)


@pytest.fixture
async def postgres_app(postgres_url: str, app_factory: AppFactory) -> AsyncIterator[FastAPI]:
    """The app on Postgres; no Karmada, so a stop of a submitted job stays Stopping."""
    settings = Settings(
        environment="dev",
        allow_unauthenticated=True,
        policy={"namespaces": ["*"], "existing_claims": ["*"]},
        database={"url": postgres_url},
    )
    async with app_factory(settings) as running:
        yield running


async def _submitted_jobs(app: FastAPI, request: dict[str, Any], count: int) -> list[str]:
    """Jobs as the monitor watches them: Submitted to Karmada, waiting to run."""
    job_ids = [await store_pending_job(app, request) for _ in range(count)]
    async with app.state.sessionmaker() as session, session.begin():
        await begin_write(session)
        for job_id in job_ids:
            job = await repository.get_job(session=session, job_id=job_id, for_update=True)
            assert job is not None
            job.workload_name = job_id
            await lifecycle.transition(
                session=session, job=job, to=JobStatus.SUBMITTED, reason="Submitted", now=utcnow()
            )
    return job_ids


async def _monitor_plans(app: FastAPI, job_ids: Sequence[str]) -> list[Change]:
    """What the monitor plans for these jobs when Karmada shows them running, from the rows
    as it reads them now."""
    async with app.state.sessionmaker() as session:
        rows = await repository.watched_jobs(
            session=session, statuses=sync.WATCHED_STATUSES, job_ids=job_ids
        )
    now = utcnow()
    changes = []
    for row in rows:
        plan = plan_observation(JobState.of(row), RUNNING, cluster_ready={}, now=now)
        assert plan is not None
        changes.append(Change(row, plan))
    return changes


async def _monitor_write(
    app: FastAPI,
    changes: Sequence[Change],
    state: SyncState,
    *,
    written: asyncio.Event | None = None,
    hold: asyncio.Event | None = None,
) -> list[RowWrite]:
    """The monitor's bulk write of ``changes``; it sets ``written`` once the rows are written
    (and locked) and keeps its transaction open until ``hold`` is set."""
    async with app.state.sessionmaker() as session, session.begin():
        await begin_write(session)
        kept = await sync.write_changes(session=session, changes=changes, state=state, now=utcnow())
        if written is not None:
            written.set()
        if hold is not None:
            await hold.wait()
    return kept


async def _api_stop(app: FastAPI, job_id: str) -> JobStatus:
    async with app.state.sessionmaker() as session, session.begin():
        await begin_write(session)
        job = await service.stop_job(
            session=session, gateway=None, settings=app.state.settings, job_id=job_id
        )
        return JobStatus(job.status)


async def _history(app: FastAPI, job_id: str) -> list[tuple[str | None, str]]:
    async with app.state.sessionmaker() as session:
        events = await repository.list_events(session=session, job_id=job_id)
    return [(event.from_status, event.to_status) for event in events]


async def _status(app: FastAPI, job_id: str) -> str:
    async with app.state.sessionmaker() as session:
        job = await repository.get_job(session=session, job_id=job_id)
    assert job is not None
    return job.status


def _a_valid_chain(history: list[tuple[str | None, str]]) -> bool:
    """Each event starts where the one before ended, and every move is allowed."""
    previous: str | None = None
    for from_status, to_status in history:
        if from_status != previous:
            return False
        current = JobStatus(from_status) if from_status else None
        if not lifecycle.can_transition(current, JobStatus(to_status)):
            return False
        previous = to_status
    return True


async def test_a_monitor_write_planned_before_a_stop_is_dropped(
    postgres_app: FastAPI, ui_request: dict[str, Any]
) -> None:
    (job_id,) = await _submitted_jobs(postgres_app, ui_request, 1)
    changes = await _monitor_plans(postgres_app, [job_id])  # read before the stop
    state = SyncState(seen={job_id: ("1", "1", frozenset())})

    # The API's stop holds the row (locked, not yet committed) while the monitor writes.
    async with postgres_app.state.sessionmaker() as session, session.begin():
        await begin_write(session)
        stopped = await service.stop_job(
            session=session, gateway=None, settings=postgres_app.state.settings, job_id=job_id
        )
        assert stopped.status == JobStatus.STOPPING
        await session.flush()
        writing = asyncio.create_task(_monitor_write(postgres_app, changes, state))
        await asyncio.sleep(0.3)
        assert not writing.done()  # waiting for the stop's row lock
    assert await writing == []
    assert job_id not in state.seen  # the monitor looks at the job again next tick

    assert await _status(postgres_app, job_id) == JobStatus.STOPPING
    assert await _history(postgres_app, job_id) == [
        (None, "Pending"),
        ("Pending", "Submitted"),
        ("Submitted", "Stopping"),
    ]


async def test_a_stop_waiting_for_the_monitors_write_stops_what_it_wrote(
    postgres_app: FastAPI, ui_request: dict[str, Any]
) -> None:
    (job_id,) = await _submitted_jobs(postgres_app, ui_request, 1)
    changes = await _monitor_plans(postgres_app, [job_id])
    written, hold = asyncio.Event(), asyncio.Event()
    writing = asyncio.create_task(
        _monitor_write(postgres_app, changes, SyncState(), written=written, hold=hold)
    )
    await written.wait()
    stopping = asyncio.create_task(_api_stop(postgres_app, job_id))
    await asyncio.sleep(0.3)
    assert not stopping.done()  # waiting for the monitor's row lock
    hold.set()
    assert [write.job_id for write in await writing] == [job_id]
    assert await stopping == JobStatus.STOPPING

    assert await _status(postgres_app, job_id) == JobStatus.STOPPING
    assert await _history(postgres_app, job_id) == [
        (None, "Pending"),
        ("Pending", "Submitted"),
        ("Submitted", "Running"),
        ("Running", "Stopping"),
    ]


async def test_stops_racing_monitor_writes_are_never_lost(
    postgres_app: FastAPI, ui_request: dict[str, Any]
) -> None:
    rng = random.Random(13)
    every_job: list[str] = []
    for _ in range(3):  # each round: a dozen stops and one monitor write, in random order
        job_ids = await _submitted_jobs(postgres_app, ui_request, 12)
        every_job += job_ids
        changes = await _monitor_plans(postgres_app, job_ids)

        async def stop_later(job_id: str) -> JobStatus:
            await asyncio.sleep(rng.uniform(0, 0.05))
            return await _api_stop(postgres_app, job_id)

        async def write_later(changes: list[Change] = changes) -> list[RowWrite]:
            await asyncio.sleep(rng.uniform(0, 0.05))
            return await _monitor_write(postgres_app, changes, SyncState())

        *stops, _ = await asyncio.gather(*(stop_later(j) for j in job_ids), write_later())
        assert set(stops) == {JobStatus.STOPPING}

    for job_id in every_job:
        assert await _status(postgres_app, job_id) == JobStatus.STOPPING
        history = await _history(postgres_app, job_id)
        assert _a_valid_chain(history), history
        assert history[-1] == (history[-2][1], "Stopping")
        assert [to for _, to in history].count("Stopping") == 1
