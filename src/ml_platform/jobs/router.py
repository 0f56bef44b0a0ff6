"""HTTP routes of the jobs API (``/api/v1/jobs``); thin: parse, call the service, shape."""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from ml_platform.api import API_PREFIX
from ml_platform.auth.deps import CallerDep
from ml_platform.deps import (
    ClusterDirectoryDep,
    DocumentReaderDep,
    GatewayDep,
    OptionalGatewayDep,
    SessionDep,
    SettingsDep,
    WriteSessionDep,
)
from ml_platform.jobs import service
from ml_platform.jobs.documents import JobDocumentResponse
from ml_platform.jobs.models import JobEvent, TrainingJob
from ml_platform.jobs.repository import JobFilters
from ml_platform.jobs.schemas import (
    DryRunResponse,
    JobCountsResponse,
    JobEventResponse,
    JobLogsResponse,
    JobStatusResponse,
    MessageResponse,
    TrainingJobRequest,
    TrainingJobResponse,
)
from ml_platform.policy.admission import admit_job_request
from ml_platform.wire import DNS_1123_LABEL, ErrorResponse

# The full prefix lives on this router so route templates (metrics labels) are complete paths.
router = APIRouter(prefix=f"{API_PREFIX}/jobs", tags=["jobs"])

# Query strings are compared in SQL; NUL cannot be sent to Postgres.
NO_NUL = r"^[^\x00]*$"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_TAIL_LINES = 10_000

Responses = dict[int | str, dict[str, Any]]
_ERRORS: Responses = {code: {"model": ErrorResponse} for code in (400, 422, 503)}
_NOT_FOUND: Responses = {404: {"model": ErrorResponse}}
_CONFLICT: Responses = {409: {"model": ErrorResponse}}


def to_response(job: TrainingJob) -> TrainingJobResponse:
    """The wire shape of a stored job."""
    return TrainingJobResponse(
        id=job.id,
        job_name=job.job_name,
        namespace=job.namespace,
        algorithm=job.algorithm,
        priority=job.priority,
        request=job.request,
        status=job.status,
        reason=job.reason,
        message=job.message or "",
        target_clusters=list(job.target_clusters),
        clusters=sorted(job.cluster_status or {}),
        workload_kind=job.workload_kind,
        created_by=job.created_by,
        created_at=job.created_at,
        updated_at=job.updated_at,
        submitted_at=job.submitted_at,
        started_at=job.started_at,
        completed_at=job.completed_at,
        observed_at=job.observed_at,
    )


def _event_response(event: JobEvent) -> JobEventResponse:
    return JobEventResponse(
        id=event.id,
        occurred_at=event.occurred_at,
        from_status=event.from_status,
        to_status=event.to_status,
        reason=event.reason,
        message=event.message,
        cluster=event.cluster,
        created_by=event.created_by,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TrainingJobResponse | DryRunResponse,
    responses={**_ERRORS, **_CONFLICT, 413: {"model": ErrorResponse}},
)
async def create_job(
    body: TrainingJobRequest,
    request: Request,
    caller: CallerDep,
    session: WriteSessionDep,
    response: Response,
    gateway: OptionalGatewayDep,
    directory: ClusterDirectoryDep,
    settings: SettingsDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="A retried request with the same key returns the original job.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        Query(
            alias="dryRun",
            description="Validate and render only: 200 with the manifests, nothing stored.",
        ),
    ] = False,
) -> TrainingJobResponse | DryRunResponse:
    """Store a training job (Pending), then submit it to Karmada; 201 either way (a job that
    could not be submitted yet stays Pending with the reason in ``message``)."""
    admit_job_request(body, caller=caller, settings=settings)
    if dry_run:
        response.status_code = status.HTTP_200_OK
        return await service.dry_run(
            gateway=gateway, directory=directory, request=body, settings=settings
        )
    result = await service.create_job(
        session=session,
        gateway=gateway,
        directory=directory,
        settings=settings,
        request=body,
        idempotency_key=idempotency_key,
        created_by=caller.name,
    )
    response.headers["Location"] = f"{request.url.path}/{result.job.id}"
    if not result.created:
        response.headers["Idempotent-Replayed"] = "true"
    return to_response(result.job)


