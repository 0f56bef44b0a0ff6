"""Job statuses, the allowed transitions between them, and the one function that applies a
transition and records it as a ``job_event``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ml_platform.errors import ConflictError
from ml_platform.jobs import repository
from ml_platform.jobs.models import JobEvent, TrainingJob

log = structlog.get_logger()


class JobStatus(StrEnum):
    """Every status a job can have (stored as these strings)."""

    PENDING = "Pending"
    SUBMITTED = "Submitted"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    DELETING = "Deleting"


S = JobStatus

# from-status -> statuses it may move to. None is "the job does not exist yet".
TRANSITIONS: dict[JobStatus | None, frozenset[JobStatus]] = {
    None: frozenset({S.PENDING}),
    S.PENDING: frozenset({S.SUBMITTED, S.RUNNING, S.FAILED, S.STOPPING, S.STOPPED, S.DELETING}),
    S.SUBMITTED: frozenset({S.RUNNING, S.SUCCEEDED, S.FAILED, S.STOPPING, S.STOPPED, S.DELETING}),
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.STOPPING, S.STOPPED, S.DELETING}),
    S.STOPPING: frozenset({S.STOPPED, S.FAILED, S.DELETING}),
    S.STOPPED: frozenset({S.DELETING}),
    S.SUCCEEDED: frozenset({S.DELETING}),
    S.FAILED: frozenset({S.DELETING}),
    S.DELETING: frozenset(),
}

TERMINAL_STATUSES = frozenset({S.SUCCEEDED, S.FAILED, S.STOPPED})
# Moving into these sets completed_at; into RUNNING sets started_at.
_COMPLETING = TERMINAL_STATUSES


def can_transition(current: JobStatus | None, target: JobStatus) -> bool:
    """Whether the lifecycle allows moving from ``current`` to ``target``."""
    return target in TRANSITIONS[current]


async def transition(
    *,
    session: AsyncSession,
    job: TrainingJob,
    to: JobStatus,
    reason: str,
    message: str | None = None,
    cluster: str | None = None,
    now: datetime,
) -> JobEvent:
    """Move ``job`` to ``to`` (raising 409 if not allowed) and record the event."""
    current = JobStatus(job.status)
    if not can_transition(current, to):
        raise ConflictError(
            f"job {job.id} is {current}; it cannot become {to}",
            {"status": str(current), "requested": str(to)},
        )
    job.status = to
    job.reason = reason
    job.message = message
    job.updated_at = now
    if to is S.RUNNING and job.started_at is None:
        job.started_at = now
    if to in _COMPLETING and job.completed_at is None:
        job.completed_at = now
    event = await repository.add_event(
        session=session,
        job_id=job.id,
        occurred_at=now,
        from_status=current,
        to_status=to,
        reason=reason,
        message=message,
        cluster=cluster,
    )
    log.info("job.status_changed", job_id=job.id, from_status=current, to_status=to, reason=reason)
    return event


async def record_creation(*, session: AsyncSession, job: TrainingJob, now: datetime) -> JobEvent:
    """Record the None -> Pending event of a newly stored job."""
    return await repository.add_event(
        session=session,
        job_id=job.id,
        occurred_at=now,
        from_status=None,
        to_status=S.PENDING,
        reason="Created",
        message=None,
        cluster=None,
    )
