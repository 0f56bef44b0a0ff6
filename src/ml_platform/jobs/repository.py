"""All SQL of the jobs domain."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, delete, func, insert, or_, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ml_platform.auth.context import current_actor
from ml_platform.jobs.models import JobEvent, JobLog, TrainingJob


@dataclass(frozen=True)
class JobFilters:
    """Equality filters and the id/name search of the job list."""

    namespace: str | None = None
    # The caller's namespaces: only jobs in these are listed (None: no restriction).
    namespaces: frozenset[str] | None = None
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


async def job_namespace(*, session: AsyncSession, job_id: str) -> str | None:
    """The namespace of the job with this id, or None when there is no such job."""
    statement = select(TrainingJob.namespace).where(TrainingJob.id == job_id)
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
    if filters.namespaces is not None:
        statement = statement.where(TrainingJob.namespace.in_(sorted(filters.namespaces)))
    if filters.status is not None:
        statement = statement.where(TrainingJob.status == filters.status)
    if filters.algorithm is not None:
        statement = statement.where(TrainingJob.algorithm == filters.algorithm)
    if filters.q:
        # Ids are "<jobName>-<hex>" and always lowercase, so one LIKE on id covers both; it
        # is on lower(id), the expression the trigram index (Postgres) is built on.
        pattern = f"%{_escape_like(filters.q.lower())}%"
        statement = statement.where(func.lower(TrainingJob.id).like(pattern, escape="\\"))
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
    """Append one status-transition event, on behalf of the current request's caller."""
    event = JobEvent(
        created_by=current_actor(),
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


# --- Monitor ---

# Keeps every statement's bound parameters well under SQLite's limit of 32,766.
_ID_CHUNK = 5000


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), _ID_CHUNK):
        yield ids[start : start + _ID_CHUNK]


async def lock_due_jobs(
    *, session: AsyncSession, statuses: Sequence[str], now: datetime, limit: int
) -> list[TrainingJob]:
    """Up to ``limit`` jobs in ``statuses`` whose next Karmada attempt is due, oldest due first,
    row-locked; on Postgres rows another transaction holds (the API) are skipped."""
    due = or_(
        TrainingJob.next_karmada_attempt_at.is_(None), TrainingJob.next_karmada_attempt_at <= now
    )
    statement = (
        select(TrainingJob)
        .where(TrainingJob.status.in_(statuses), due)
        .order_by(TrainingJob.next_karmada_attempt_at.asc().nulls_first(), TrainingJob.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.scalars(statement)).all())


# The columns the status sync reads for every job it watches.
WATCHED_COLUMNS = (
    TrainingJob.id,
    TrainingJob.status,
    TrainingJob.reason,
    TrainingJob.message,
    TrainingJob.namespace,
    TrainingJob.workload_kind,
    TrainingJob.workload_name,
    TrainingJob.cluster_status,
    TrainingJob.submitted_at,
    TrainingJob.started_at,
    TrainingJob.completed_at,
    TrainingJob.max_runtime_seconds,
)


# The few columns the sync needs for every watched job on every tick (no JSON to decode).
# Table columns, not ORM attributes: the ORM's result processing doubled the query's cost.
_JOB_TABLE = TrainingJob.__table__
BRIEF_COLUMNS = (
    _JOB_TABLE.c.id,
    _JOB_TABLE.c.status,
    _JOB_TABLE.c.started_at,
    _JOB_TABLE.c.max_runtime_seconds,
)


# id, status, started_at, max_runtime_seconds
BriefRow = tuple[str, str, datetime | None, int | None]


async def watched_jobs_brief(*, session: AsyncSession, statuses: Sequence[str]) -> list[BriefRow]:
    """The ``BRIEF_COLUMNS`` of every job in ``statuses`` (one query, no ORM objects)."""
    statement = select(*BRIEF_COLUMNS).where(_JOB_TABLE.c.status.in_(statuses))
    return cast(list[BriefRow], (await session.execute(statement)).all())


async def watched_jobs(
    *, session: AsyncSession, statuses: Sequence[str], job_ids: Sequence[str]
) -> list[Row[Any]]:
    """The ``WATCHED_COLUMNS`` of these jobs, those still in ``statuses``."""
    rows: list[Row[Any]] = []
    wanted = set(statuses)
    for chunk in _chunks(job_ids):
        # The status is checked here, not in SQL: with both IN lists Postgres may pick the
        # status index and test every row against thousands of ids (seconds at 10,000 jobs).
        statement = select(*WATCHED_COLUMNS).where(TrainingJob.id.in_(chunk))
        rows.extend(row for row in await session.execute(statement) if row.status in wanted)
    return rows


async def lock_statuses(*, session: AsyncSession, job_ids: Sequence[str]) -> dict[str, str]:
    """Row-lock these jobs and return their current status (missing ids are gone)."""
    statuses: dict[str, str] = {}
    for chunk in _chunks(job_ids):
        statement = (
            select(TrainingJob.id, TrainingJob.status)
            .where(TrainingJob.id.in_(chunk))
            .with_for_update()
        )
        statuses.update({row.id: row.status for row in await session.execute(statement)})
    return statuses


async def update_jobs(*, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Bulk UPDATE by primary key: each mapping holds ``id`` and the same set of columns."""
    if rows:
        await session.execute(update(TrainingJob), list(rows))


async def insert_events(*, session: AsyncSession, events: Sequence[Mapping[str, Any]]) -> None:
    """Append many status-transition events with one multi-row INSERT."""
    if events:
        await session.execute(insert(JobEvent), list(events))


async def touch_observed(*, session: AsyncSession, job_ids: Sequence[str], now: datetime) -> None:
    """Record that these jobs' status was observed (unchanged) at ``now``."""
    for chunk in _chunks(job_ids):
        await session.execute(
            update(TrainingJob).where(TrainingJob.id.in_(chunk)).values(observed_at=now),
            execution_options={"synchronize_session": False},
        )


async def get_jobs(*, session: AsyncSession, job_ids: Sequence[str]) -> list[TrainingJob]:
    """The jobs with these ids (those that exist)."""
    jobs: list[TrainingJob] = []
    for chunk in _chunks(job_ids):
        statement = select(TrainingJob).where(TrainingJob.id.in_(chunk))
        jobs.extend((await session.scalars(statement)).all())
    return jobs
