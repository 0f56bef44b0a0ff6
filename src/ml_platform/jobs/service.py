"""The jobs use cases, one entry point each: create (durable commit, then first submission),
dry run, read, list, events, status, logs, stop and delete.

The HTTP layer only parses, calls one of these and shapes the answer. Apart from ``create_job``
(which must make the Pending row durable before anything reaches Karmada) nothing here commits:
the request's session dependency does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

import structlog
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from ml_platform.algorithms import (
    ALGORITHMS,
    HyperparameterError,
    get_algorithm,
    validate_hyperparameters,
)
from ml_platform.clusters import service as clusters
from ml_platform.clusters.directory import ClusterDirectory
from ml_platform.config import Settings
from ml_platform.db.base import utcnow
from ml_platform.db.session import begin_write
from ml_platform.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    validation_details,
)
from ml_platform.jobs import lifecycle, live, logs, repository, submission
from ml_platform.jobs.cursor import decode_cursor, encode_cursor
from ml_platform.jobs.ids import new_job_id
from ml_platform.jobs.lifecycle import JobStatus
from ml_platform.jobs.models import JobEvent, TrainingJob
from ml_platform.jobs.repository import JobFilters, Position
from ml_platform.jobs.schemas import (
    DryRunResponse,
    JobLogsResponse,
    JobStatusResponse,
    TrainingJobRequest,
)
from ml_platform.jobs.workload import request_spec
from ml_platform.karmada.errors import KarmadaUnavailable
from ml_platform.karmada.gateway import KarmadaGateway
from ml_platform.workloads import WorkloadSpecError, render

log = structlog.get_logger()

CONTAINER_ALGORITHM_ID = "container"
MAX_JOB_ID_LENGTH = 63
NOT_CONFIGURED_MESSAGE = "waiting for Karmada: not configured"
_JOB_COLUMNS = cast(Table, TrainingJob.__table__).columns


@dataclass(frozen=True)
class CreatedJob:
    """Result of create_job: the job, and whether this call created it (False on replay)."""

    job: TrainingJob
    created: bool


@dataclass(frozen=True)
class JobPage:
    """One page of the job list and the cursor of the next page (None on the last page)."""

    jobs: list[repository.DocumentRow]  # repository.DOCUMENT_FIELDS
    next_cursor: str | None


@dataclass(frozen=True)
class ResolvedAlgorithm:
    """The catalogue entry a request selects and its validated hyperparameters."""

    algorithm_id: str
    workload_kind: str
    hyperparameters: dict[str, Any]


def _supported_algorithms() -> list[str]:
    return sorted(key for key in ALGORITHMS if key != CONTAINER_ALGORITHM_ID)


def _hyperparameter_details(
    algorithm_id: str, errors: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    prefixed = []
    for error in errors:
        loc = error.get("loc", ())
        loc = list(loc) if isinstance(loc, list | tuple) else [loc]
        prefixed.append({**error, "loc": ["body", "hyperparameters", algorithm_id, *loc]})
    return validation_details(prefixed)


def resolve_algorithm(request: TrainingJobRequest) -> ResolvedAlgorithm:
    """Check the algorithm and its hyperparameters against the catalogue (422 on failure)."""
    spec = request.algorithm
    is_container = spec.source == "container"
    algorithm_id = CONTAINER_ALGORITHM_ID if is_container else spec.algorithm_name
    algorithm = get_algorithm(algorithm_id)
    if algorithm is None or (spec.source == "builtin" and algorithm_id == CONTAINER_ALGORITHM_ID):
        supported = _supported_algorithms()
        raise InvalidRequestError(
            f"unknown algorithm {algorithm_id!r}; supported: {', '.join(supported)}",
            {"supported": supported},
        )
    # The UI always sends an xgboost block: blocks of other algorithms are ignored.
    try:
        values = validate_hyperparameters(algorithm_id, request.hyperparameters.get(algorithm_id))
    except HyperparameterError as exc:
        details = _hyperparameter_details(algorithm_id, list(exc.errors))
        first = details[0] if details else {"loc": [], "msg": "invalid"}
        where = ".".join(str(part) for part in first["loc"][1:])
        raise InvalidRequestError(f"{where}: {first['msg']}", details) from None
    return ResolvedAlgorithm(algorithm_id, str(algorithm.workload_kind), values)


async def create_job(
    *,
    session: AsyncSession,
    gateway: KarmadaGateway | None,
    directory: ClusterDirectory,
    settings: Settings,
    request: TrainingJobRequest,
    idempotency_key: str | None,
    created_by: str | None = None,
) -> CreatedJob:
    """Create a job: check it, store it Pending, commit, then make the first submission.

    The commit comes before anything reaches Karmada, so a crash between the two leaves a
    record (which the monitor submits) and never an object without one. A job that cannot be
    submitted yet stays Pending with the reason in ``message``; the monitor retries. A replayed
    idempotency key returns the original job untouched.

    Once the commit succeeded the job is returned whatever happens next: if the first
    submission cannot be made or recorded (the database went away, the server is stopping
    and cancels the request), the job as committed is the answer and the monitor submits it.
    A failure up to the commit propagates (a 503 the client retries with its key).
    """
    await check_target_clusters(gateway=gateway, directory=directory, request=request)
    stored = await store_job(
        session=session,
        request=request,
        idempotency_key=idempotency_key,
        created_by=created_by,
    )
    if not stored.created:
        return stored
    await session.commit()
    committed = _as_committed(stored.job)
    try:
        await begin_write(session)
        job = await _first_submission(
            session=session, gateway=gateway, job_id=committed.id, settings=settings
        )
        await session.commit()
    except (Exception, asyncio.CancelledError) as exc:
        log.warning("job.first_submission_not_recorded", job_id=committed.id, error=repr(exc))
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await session.rollback()
        return CreatedJob(committed, created=True)
    return CreatedJob(job, created=True)


def _as_committed(job: TrainingJob) -> TrainingJob:
    """A copy of the job's row as just committed, outside any session (the session's own
    copy changes during the submission and expires if it rolls back)."""
    return TrainingJob(**{column.key: getattr(job, column.key) for column in _JOB_COLUMNS})


async def store_job(
    *,
    session: AsyncSession,
    request: TrainingJobRequest,
    idempotency_key: str | None,
    created_by: str | None = None,
) -> CreatedJob:
    """Store a new job as Pending with its creation event (nothing is sent to Karmada).

    With an idempotency key that was used before, the original job is returned instead (409 if
    the request differs).
    """
    resolved = resolve_algorithm(request)
    sent = request.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if idempotency_key is not None:
        existing = await repository.get_job_by_idempotency_key(session=session, key=idempotency_key)
        if existing is not None:
            return _replay(existing, sent)

    now = utcnow()
    stopping = request.stopping_condition
    job = await repository.insert_job(
        session=session,
        values={
            "id": new_job_id(request.job_name),
            "job_name": request.job_name,
            "namespace": request.namespace,
            "algorithm": resolved.algorithm_id,
            "priority": request.priority,
            "status": JobStatus.PENDING,
            "reason": "Created",
            "message": None,
            "request": sent,
            "workload_kind": resolved.workload_kind,
            "target_clusters": list(request.target_clusters),
            "cluster_status": None,
            "max_runtime_seconds": stopping.max_runtime_seconds if stopping else None,
            "karmada_attempts": 0,
            "next_karmada_attempt_at": now,
            "idempotency_key": idempotency_key,
            "created_by": created_by,
            "created_at": now,
            "updated_at": now,
        },
    )
    if job is None:
        # A concurrent request with the same key won the insert; answer with its job.
        assert idempotency_key is not None
        existing = await repository.get_job_by_idempotency_key(session=session, key=idempotency_key)
        if existing is None:
            raise ConflictError("a request with this Idempotency-Key is still in progress")
        return _replay(existing, sent)
    await lifecycle.record_creation(session=session, job=job, now=now)
    log.info("job.created", job_id=job.id, algorithm=job.algorithm, namespace=job.namespace)
    return CreatedJob(job, created=True)


def _replay(existing: TrainingJob, sent: dict[str, Any]) -> CreatedJob:
    if existing.request != sent:
        raise ConflictError(
            "Idempotency-Key was already used with a different request",
            {"jobId": existing.id},
        )
    log.info("job.create_replayed", job_id=existing.id)
    return CreatedJob(existing, created=False)


def _check_job_id(job_id: str) -> None:
    if len(job_id) > MAX_JOB_ID_LENGTH or "\x00" in job_id:
        # Cannot be a stored id; answering here also keeps NUL away from Postgres.
        raise NotFoundError(f"job {job_id[:80]!r} not found", {"id": job_id[:80]})


def _not_found(job_id: str) -> NotFoundError:
    return NotFoundError(f"job {job_id!r} not found", {"id": job_id})


async def get_job(*, session: AsyncSession, job_id: str, for_update: bool = False) -> TrainingJob:
    """The job, or 404."""
    _check_job_id(job_id)
    job = await repository.get_job(session=session, job_id=job_id, for_update=for_update)
    if job is None:
        raise _not_found(job_id)
    return job


async def read_job(*, reader: repository.DocumentReader, job_id: str) -> repository.DocumentRow:
    """What ``GET /jobs/{id}`` shows of the job (``repository.DOCUMENT_FIELDS``), or 404."""
    _check_job_id(job_id)
    row = await repository.get_job_document_row(reader=reader, job_id=job_id)
    if row is None:
        raise _not_found(job_id)
    return row


async def list_jobs(
    *, reader: repository.DocumentReader, filters: JobFilters, cursor: str | None, limit: int
) -> JobPage:
    """One page of jobs, newest first."""
    after = decode_cursor(cursor) if cursor else None
    rows = await repository.list_jobs(reader=reader, filters=filters, after=after, limit=limit + 1)
    if len(rows) <= limit:
        return JobPage(rows, None)
    last = rows[limit - 1]
    position = Position(last[repository.DOCUMENT_CREATED_AT], last[repository.DOCUMENT_ID])
    return JobPage(rows[:limit], encode_cursor(position))


async def count_jobs(*, session: AsyncSession, filters: JobFilters) -> dict[str, int]:
    """Jobs per status among those the filters select."""
    return await repository.count_by_status(session=session, filters=filters)


def _nothing_submitted(job: TrainingJob) -> bool:
    # A failed attempt may still have created some objects (the policy, say): not "nothing".
    return job.submitted_at is None and job.workload_name is None and job.karmada_attempts == 0


async def stop_job(
    *,
    session: AsyncSession,
    gateway: KarmadaGateway | None,
    settings: Settings,
    job_id: str,
) -> TrainingJob:
    """Stop a job: Stopped at once when nothing reached a cluster, else Stopping and its
    workload is removed right away (Stopped; Stopping while Karmada cannot be reached, which
    the monitor finishes). ``gateway`` is None only when Karmada is not configured: the job
    then stays Stopping and its ``message`` says why. Stopping a stopped job returns it."""
    job = await get_job(session=session, job_id=job_id, for_update=True)
    status = JobStatus(job.status)
    if status is JobStatus.STOPPED:
        return job
    now = utcnow()
    if status is not JobStatus.STOPPING:
        target = JobStatus.STOPPED if _nothing_submitted(job) else JobStatus.STOPPING
        await lifecycle.transition(
            session=session,
            job=job,
            to=target,
            reason="StoppedByUser" if target is JobStatus.STOPPED else "StopRequested",
            message="stopped on request",
            now=now,
        )
        if target is JobStatus.STOPPED:
            return job
    if gateway is None:
        job.message = f"stop requested; {NOT_CONFIGURED_MESSAGE}"
        return job
    await submission.finish_stop(
        session=session, gateway=gateway, job=job, settings=settings, now=now
    )
    return job


async def delete_job(
    *,
    session: AsyncSession,
    gateway: KarmadaGateway | None,
    settings: Settings,
    job_id: str,
) -> str:
    """Delete a job: its Karmada objects first, then its row; if Karmada fails the job stays
    Deleting and the monitor retries. ``gateway`` is None only when Karmada is not configured:
    the row goes at once when nothing reached a cluster, else the job stays Deleting (the
    answer says why). Returns a message."""
    job = await get_job(session=session, job_id=job_id, for_update=True)
    if gateway is None and _nothing_submitted(job) and job.status != JobStatus.DELETING:
        await repository.delete_job(session=session, job_id=job_id)
        log.info("job.deleted", job_id=job_id)
        return f"job {job_id} deleted"
    now = utcnow()
    if job.status != JobStatus.DELETING:
        await lifecycle.transition(
            session=session,
            job=job,
            to=JobStatus.DELETING,
            reason="DeleteRequested",
            message="deletion requested",
            now=now,
        )
    if gateway is None:
        return f"job {job_id} is being deleted; {NOT_CONFIGURED_MESSAGE}"
    deleted = await submission.finish_delete(
        session=session, gateway=gateway, job=job, settings=settings, now=now
    )
    if deleted:
        return f"job {job_id} deleted"
    return f"job {job_id} is being deleted: {job.last_error}; retried in the background"


async def check_target_clusters(
    *,
    gateway: KarmadaGateway | None,
    directory: ClusterDirectory,
    request: TrainingJobRequest,
) -> None:
    """422 naming the ``targetClusters`` Karmada does not know. Without Karmada (not
    configured, or not answering) nothing can be checked and the job is accepted to wait."""
    if gateway is None or not request.target_clusters:
        return
    try:
        await clusters.check_clusters(
            gateway=gateway,
            directory=directory,
            names=request.target_clusters,
            field="targetClusters",
        )
    except KarmadaUnavailable as exc:
        log.info("job.target_clusters_unchecked", error=exc.message)


async def dry_run(
    *,
    gateway: KarmadaGateway | None,
    directory: ClusterDirectory,
    request: TrainingJobRequest,
    settings: Settings,
) -> DryRunResponse:
    """What creating the job would send to Karmada, and the ready clusters it could run on;
    nothing is stored or created."""
    resolved = resolve_algorithm(request)
    await check_target_clusters(gateway=gateway, directory=directory, request=request)
    spec = request_spec(
        request,
        job_id=new_job_id(request.job_name),
        algorithm=resolved.algorithm_id,
        workload_kind=resolved.workload_kind,
    )
    try:
        rendered = render(spec, settings.workloads)
    except WorkloadSpecError as exc:
        raise InvalidRequestError(str(exc)) from None
    candidates: list[str] = []
    if gateway is None:
        message = "rendered; Karmada is not configured, so no candidate clusters"
    else:
        try:
            clusters = await directory.clusters(gateway)
        except KarmadaUnavailable as exc:
            message = f"rendered; candidate clusters unknown: {exc.message}"
        else:
            wanted = set(request.target_clusters)
            candidates = sorted(
                c.name for c in clusters if c.ready and (not wanted or c.name in wanted)
            )
            message = "rendered" if candidates else "rendered; no ready cluster matches"
    return DryRunResponse(
        manifests=[dict(manifest) for manifest in rendered.objects],
        candidate_clusters=candidates,
        message=message,
    )


async def _first_submission(
    *,
    session: AsyncSession,
    gateway: KarmadaGateway | None,
    job_id: str,
    settings: Settings,
) -> TrainingJob:
    """First submission attempt of a stored Pending job (the monitor retries failures).

    A job whose row the monitor holds is being submitted by it: it is returned as stored."""
    job = await repository.get_job(
        session=session, job_id=job_id, for_update=True, skip_locked=True
    )
    if job is None:
        return await get_job(session=session, job_id=job_id)
    if job.status != JobStatus.PENDING or job.submitted_at is not None:
        return job  # someone else (the monitor, a replayed request) already moved it on
    if gateway is None:
        job.message = NOT_CONFIGURED_MESSAGE
        return job
    await submission.submit(
        session=session, gateway=gateway, job=job, settings=settings, now=utcnow()
    )
    return job


async def job_events(*, session: AsyncSession, job_id: str) -> list[JobEvent]:
    """The job's events, oldest first (404 for an unknown job)."""
    await get_job(session=session, job_id=job_id)
    return await repository.list_events(session=session, job_id=job_id)


