"""Rules of the jobs domain: create, read, list, stop, delete. Never commits (the request's
session dependency does)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ml_platform.algorithms import (
    ALGORITHMS,
    HyperparameterError,
    get_algorithm,
    validate_hyperparameters,
)
from ml_platform.clusters.directory import ClusterDirectory
from ml_platform.config import Settings
from ml_platform.db.base import utcnow
from ml_platform.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    validation_details,
)
from ml_platform.jobs import lifecycle, repository, submission
from ml_platform.jobs.cursor import decode_cursor, encode_cursor
from ml_platform.jobs.lifecycle import JobStatus
from ml_platform.jobs.models import JobEvent, TrainingJob
from ml_platform.jobs.repository import JobFilters, Position
from ml_platform.jobs.schemas import DryRunResponse, JobStatusResponse, TrainingJobRequest
from ml_platform.jobs.workload import request_spec
from ml_platform.karmada.errors import KarmadaUnavailable
from ml_platform.karmada.gateway import KarmadaGateway
from ml_platform.workloads import WorkloadSpecError, render

log = structlog.get_logger()

CONTAINER_ALGORITHM_ID = "container"
MAX_JOB_ID_LENGTH = 63
NOT_CONFIGURED_MESSAGE = "waiting for Karmada: not configured"


@dataclass(frozen=True)
class CreatedJob:
    """Result of create_job: the job, and whether this call created it (False on replay)."""

    job: TrainingJob
    created: bool


@dataclass(frozen=True)
class JobPage:
    """One page of the job list and the cursor of the next page (None on the last page)."""

    jobs: list[TrainingJob]
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
    foreign = sorted(set(request.hyperparameters) - {algorithm_id})
    if foreign:
        raise InvalidRequestError(
            f"hyperparameters given for another algorithm: {', '.join(foreign)}; "
            f"only {algorithm_id!r} is allowed",
            {"unexpected": foreign, "algorithm": algorithm_id},
        )
    try:
        values = validate_hyperparameters(algorithm_id, request.hyperparameters.get(algorithm_id))
    except HyperparameterError as exc:
        details = _hyperparameter_details(algorithm_id, list(exc.errors))
        first = details[0] if details else {"loc": [], "msg": "invalid"}
        where = ".".join(str(part) for part in first["loc"][1:])
        raise InvalidRequestError(f"{where}: {first['msg']}", details) from None
    return ResolvedAlgorithm(algorithm_id, str(algorithm.workload_kind), values)


def _new_job_id(job_name: str) -> str:
    return f"{job_name}-{secrets.token_hex(4)}"


async def create_job(
    *,
    session: AsyncSession,
    request: TrainingJobRequest,
    idempotency_key: str | None,
    created_by: str | None = None,
) -> CreatedJob:
    """Store a new job as Pending with its creation event.

    Submission to Karmada is a separate step that follows this one. With an idempotency key
    that was used before, the original job is returned instead (409 if the request differs).
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
            "id": _new_job_id(request.job_name),
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
            "submit_attempts": 0,
            "next_attempt_at": now,
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


async def get_job(*, session: AsyncSession, job_id: str, for_update: bool = False) -> TrainingJob:
    """The job, or 404."""
    if len(job_id) > MAX_JOB_ID_LENGTH or "\x00" in job_id:
        # Cannot be a stored id; answering here also keeps NUL away from Postgres.
        raise NotFoundError(f"job {job_id[:80]!r} not found", {"id": job_id[:80]})
    job = await repository.get_job(session=session, job_id=job_id, for_update=for_update)
    if job is None:
        raise NotFoundError(f"job {job_id!r} not found", {"id": job_id})
    return job


async def list_jobs(
    *, session: AsyncSession, filters: JobFilters, cursor: str | None, limit: int
) -> JobPage:
    """One page of jobs, newest first."""
    after = decode_cursor(cursor) if cursor else None
    rows = await repository.list_jobs(
        session=session, filters=filters, after=after, limit=limit + 1
    )
    if len(rows) <= limit:
        return JobPage(rows, None)
    last = rows[limit - 1]
    return JobPage(rows[:limit], encode_cursor(Position(last.created_at, last.id)))


