"""A job's driver log: found in the member clusters through Karmada's proxy, followed as it
grows, and its tail stored when the job ends (the pods that wrote it go away)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ml_platform.config import Settings
from ml_platform.db.base import utcnow
from ml_platform.errors import AppError, ServiceUnavailableError
from ml_platform.jobs import repository
from ml_platform.jobs.models import TrainingJob
from ml_platform.jobs.schemas import JobLogsResponse
from ml_platform.jobs.workload import render_job
from ml_platform.karmada.bindings import binding_ref
from ml_platform.karmada.errors import KarmadaRejected, KarmadaUnavailable
from ml_platform.karmada.gateway import KarmadaGateway
from ml_platform.karmada.resources import POD

log = structlog.get_logger()

STORED_LOG_BYTES = 1024 * 1024
# Kubernetes' limitBytes keeps the head of a log; the tail comes from tailLines, then is cut.
CAPTURE_TAIL_LINES = 50_000
NO_POD_MESSAGE = "no driver pod yet"
STARTING_MESSAGE = "the driver container is starting; no log yet"
# How Kubernetes refuses the log of a container that has not started (400 BadRequest).
_WAITING_TO_START = "is waiting to start: "


def container_waiting(exc: AppError) -> str | None:
    """The waiting reason (ContainerCreating, ...) when ``exc`` is Kubernetes refusing the
    log of a container that has not started yet; None for any other error."""
    status = exc.details.get("status") if isinstance(exc.details, dict) else None
    if status != 400 or _WAITING_TO_START not in exc.message:
        return None
    return exc.message.split(_WAITING_TO_START, 1)[1].strip() or "waiting"


@dataclass(frozen=True)
class DriverPod:
    """The pod (and container) whose log is the job's main output."""

    cluster: str
    name: str
    container: str


async def placed_clusters(*, gateway: KarmadaGateway, job: TrainingJob) -> list[str]:
    """The clusters Karmada scheduled the workload to (empty when not scheduled or gone)."""
    binding = await gateway.get(binding_ref(job))
    spec = (binding or {}).get("spec") or {}
    names = [c.get("name") for c in spec.get("clusters") or () if isinstance(c, Mapping)]
    return sorted({n for n in names if isinstance(n, str) and n})


def _newest(pods: list[dict[str, Any]]) -> dict[str, Any]:
    # A retried driver leaves older pods behind; the running or newest one has the live log.
    def key(pod: dict[str, Any]) -> tuple[bool, str]:
        running = (pod.get("status") or {}).get("phase") == "Running"
        return running, str((pod.get("metadata") or {}).get("creationTimestamp") or "")

    return max(pods, key=key)


async def find_driver(
    *,
    gateway: KarmadaGateway,
    job: TrainingJob,
    settings: Settings,
    cluster: str | None = None,
    container: str | None = None,
) -> DriverPod | None:
    """The job's driver pod: in ``cluster`` when given, else in the first cluster the workload
    was placed on that has one."""
    driver = render_job(job, settings.workloads).driver
    clusters = [cluster] if cluster else await placed_clusters(gateway=gateway, job=job)
    for placed in clusters:
        pods = await gateway.list_objects(
            POD, namespace=job.namespace, cluster=placed, label_selector=driver.label_selector
        )
        if pods:
            name = str(_newest(pods)["metadata"]["name"])
            return DriverPod(placed, name, container or driver.container)
    return None


async def read_driver_log(
    *, gateway: KarmadaGateway, job: TrainingJob, driver: DriverPod, tail_lines: int
) -> str:
    """The last ``tail_lines`` lines of the driver's log, as text."""
    return await gateway.pod_log(
        driver.cluster,
        namespace=job.namespace,
        pod=driver.name,
        container=driver.container,
        tail_lines=tail_lines,
    )


def log_tail(content: str, max_bytes: int) -> str:
    """The end of ``content`` in at most ``max_bytes`` UTF-8 bytes, from a line start."""
    data = content.encode("utf-8")
    if len(data) <= max_bytes:
        return content
    tail = data[-max_bytes:].decode("utf-8", errors="ignore")
    # Start at a line boundary so the first stored line is a whole one.
    newline = tail.find("\n")
    return tail[newline + 1 :] if 0 <= newline < len(tail) - 1 else tail