async def job_status(
    *,
    session: AsyncSession,
    gateway: KarmadaGateway | None,
    directory: ClusterDirectory,
    job_id: str,
) -> JobStatusResponse:
    """The job's status, read live from Karmada when it has a workload there."""
    job = await get_job(session=session, job_id=job_id)
    return await live.live_status(gateway=gateway, directory=directory, job=job)


async def _job_for_logs(
    session: AsyncSession,
    gateway: KarmadaGateway | None,
    directory: ClusterDirectory,
    job_id: str,
    cluster: str | None,
) -> TrainingJob:
    """The job (404) after checking the ``?cluster=`` asked for (422 when unknown)."""
    job = await get_job(session=session, job_id=job_id)
    if cluster is not None and gateway is not None:
        await clusters.check_clusters(
            gateway=gateway, directory=directory, names=[cluster], field="cluster"
        )
    return job


async def job_logs(
    *,
    session: AsyncSession,
    gateway: KarmadaGateway | None,
    directory: ClusterDirectory,
    settings: Settings,
    job_id: str,
    cluster: str | None,
    container: str | None,
    tail_lines: int,
) -> JobLogsResponse:
    """The driver's last lines: live from its pod through Karmada, else the tail stored when
    the job ended; no pod yet is an answer whose ``message`` says so."""
    job = await _job_for_logs(session, gateway, directory, job_id, cluster)
    return await logs.read_logs(
        session=session,
        gateway=gateway,
        job=job,
        settings=settings,
        cluster=cluster,
        container=container,
        tail_lines=tail_lines,
    )


async def follow_job_logs(
    *,
    session: AsyncSession,
    gateway: KarmadaGateway,
    directory: ClusterDirectory,
    settings: Settings,
    job_id: str,
    cluster: str | None,
    container: str | None,
    tail_lines: int,
    slots: logs.StreamSlots,
) -> AsyncIterator[str]:
    """Server-sent events following the driver's log (the stored tail, or a notice, when no
    pod is left). Every check happens before the first event, as an ordinary HTTP error."""
    job = await _job_for_logs(session, gateway, directory, job_id, cluster)
    return await logs.driver_log_events(
        session=session,
        gateway=gateway,
        job=job,
        settings=settings,
        cluster=cluster,
        container=container,
        tail_lines=tail_lines,
        slots=slots,
    )