def _nothing_submitted(job: TrainingJob) -> bool:
    # A failed attempt may still have created some objects (the policy, say): not "nothing".
    return job.submitted_at is None and job.workload_name is None and job.submit_attempts == 0


def _enter_cleanup(job: TrainingJob, now: datetime) -> None:
    """Start counting attempts of the new pending Karmada step, due at once."""
    job.submit_attempts = 0
    job.next_attempt_at = now
    job.last_error = None


async def stop_job(
    *,
    session: AsyncSession,
    job_id: str,
    gateway: KarmadaGateway | None = None,
    settings: Settings | None = None,
) -> TrainingJob:
    """Stop a job: Stopped at once when nothing reached a cluster, else Stopping, and with a
    gateway the workload is removed right away (Stopped; Stopping if Karmada cannot be reached,
    which the monitor finishes). Stopping a stopped job returns it unchanged."""
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
        _enter_cleanup(job, now)
    if gateway is not None and settings is not None:
        await submission.finish_stop(
            session=session, gateway=gateway, job=job, settings=settings, now=now
        )
    return job


async def delete_job(
    *,
    session: AsyncSession,
    job_id: str,
    gateway: KarmadaGateway | None = None,
    settings: Settings | None = None,
) -> str:
    """Delete a job. With a gateway its Karmada objects are removed first, then the row; if
    Karmada fails the job stays Deleting and the monitor retries. Without one the row goes at
    once when nothing reached a cluster, else it is marked Deleting. Returns a message."""
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
        _enter_cleanup(job, now)
    if gateway is not None and settings is not None:
        deleted = await submission.finish_delete(
            session=session, gateway=gateway, job=job, settings=settings, now=now
        )
        if deleted:
            return f"job {job_id} deleted"
        return f"job {job_id} is being deleted: {job.last_error}; retried in the background"
    return f"job {job_id} is being deleted"


def _count(entry: Any, key: str) -> int:
    value = entry.get(key) if isinstance(entry, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def job_status(job: TrainingJob) -> JobStatusResponse:
    """The status summary built from the stored row and its per-cluster data."""
    active = succeeded = failed = None
    distribution = None
    if job.cluster_status:
        entries = job.cluster_status
        active = sum(_count(entry, "active") for entry in entries.values())
        succeeded = sum(_count(entry, "succeeded") for entry in entries.values())
        failed = sum(_count(entry, "failed") for entry in entries.values())
        distribution = {
            cluster: _count(entry, "replicas")
            or _count(entry, "active") + _count(entry, "succeeded") + _count(entry, "failed")
            for cluster, entry in entries.items()
        }
    return JobStatusResponse(
        phase=job.status,
        reason=job.reason,
        message=job.message,
        active=active,
        succeeded=succeeded,
        failed=failed,
        start_time=job.started_at,
        completion_time=job.completed_at,
        cluster_distribution=distribution,
    )


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
        clusters = await directory.clusters(gateway)
    except KarmadaUnavailable as exc:
        log.info("job.target_clusters_unchecked", error=exc.message)
        return
    known = sorted(cluster.name for cluster in clusters)
    unknown = sorted(set(request.target_clusters) - set(known))
    if unknown:
        raise InvalidRequestError(
            f"unknown targetClusters: {', '.join(unknown)}; known: {', '.join(known) or 'none'}",
            {"unknown": unknown, "known": known},
        )


async def check_cluster(
    *, gateway: KarmadaGateway, directory: ClusterDirectory, cluster: str
) -> None:
    """422 when Karmada does not know ``cluster`` (503 when Karmada cannot be asked)."""
    known = sorted(c.name for c in await directory.clusters(gateway))
    if cluster not in known:
        raise InvalidRequestError(
            f"unknown cluster {cluster[:253]!r}; known: {', '.join(known) or 'none'}",
            {"unknown": [cluster[:253]], "known": known},
        )


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
        job_id=_new_job_id(request.job_name),
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


async def submit_created_job(
    *,
    session: AsyncSession,
    gateway: KarmadaGateway | None,
    job_id: str,
    settings: Settings,
) -> TrainingJob:
    """First submission attempt of a stored Pending job (the monitor retries failures)."""
    job = await get_job(session=session, job_id=job_id, for_update=True)
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