@router.get("", response_model=list[TrainingJobResponse], responses=_ERRORS)
async def list_jobs(
    request: Request,
    caller: CallerDep,
    reader: DocumentReaderDep,
    namespace: Annotated[str | None, Query(max_length=63, pattern=NO_NUL)] = None,
    status_: Annotated[str | None, Query(alias="status", max_length=16, pattern=NO_NUL)] = None,
    algorithm: Annotated[str | None, Query(max_length=63, pattern=NO_NUL)] = None,
    q: Annotated[
        str | None, Query(max_length=63, pattern=NO_NUL, description="Substring of id or name.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=512, pattern=NO_NUL)] = None,
) -> JobDocumentResponse:
    """Jobs newest first, in the caller's namespaces; the next page's URL is in the ``Link``
    header."""
    if namespace is not None:
        caller.require_namespace(namespace)
    filters = JobFilters(
        namespace=namespace,
        namespaces=caller.namespaces,
        status=status_,
        algorithm=algorithm,
        q=q,
    )
    page = await service.list_jobs(
        reader=reader,
        filters=filters,
        cursor=cursor,
        limit=limit,
    )
    headers = {}
    if page.next_cursor is not None:
        next_url = request.url.include_query_params(cursor=page.next_cursor)
        headers["Link"] = f'<{next_url}>; rel="next"'
    return JobDocumentResponse.page(page.jobs, headers=headers)


@router.get("/counts", response_model=JobCountsResponse, responses=_ERRORS)
async def count_jobs(
    caller: CallerDep,
    session: SessionDep,
    namespace: Annotated[str | None, Query(max_length=63, pattern=NO_NUL)] = None,
    algorithm: Annotated[str | None, Query(max_length=63, pattern=NO_NUL)] = None,
    q: Annotated[
        str | None, Query(max_length=63, pattern=NO_NUL, description="Substring of id or name.")
    ] = None,
) -> JobCountsResponse:
    """Jobs per status among those the list's other filters select: one query, whatever the
    number of jobs (a job id is never "counts": ids end in a hex suffix)."""
    if namespace is not None:
        caller.require_namespace(namespace)
    filters = JobFilters(
        namespace=namespace, namespaces=caller.namespaces, algorithm=algorithm, q=q
    )
    counts = await service.count_jobs(session=session, filters=filters)
    return JobCountsResponse(counts=counts, total=sum(counts.values()))


@router.get("/{job_id}", response_model=TrainingJobResponse, responses=_NOT_FOUND)
async def get_job(job_id: str, reader: DocumentReaderDep) -> JobDocumentResponse:
    """One job."""
    structlog.contextvars.bind_contextvars(job_id=job_id)
    return JobDocumentResponse.one(await service.read_job(reader=reader, job_id=job_id))


@router.delete("/{job_id}", response_model=MessageResponse, responses=_NOT_FOUND)
async def delete_job(
    job_id: str, session: WriteSessionDep, gateway: OptionalGatewayDep, settings: SettingsDep
) -> MessageResponse:
    """Delete a job: its Karmada objects, then its record (``message`` says whether the
    removal finished or continues in the background)."""
    structlog.contextvars.bind_contextvars(job_id=job_id)
    message = await service.delete_job(
        session=session, gateway=gateway, settings=settings, job_id=job_id
    )
    return MessageResponse(message=message)


@router.post(
    "/{job_id}/stop", response_model=TrainingJobResponse, responses={**_NOT_FOUND, **_CONFLICT}
)
async def stop_job(
    job_id: str, session: WriteSessionDep, gateway: OptionalGatewayDep, settings: SettingsDep
) -> TrainingJobResponse:
    """Stop a job: its workload leaves the clusters, its record is kept."""
    structlog.contextvars.bind_contextvars(job_id=job_id)
    job = await service.stop_job(session=session, gateway=gateway, settings=settings, job_id=job_id)
    return to_response(job)


@router.get("/{job_id}/status", response_model=JobStatusResponse, responses=_NOT_FOUND)
async def get_job_status(
    job_id: str, session: SessionDep, gateway: OptionalGatewayDep, directory: ClusterDirectoryDep
) -> JobStatusResponse:
    """Status of a job, read live from Karmada when it has a workload there."""
    structlog.contextvars.bind_contextvars(job_id=job_id)
    return await service.job_status(
        session=session, gateway=gateway, directory=directory, job_id=job_id
    )


@router.get("/{job_id}/events", response_model=list[JobEventResponse], responses=_NOT_FOUND)
async def get_job_events(job_id: str, session: SessionDep) -> list[JobEventResponse]:
    """Status transitions of a job, oldest first."""
    structlog.contextvars.bind_contextvars(job_id=job_id)
    events = await service.job_events(session=session, job_id=job_id)
    return [_event_response(event) for event in events]


@router.get(
    "/{job_id}/logs",
    response_model=JobLogsResponse,
    responses={**_NOT_FOUND, **_ERRORS},
)
async def get_job_logs(
    job_id: str,
    session: SessionDep,
    gateway: OptionalGatewayDep,
    directory: ClusterDirectoryDep,
    settings: SettingsDep,
    tail_lines: Annotated[int, Query(alias="tailLines", ge=1, le=MAX_TAIL_LINES)] = 1000,
    container: Annotated[str | None, Query(max_length=63, pattern=DNS_1123_LABEL)] = None,
    cluster: Annotated[str | None, Query(max_length=253, pattern=NO_NUL)] = None,
) -> JobLogsResponse:
    """The driver's log: live from its pod through Karmada, else the tail stored when the job
    ended. No pod yet is a 200 whose ``message`` says so."""
    structlog.contextvars.bind_contextvars(job_id=job_id)
    return await service.job_logs(
        session=session,
        gateway=gateway,
        directory=directory,
        settings=settings,
        job_id=job_id,
        cluster=cluster,
        container=container,
        tail_lines=tail_lines,
    )


@router.get(
    "/{job_id}/logs/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **_NOT_FOUND, **_ERRORS},
)
async def stream_job_logs(
    job_id: str,
    request: Request,
    session: SessionDep,
    gateway: GatewayDep,
    directory: ClusterDirectoryDep,
    settings: SettingsDep,
    tail_lines: Annotated[int, Query(alias="tailLines", ge=0, le=MAX_TAIL_LINES)] = 100,
    container: Annotated[str | None, Query(max_length=63, pattern=DNS_1123_LABEL)] = None,
    cluster: Annotated[str | None, Query(max_length=253, pattern=NO_NUL)] = None,
) -> StreamingResponse:
    """Follow the driver's log as server-sent events (one ``data:`` per line) until the log
    ends or the client disconnects. Without a pod the stored tail (or a notice) is sent."""
    structlog.contextvars.bind_contextvars(job_id=job_id)
    events = await service.follow_job_logs(
        session=session,
        gateway=gateway,
        directory=directory,
        settings=settings,
        job_id=job_id,
        cluster=cluster,
        container=container,
        tail_lines=tail_lines,
        slots=request.app.state.log_streams,
    )
    return StreamingResponse(
        events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
