"""All SQL of the jobs domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ml_platform.jobs.models import JobEvent, JobLog, TrainingJob


@dataclass(frozen=True)
class JobFilters:
    """Equality filters and the id/name search of the job list."""

    namespace: str | None = None
    status: str | None = None
    algorithm: str | None = None
    q: str | None = None


@dataclass(frozen=True)
class Position:
    """A keyset position in the newest-first job list."""

    created_at: datetime
    id: str


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def insert_job(*, session: AsyncSession, values: dict[str, Any]) -> TrainingJob | None:
    """Insert a job; None when its idempotency key is already taken (nothing is inserted)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(TrainingJob)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[TrainingJob.idempotency_key])
        .returning(TrainingJob)
    )
    result = await session.scalars(statement, execution_options={"populate_existing": True})
    return result.one_or_none()


async def get_job(
    *, session: AsyncSession, job_id: str, for_update: bool = False
) -> TrainingJob | None:
    """The job with this id, optionally row-locked for a status change."""
    statement = select(TrainingJob).where(TrainingJob.id == job_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def get_job_by_idempotency_key(*, session: AsyncSession, key: str) -> TrainingJob | None:
    """The job created with this Idempotency-Key, if any."""
    statement = select(TrainingJob).where(TrainingJob.idempotency_key == key)
    return (await session.scalars(statement)).one_or_none()


async def list_jobs(
    *, session: AsyncSession, filters: JobFilters, after: Position | None, limit: int
) -> list[TrainingJob]:
    """Up to ``limit`` jobs, newest first, strictly after ``after``."""
    statement = select(TrainingJob)
    if filters.namespace is not None:
        statement = statement.where(TrainingJob.namespace == filters.namespace)
    if filters.status is not None:
        statement = statement.where(TrainingJob.status == filters.status)
    if filters.algorithm is not None:
        statement = statement.where(TrainingJob.algorithm == filters.algorithm)
    if filters.q:
        # Ids are "<jobName>-<hex>" and always lowercase, so one LIKE on id covers both.
        pattern = f"%{_escape_like(filters.q.lower())}%"
        statement = statement.where(TrainingJob.id.like(pattern, escape="\\"))
    if after is not None:
        statement = statement.where(
            tuple_(TrainingJob.created_at, TrainingJob.id) < tuple_(after.created_at, after.id)
        )
    statement = statement.order_by(TrainingJob.created_at.desc(), TrainingJob.id.desc())
    return list((await session.scalars(statement.limit(limit))).all())


async def delete_job(*, session: AsyncSession, job_id: str) -> None:
    """Remove a job row; its events go with it (ON DELETE CASCADE)."""
    await session.execute(
        delete(TrainingJob).where(TrainingJob.id == job_id),
        execution_options={"synchronize_session": False},
    )


async def add_event(
    *,
    session: AsyncSession,
    job_id: str,
    occurred_at: datetime,
    from_status: str | None,
    to_status: str,
    reason: str | None,
    message: str | None,
    cluster: str | None,
) -> JobEvent:
    """Append one status-transition event."""
    event = JobEvent(
        job_id=job_id,
        occurred_at=occurred_at,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        message=message,
        cluster=cluster,
    )
    session.add(event)
    await session.flush()
    return event


async def list_events(*, session: AsyncSession, job_id: str) -> list[JobEvent]:
    """All events of a job, oldest first."""
    statement = select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id)
    return list((await session.scalars(statement)).all())


async def count_by_status(*, session: AsyncSession) -> dict[str, int]:
    """Number of jobs per status."""
    statement = select(TrainingJob.status, func.count()).group_by(TrainingJob.status)
    rows = (await session.execute(statement)).all()
    return dict(rows)


async def ping(*, session: AsyncSession) -> None:
    """Round-trip to the database (readiness)."""
    await session.execute(text("SELECT 1"))


# --- Karmada integration ---


async def get_job_log(*, session: AsyncSession, job_id: str) -> JobLog | None:
    """The stored driver-log tail of a job, if one was captured."""
    return await session.get(JobLog, job_id, populate_existing=True)


async def save_job_log(
    *,
    session: AsyncSession,
    job_id: str,
    cluster: str | None,
    pod: str | None,
    container: str | None,
    content: str,
    captured_at: datetime,
) -> JobLog:
    """Insert or replace the stored driver-log tail of a job (callers hold the job's row lock)."""
    stored = await session.get(JobLog, job_id)
    if stored is None:
        stored = JobLog(job_id=job_id)
        session.add(stored)
    stored.cluster = cluster
    stored.pod = pod
    stored.container = container
    stored.content = content
    stored.captured_at = captured_at
    await session.flush()
    return stored