class Capture(StrEnum):
    """What an attempt to store a job's driver log came to."""

    STORED = "stored"
    NO_POD = "no_pod"  # nothing (left) to read: an earlier capture, if any, is kept
    FAILED = "failed"  # the log could not be read now; worth another attempt


async def capture_driver_log(
    *, session: AsyncSession, gateway: KarmadaGateway, job: TrainingJob, settings: Settings
) -> Capture:
    """Store the last 1 MiB of the job's driver log (replacing an earlier capture).

    A log that cannot be read is a warning (``Capture.FAILED``), not a reason to fail the
    caller's transition. (Database errors do propagate: the caller's transaction could not
    commit anyway.)
    """
    try:
        driver = await find_driver(gateway=gateway, job=job, settings=settings)
        if driver is None:
            log.info("job.log_capture_skipped", job_id=job.id, reason="no driver pod")
            return Capture.NO_POD
        content = await read_driver_log(
            gateway=gateway, job=job, driver=driver, tail_lines=CAPTURE_TAIL_LINES
        )
    except Exception as exc:  # any failure to read; the caller's transition matters more
        log.warning("job.log_capture_failed", job_id=job.id, error=str(exc))
        return Capture.FAILED
    await repository.save_job_log(
        session=session,
        job_id=job.id,
        cluster=driver.cluster,
        pod=driver.name,
        container=driver.container,
        # Postgres text cannot hold NUL.
        content=log_tail(content, STORED_LOG_BYTES).replace("\x00", "\ufffd"),
        captured_at=utcnow(),
    )
    log.info("job.log_captured", job_id=job.id, cluster=driver.cluster, pod=driver.name)
    return Capture.STORED


def _last_lines(content: str, count: int) -> list[str]:
    lines = content.splitlines()
    return lines[-count:] if count else []


async def _stored_response(
    session: AsyncSession, job: TrainingJob, tail_lines: int, why: str
) -> JobLogsResponse | None:
    """The stored tail, or None when none was captured (read only when needed: up to 1 MiB)."""
    stored = await repository.get_job_log(session=session, job_id=job.id)
    if stored is None:
        return None
    lines = _last_lines(stored.content, tail_lines)
    captured = stored.captured_at.isoformat()
    text = "\n".join(lines) if lines else "(empty)"
    return JobLogsResponse(
        message=f"stored log captured at {captured} ({why}):\n{text}",
        cluster=stored.cluster,
        pod=stored.pod,
        container=stored.container,
        source="stored",
        logs=lines,
    )


async def read_logs(
    *,
    session: AsyncSession,
    gateway: KarmadaGateway | None,
    job: TrainingJob,
    settings: Settings,
    cluster: str | None,
    container: str | None,
    tail_lines: int,
) -> JobLogsResponse:
    """The driver's last ``tail_lines`` lines: live from its pod, else the stored tail.

    ``cluster`` must already be a known cluster (the caller checks). Raises
    ``KarmadaUnavailable`` only when Karmada is down and no stored log exists.
    """
    if gateway is None:
        stored = await _stored_response(session, job, tail_lines, "Karmada is not configured")
        if stored is not None:
            return stored
        raise _not_configured()
    driver: DriverPod | None = None
    try:
        driver = await find_driver(
            gateway=gateway, job=job, settings=settings, cluster=cluster, container=container
        )
        if driver is None:
            stored = await _stored_response(session, job, tail_lines, "no driver pod left")
            if stored is not None:
                return stored
            return JobLogsResponse(message=NO_POD_MESSAGE, cluster=cluster, source="none")
        content = await read_driver_log(
            gateway=gateway, job=job, driver=driver, tail_lines=tail_lines
        )
    except AppError as exc:
        waiting = container_waiting(exc)
        if driver is not None and waiting is not None:
            return JobLogsResponse(
                message=f"{STARTING_MESSAGE} ({waiting})",
                cluster=driver.cluster,
                pod=driver.name,
                container=driver.container,
                source="live",
                logs=[],
            )
        why = f"live log unavailable: {exc.message}"
        stored = await _stored_response(session, job, tail_lines, why)
        if stored is not None:
            return stored
        gone = isinstance(exc, KarmadaRejected) and isinstance(exc.details, dict)
        if gone and exc.details.get("status") == 404:
            # The pod went away between finding it and reading it (a finished, cleaned-up job).
            return JobLogsResponse(message=NO_POD_MESSAGE, cluster=cluster, source="none")
        raise
    lines = content.splitlines()
    return JobLogsResponse(
        message=content if lines else "the driver has not printed anything yet",
        cluster=driver.cluster,
        pod=driver.name,
        container=driver.container,
        source="live",
        logs=lines,
    )


