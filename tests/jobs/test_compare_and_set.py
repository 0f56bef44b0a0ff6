"""Every write of a job's state is a compare-and-set on its version: a writer holding an older
copy changes nothing (Postgres and SQLite)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm.exc import StaleDataError

from karmada_support import store_pending_job
from ml_platform.db.base import utcnow
from ml_platform.db.session import begin_write
from ml_platform.jobs import lifecycle, repository
from ml_platform.jobs.lifecycle import JobStatus


async def _move(app: FastAPI, job_id: str, to: JobStatus) -> None:
    """Another writer (the monitor, another request) changes the job and commits."""
    async with app.state.sessionmaker() as session, session.begin():
        await begin_write(session)
        job = await repository.get_job(session=session, job_id=job_id, for_update=True)
        assert job is not None
        await lifecycle.transition(
            session=session, job=job, to=to, reason="Elsewhere", now=utcnow()
        )


async def test_a_locked_read_sees_what_another_writer_committed(
    app: FastAPI, ui_request: dict[str, Any]
) -> None:
    job_id = await store_pending_job(app, ui_request)
    async with app.state.sessionmaker() as session:
        loaded = await repository.get_job(session=session, job_id=job_id)
        assert loaded is not None
        assert loaded.status == JobStatus.PENDING
        await session.commit()
        await _move(app, job_id, JobStatus.SUBMITTED)
        # Same session, the Pending copy still in its identity map: the read that decides a
        # transition must return the committed row (the API once submitted such jobs again).
        locked = await repository.get_job(session=session, job_id=job_id, for_update=True)
        assert locked is loaded
        assert locked.status == JobStatus.SUBMITTED


async def test_a_stale_copy_cannot_overwrite_a_stop(
    app: FastAPI, ui_request: dict[str, Any]
) -> None:
    job_id = await store_pending_job(app, ui_request)
    async with app.state.sessionmaker() as session:
        stale = await repository.get_job(session=session, job_id=job_id)
        assert stale is not None
        await session.commit()
        await _move(app, job_id, JobStatus.STOPPED)  # answered: it must stay
        stale.status = JobStatus.SUBMITTED
        with pytest.raises(StaleDataError):
            await session.flush()
        await session.rollback()
    async with app.state.sessionmaker() as session:
        job = await repository.get_job(session=session, job_id=job_id)
        assert job is not None
        assert job.status == JobStatus.STOPPED


async def test_a_bulk_write_based_on_an_old_version_changes_nothing(
    app: FastAPI, ui_request: dict[str, Any]
) -> None:
    first, second = (
        await store_pending_job(app, ui_request),
        await store_pending_job(app, ui_request),
    )
    async with app.state.sessionmaker() as session:
        versions = await repository.lock_versions(session=session, job_ids=[first, second])
        await session.commit()
    await _move(app, second, JobStatus.STOPPED)
    rows = [
        {"id": job_id, "version": versions[job_id], "status": JobStatus.SUBMITTED}
        for job_id in (first, second)
    ]
    async with app.state.sessionmaker() as session:
        await begin_write(session)
        with pytest.raises(repository.StaleWriteError):
            await repository.update_jobs(session=session, rows=rows)
        await session.rollback()
    async with app.state.sessionmaker() as session:
        jobs = {j: await repository.get_job(session=session, job_id=j) for j in (first, second)}
    assert {j: job.status for j, job in jobs.items() if job} == {
        first: JobStatus.PENDING,
        second: JobStatus.STOPPED,
    }
