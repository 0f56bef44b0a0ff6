"""All SQL of the jobs domain."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    Row,
    Select,
    Table,
    Text,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ml_platform.auth.context import current_actor
from ml_platform.db.readpool import ReadPool
from ml_platform.jobs.models import JobEvent, JobLog, TrainingJob
from ml_platform.jobs.stored_requests import REQUESTS, RequestKey

_S = TypeVar("_S", bound=Select[*tuple[Any, ...]])


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
    *, session: AsyncSession, job_id: str, for_update: bool = False, skip_locked: bool = False
) -> TrainingJob | None:
    """The job with this id, optionally row-locked for a status change.

    A locked read always refreshes the session's copy from the committed row: a transition
    must be decided on what is stored, not on what this session loaded earlier. With
    ``skip_locked`` (Postgres) a row another transaction holds reads as None.
    """
    statement = select(TrainingJob).where(TrainingJob.id == job_id)
    if for_update:
        statement = statement.with_for_update(skip_locked=skip_locked).execution_options(
            populate_existing=True
        )
    return (await session.scalars(statement)).one_or_none()


async def job_namespace(*, session: AsyncSession, job_id: str) -> str | None:
    """The namespace of the job with this id, or None when there is no such job."""
    statement = select(TrainingJob.namespace).where(TrainingJob.id == job_id)
    return (await session.scalars(statement)).one_or_none()


async def get_job_by_idempotency_key(*, session: AsyncSession, key: str) -> TrainingJob | None:
    """The job created with this Idempotency-Key, if any."""
    statement = select(TrainingJob).where(TrainingJob.idempotency_key == key)
    return (await session.scalars(statement)).one_or_none()


# What the API shows of a job (documents.job_document), in this order: table columns, except
# that ``request`` is the bytes the API writes for the stored request (held per process, see
# stored_requests) and ``clusters`` is the JSON list of ``cluster_status``'s keys, built by the
# database (the whole per-cluster status is not needed for its names).
DOCUMENT_FIELDS = (
    "id", "job_name", "namespace", "algorithm", "priority", "request", "status", "reason",
    "message", "target_clusters", "clusters", "workload_kind", "created_by", "created_at",
    "updated_at", "submitted_at", "started_at", "completed_at", "observed_at",
)  # fmt: skip
DOCUMENT_ID = DOCUMENT_FIELDS.index("id")
DOCUMENT_CREATED_AT = DOCUMENT_FIELDS.index("created_at")
_DOCUMENT_REQUEST = DOCUMENT_FIELDS.index("request")
_CLUSTER_NAMES = {
    "postgresql": "CASE jsonb_typeof(cluster_status) WHEN 'object' THEN"
    " (SELECT jsonb_agg(k) FROM jsonb_object_keys(cluster_status) AS k) END",
    "sqlite": "CASE json_type(cluster_status) WHEN 'object' THEN"
    " (SELECT json_group_array(key) FROM json_each(cluster_status)) END",
}
_JOB_TABLE = cast(Table, TrainingJob.__table__)


def _document_columns(dialect: str) -> list[ColumnElement[Any]]:
    # Table columns, not ORM attributes: one ORM attribute would route the statement through
    # the ORM, whose loading cost more than the query.
    special: dict[str, ColumnElement[Any]] = {
        "request": _JOB_TABLE.c.request.cast(Text).label("request"),
        "clusters": literal_column(_CLUSTER_NAMES[dialect], JSON()).label("clusters"),
    }
    return [special[name] if name in special else _JOB_TABLE.c[name] for name in DOCUMENT_FIELDS]


# The same read on the read pool (Postgres), as plain SQL: building and compiling a statement
# cost more than running it.
_PG_SPECIAL = {"request": "request::text", "clusters": _CLUSTER_NAMES["postgresql"]}
_PG_DOCUMENT_COLUMNS = ", ".join(_PG_SPECIAL.get(name, name) for name in DOCUMENT_FIELDS)
_PG_DOCUMENT_SELECT = f"SELECT {_PG_DOCUMENT_COLUMNS} FROM training_job"
# A page leaves the requests out: those not held yet are read by _PG_REQUESTS_SELECT.
_PG_PAGE_SELECT = _PG_DOCUMENT_SELECT.replace("request::text", "NULL")
_PG_REQUESTS_SELECT = "SELECT id, created_at, request::text FROM training_job WHERE id = ANY(%s)"

# A document read's connection: the read pool on Postgres, else a read session.
DocumentReader = ReadPool | AsyncSession
DocumentRow = Sequence[Any]


async def get_job_document_row(*, reader: DocumentReader, job_id: str) -> DocumentRow | None:
    """The ``DOCUMENT_FIELDS`` of the job with this id."""
    if isinstance(reader, ReadPool):
        rows = await reader.fetch(f"{_PG_DOCUMENT_SELECT} WHERE id = %s", (job_id,))
        return _with_request(rows[0]) if rows else None
    columns = _document_columns(reader.get_bind().dialect.name)
    statement = select(*columns).where(_JOB_TABLE.c.id == job_id)
    row = (await reader.execute(statement)).one_or_none()
    return _with_request(row) if row is not None else None


async def list_jobs(
    *, reader: DocumentReader, filters: JobFilters, after: Position | None, limit: int
) -> list[DocumentRow]:
    """The ``DOCUMENT_FIELDS`` of up to ``limit`` jobs, newest first, strictly after ``after``."""
    if isinstance(reader, ReadPool):
        return await _pg_list_jobs(reader, filters, after, limit)
    job = _JOB_TABLE.c
    columns = _document_columns(reader.get_bind().dialect.name)
    statement = _filtered(select(*columns), filters)
    if after is not None:
        statement = statement.where(
            tuple_(job.created_at, job.id) < tuple_(after.created_at, after.id)
        )
    statement = statement.order_by(job.created_at.desc(), job.id.desc())
    return [_with_request(row) for row in (await reader.execute(statement.limit(limit))).all()]


def _request_key(row: DocumentRow) -> RequestKey:
    return (row[DOCUMENT_ID], row[DOCUMENT_CREATED_AT])


def _with_request(row: DocumentRow) -> DocumentRow:
    """The row with the bytes of its stored request text in place of the text."""
    return _replace_request(row, REQUESTS.add(_request_key(row), row[_DOCUMENT_REQUEST]))


def _replace_request(row: DocumentRow, request: bytes) -> DocumentRow:
    return (*row[:_DOCUMENT_REQUEST], request, *row[_DOCUMENT_REQUEST + 1 :])


async def _pg_list_jobs(
    reader: ReadPool, filters: JobFilters, after: Position | None, limit: int
) -> list[DocumentRow]:
    """A page without its requests, then the requests not held yet; the whole page in one
    statement when a job of the page was deleted (or created again) between the two."""
    rows = await reader.fetch(*_pg_list_query(_PG_PAGE_SELECT, filters, after, limit))
    keys = [_request_key(row) for row in rows]
    held = {key: request for key in keys if (request := REQUESTS.get(key)) is not None}
    missing = [key for key in keys if key not in held]
    if missing:
        found = await reader.fetch(_PG_REQUESTS_SELECT, ([job_id for job_id, _ in missing],))
        stored = {(job_id, created_at): text for job_id, created_at, text in found}
        if any(key not in stored for key in missing):
            rows = await reader.fetch(*_pg_list_query(_PG_DOCUMENT_SELECT, filters, after, limit))
            return [_with_request(row) for row in rows]
        held.update((key, REQUESTS.add(key, stored[key])) for key in missing)
    return [_replace_request(row, held[key]) for row, key in zip(rows, keys, strict=True)]


def _pg_list_query(
    select_columns: str, filters: JobFilters, after: Position | None, limit: int
) -> tuple[str, dict[str, Any]]:
    """``list_jobs`` as SQL with named parameters: the conditions of ``_filtered``."""
    conditions: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    for column in ("namespace", "status", "algorithm"):
        value = getattr(filters, column)
        if value is not None:
            conditions.append(f"{column} = %({column})s")
            params[column] = value
    if filters.namespaces is not None:
        conditions.append("namespace = ANY(%(namespaces)s)")
        params["namespaces"] = sorted(filters.namespaces)
    if filters.q:
        conditions.append("lower(id) LIKE %(q)s ESCAPE '\\'")
        params["q"] = _like_pattern(filters.q)
    if after is not None:
        conditions.append("(created_at, id) < (%(after_created_at)s, %(after_id)s)")
        params.update(after_created_at=after.created_at, after_id=after.id)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    order = " ORDER BY created_at DESC, id DESC LIMIT %(limit)s"
    return f"{select_columns}{where}{order}", params


def _like_pattern(q: str) -> str:
    # Ids are "<jobName>-<hex>" and always lowercase, so one LIKE on id covers both; it is on
    # lower(id), the expression the trigram index (Postgres) is built on.
    return f"%{_escape_like(q.lower())}%"


def _filtered(statement: _S, filters: JobFilters) -> _S:
    job = _JOB_TABLE.c
    if filters.namespace is not None:
        statement = statement.where(job.namespace == filters.namespace)
    if filters.namespaces is not None:
        statement = statement.where(job.namespace.in_(sorted(filters.namespaces)))
    if filters.status is not None:
        statement = statement.where(job.status == filters.status)
    if filters.algorithm is not None:
        statement = statement.where(job.algorithm == filters.algorithm)
    if filters.q:
        statement = statement.where(func.lower(job.id).like(_like_pattern(filters.q), escape="\\"))
    return statement


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


async def count_by_status(
    *, session: AsyncSession, filters: JobFilters | None = None
) -> dict[str, int]:
    """Number of jobs per status, of those the filters select (all by default)."""
    statement = select(TrainingJob.status, func.count()).group_by(TrainingJob.status)
    if filters is not None:
        statement = _filtered(statement, filters)
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


async def due_log_captures(*, session: AsyncSession, now: datetime, limit: int) -> list[str]:
    """Ids of up to ``limit`` jobs whose driver-log capture is due, oldest due first."""
    statement = (
        select(TrainingJob.id)
        .where(TrainingJob.log_capture_due_at <= now)
        .order_by(TrainingJob.log_capture_due_at)
        .limit(limit)
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
    TrainingJob.next_karmada_attempt_at,
    TrainingJob.karmada_attempts,
    TrainingJob.last_error,
    TrainingJob.max_runtime_seconds,
    TrainingJob.version,
    TrainingJob.log_capture_due_at,
    TrainingJob.observed_key,
)


# The few columns the sync needs for every watched job on every tick (no JSON to decode).
# Table columns, not ORM attributes: the ORM's result processing doubled the query's cost.
BRIEF_COLUMNS = (
    _JOB_TABLE.c.id,
    _JOB_TABLE.c.status,
    _JOB_TABLE.c.started_at,
    _JOB_TABLE.c.max_runtime_seconds,
    _JOB_TABLE.c.observed_key,
)


# id, status, started_at, max_runtime_seconds
BriefRow = tuple[str, str, datetime | None, int | None, str | None]


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


async def lock_versions(*, session: AsyncSession, job_ids: Sequence[str]) -> dict[str, int]:
    """Row-lock these jobs and return their current version (missing ids are gone).

    Rows are locked in id order: two writers locking overlapping sets (the monitor's tick and
    its event path) then wait for each other instead of deadlocking."""
    versions: dict[str, int] = {}
    for chunk in _chunks(sorted(job_ids)):
        statement = (
            select(TrainingJob.id, TrainingJob.version)
            .where(TrainingJob.id.in_(chunk))
            .order_by(TrainingJob.id)
            .with_for_update()
        )
        versions.update({row.id: row.version for row in await session.execute(statement)})
    return versions


class StaleWriteError(Exception):
    """A compare-and-set write found a row at another version than the one it was based on."""


async def update_jobs(*, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Compare-and-set UPDATE of many jobs: each mapping holds ``id``, the ``version`` its
    values were based on and the same set of other columns; each row's version is bumped.

    Raises ``StaleWriteError`` (the caller's transaction must roll back) when any row is no
    longer at that version: then another writer changed it and these values are stale.
    """
    if not rows:
        return
    columns = [name for name in rows[0] if name not in ("id", "version")]
    statement = (
        update(_JOB_TABLE)
        .where(
            _JOB_TABLE.c.id == bindparam("b_id"),
            _JOB_TABLE.c.version == bindparam("b_version"),
        )
        .values(
            version=_JOB_TABLE.c.version + 1,
            **{name: bindparam(f"b_{name}", type_=_JOB_TABLE.c[name].type) for name in columns},
        )
    )
    params = [{f"b_{name}": value for name, value in row.items()} for row in rows]
    result = await session.execute(statement, params)
    updated: int = result.rowcount  # type: ignore[attr-defined]
    if updated != len(params):
        raise StaleWriteError(f"{len(params) - updated} of {len(params)} jobs changed meanwhile")


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