def _not_configured() -> KarmadaUnavailable:
    return KarmadaUnavailable("Karmada is not configured", {"hint": "set KARMADA_KUBECONFIG"})


def sse_event(data: str, *, event: str | None = None) -> str:
    """One server-sent event; a multi-line ``data`` becomes several ``data:`` fields."""
    head = f"event: {event}\n" if event else ""
    body = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"{head}{body}\n"


class StreamSlots:
    """Counts the driver-log streams whose gateway thread (and connection to a member cluster)
    has not ended yet, and refuses new ones past ``limit`` (503). Used from the event loop
    only."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open = 0

    @property
    def open(self) -> int:
        """Streams whose thread has not ended yet."""
        return self._open

    def check(self) -> None:
        """Raise ``ServiceUnavailableError`` (503) when every slot is in use."""
        if self._open >= self.limit:
            raise ServiceUnavailableError(
                f"too many log streams are open ({self.limit}); try again later",
                {"limit": self.limit},
            )

    def take(self) -> None:
        """Take a slot, or raise like ``check`` when all are in use."""
        self.check()
        self._open += 1

    def give_back(self) -> None:
        """Return a slot taken by ``take``."""
        self._open -= 1


async def follow_driver_log(
    *,
    gateway: KarmadaGateway,
    driver: DriverPod,
    namespace: str,
    tail_lines: int,
    slots: StreamSlots,
) -> AsyncIterator[str]:
    """SSE events, one per log line, until the pod's log ends or the consumer stops reading.

    When the consumer goes away the gateway's stream is closed, which ends its thread at once
    (a silent driver would otherwise hold it until its next line); a thread still waiting for
    the member's answer ends when its request times out. The slot is held until the thread
    has ended, so the slots bound the threads.
    """
    try:
        # Taken here, not before the response: a stream that never starts must not hold one.
        slots.take()
    except ServiceUnavailableError as exc:  # others took the last slots since the check
        yield sse_event(exc.message, event="error")
        return
    try:
        stream = gateway.follow_pod_log(
            driver.cluster,
            namespace=namespace,
            pod=driver.name,
            container=driver.container,
            tail_lines=tail_lines,
        )
    except BaseException:
        slots.give_back()
        raise
    stream.when_ended(slots.give_back)
    # Entered before the first event is sent: the request is on its way meanwhile.
    async with stream as lines:
        yield sse_event(
            f"following {driver.cluster}/{driver.name}/{driver.container}", event="open"
        )
        try:
            async for line in lines:
                yield sse_event(line)
        except Exception as exc:  # reported to the consumer as an error event
            message = exc.message if isinstance(exc, AppError) else str(exc)
            yield sse_event(message, event="error")
    yield sse_event("end of log", event="end")


async def _static_events(lines: list[str], notice: str) -> AsyncIterator[str]:
    yield sse_event(notice, event="open")
    for line in lines:
        yield sse_event(line)
    yield sse_event("end of log", event="end")


async def driver_log_events(
    *,
    session: AsyncSession,
    gateway: KarmadaGateway,
    job: TrainingJob,
    settings: Settings,
    cluster: str | None,
    container: str | None,
    tail_lines: int,
    slots: StreamSlots,
) -> AsyncIterator[str]:
    """The SSE stream for ``/logs/stream``. Every database read and the pod lookup happen
    here, before streaming starts, so their errors are ordinary HTTP errors."""
    driver = await find_driver(
        gateway=gateway, job=job, settings=settings, cluster=cluster, container=container
    )
    if driver is not None:
        slots.check()  # a 503 before streaming in all but a burst of simultaneous requests
        return follow_driver_log(
            gateway=gateway,
            driver=driver,
            namespace=job.namespace,
            tail_lines=tail_lines,
            slots=slots,
        )
    stored = await repository.get_job_log(session=session, job_id=job.id)
    if stored is not None:
        lines = _last_lines(stored.content, tail_lines)
        return _static_events(lines, f"stored log of {stored.cluster}/{stored.pod}")
    return _static_events([], NO_POD_MESSAGE)
