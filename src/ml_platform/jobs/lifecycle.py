"""Job statuses, the allowed transitions between them, and the one home of every status change.

A change is planned by a pure function (``plan_move`` for a change someone asks for,
``plan_observation`` for what Karmada shows) that returns the row's new values and the events
to record, or None. A plan is written in one of two ways, both compare-and-set on the row's
``version``: ``transition`` for one ORM job (the API, the monitor's Karmada steps) and
``write_plans`` for many rows at once (the monitor's status sync). Nothing else sets a status
timestamp or records a ``job_event``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ml_platform.errors import ConflictError
from ml_platform.jobs import repository
from ml_platform.jobs.models import JobEvent, TrainingJob
from ml_platform.karmada.status import JobPhase, Observation

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
# Moving into these makes removing the job's Karmada objects due at once, as a fresh step.
CLEANUP_STATUSES = frozenset({S.STOPPING, S.DELETING})

# Our status for each phase Karmada shows; None keeps the current status (a submitted job
# whose workload waits for a cluster is still Submitted: the lifecycle never goes back).
PHASE_STATUS: Mapping[JobPhase, JobStatus | None] = {
    JobPhase.PENDING: None,
    JobPhase.SUBMITTED: S.SUBMITTED,
    JobPhase.RUNNING: S.RUNNING,
    JobPhase.SUCCEEDED: S.SUCCEEDED,
    JobPhase.FAILED: S.FAILED,
    JobPhase.STOPPED: S.STOPPED,
}

# The reason recorded when the workload gives none.
DEFAULT_REASON: Mapping[JobStatus, str] = {
    S.SUBMITTED: "Submitted",
    S.RUNNING: "Running",
    S.SUCCEEDED: "Succeeded",
    S.FAILED: "Failed",
    S.STOPPED: "Stopped",
}


def can_transition(current: JobStatus | None, target: JobStatus) -> bool:
    """Whether the lifecycle allows moving from ``current`` to ``target``."""
    return target in TRANSITIONS[current]


@dataclass(frozen=True, slots=True)
class JobState:
    """The columns of a job's row that a status change reads and writes."""

    status: str
    reason: str | None
    message: str | None
    cluster_status: dict[str, Any] | None
    submitted_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    next_karmada_attempt_at: datetime | None
    karmada_attempts: int
    last_error: str | None

    @classmethod
    def of(cls, row: Any) -> JobState:
        """The state of an ORM job or of a result row holding these columns."""
        return cls(*(getattr(row, name) for name in _STATE_COLUMNS))


_STATE_COLUMNS = tuple(f.name for f in fields(JobState))


@dataclass(frozen=True, slots=True)
class PlannedEvent:
    """A ``job_event`` to record: one move from one status to another."""

    from_status: str
    to_status: str
    reason: str | None
    message: str | None
    cluster: str | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Plan:
    """What one write sets on a job's row, and the events it records (none: no status move)."""

    state: JobState
    events: tuple[PlannedEvent, ...]
    updated_at: datetime

    @property
    def moves(self) -> bool:
        """Whether the status changes."""
        return bool(self.events)

    def values(self) -> dict[str, Any]:
        """The row's new column values (the same columns for every plan)."""
        values = {name: getattr(self.state, name) for name in _STATE_COLUMNS}
        values["updated_at"] = self.updated_at
        return values

    def then(self, later: Plan) -> Plan:
        """This plan followed by ``later`` (planned from this one's state) in one write."""
        return Plan(later.state, self.events + later.events, later.updated_at)


def plan_move(
    state: JobState,
    to: JobStatus,
    *,
    reason: str,
    message: str | None,
    now: datetime,
    cluster: str | None = None,
) -> Plan | None:
    """Move to ``to``: None when the lifecycle does not allow it (staying put is no move).

    Each status timestamp is set once, on first entering its status, from our clock (a
    member cluster's clock skew must not shift ``maxRuntimeSeconds``). Entering Stopping or
    Deleting makes the removal of the job's objects due at once; any other move leaves no
    Karmada step due."""
    current = JobStatus(state.status)
    if not can_transition(current, to):
        return None
    new = replace(state, status=to, reason=reason, message=message)
    if to is S.SUBMITTED and new.submitted_at is None:
        new = replace(new, submitted_at=now)
    if to is S.RUNNING and new.started_at is None:
        new = replace(new, started_at=now)
    if to in TERMINAL_STATUSES and new.completed_at is None:
        new = replace(new, completed_at=now)
    if to in CLEANUP_STATUSES:
        new = replace(new, next_karmada_attempt_at=now, karmada_attempts=0, last_error=None)
    else:
        new = replace(new, next_karmada_attempt_at=None)
    event = PlannedEvent(current, to, reason, message, cluster, now)
    return Plan(new, (event,), now)


def cluster_status(
    observation: Observation, cluster_ready: Mapping[str, bool]
) -> dict[str, Any] | None:
    """The per-cluster part of a job's row (what ``GET /jobs/{id}/status`` sums up)."""
    if not observation.clusters:
        return None
    return {
        c.cluster: {
            "phase": str(c.phase),
            "reason": c.reason,
            "message": c.message,
            "active": c.active,
            "succeeded": c.succeeded,
            "failed": c.failed,
            "ready": cluster_ready.get(c.cluster, True),
        }
        for c in observation.clusters
    }


def plan_observation(
    state: JobState,
    observation: Observation,
    *,
    cluster_ready: Mapping[str, bool],
    now: datetime,
) -> Plan | None:
    """What Karmada's view of the job asks for: a move when its phase maps to a status the
    lifecycle allows, else the same status with the new reason, message and per-cluster
    status; None when the row already says all of it."""
    clusters = cluster_status(observation, cluster_ready)
    target = PHASE_STATUS[observation.phase]
    if target is not None and can_transition(JobStatus(state.status), target):
        moved = plan_move(
            state,
            target,
            reason=observation.reason or DEFAULT_REASON[target],
            message=observation.message,
            now=now,
            cluster=",".join(c.cluster for c in observation.clusters) or None,
        )
        assert moved is not None
        return replace(moved, state=replace(moved.state, cluster_status=clusters))
    reason = observation.reason or state.reason
    if (reason, observation.message, clusters) == (
        state.reason,
        state.message,
        state.cluster_status,
    ):
        return None
    new = replace(state, reason=reason, message=observation.message, cluster_status=clusters)
    return Plan(new, (), now)


def _logged(job_id: str, event: PlannedEvent) -> None:
    log.info(
        "job.status_changed",
        job_id=job_id,
        from_status=event.from_status,
        to_status=event.to_status,
        reason=event.reason,
    )


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
    """Move ``job`` to ``to`` (409 if not allowed) and record the event. The ORM writes the
    row with a compare-and-set on its version when the session flushes."""
    plan = plan_move(JobState.of(job), to, reason=reason, message=message, now=now, cluster=cluster)
    if plan is None:
        raise ConflictError(
            f"job {job.id} is {job.status}; it cannot become {to}",
            {"status": str(job.status), "requested": str(to)},
        )
    for name, value in plan.values().items():
        if getattr(job, name) != value:
            setattr(job, name, value)
    (planned,) = plan.events
    event = await repository.add_event(
        session=session,
        job_id=job.id,
        occurred_at=planned.occurred_at,
        from_status=planned.from_status,
        to_status=planned.to_status,
        reason=planned.reason,
        message=planned.message,
        cluster=planned.cluster,
    )
    _logged(job.id, planned)
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


@dataclass(frozen=True, slots=True)
class RowWrite:
    """One row's plan in a bulk write: the version the plan was based on, and other columns
    the writer sets with it (the same names in every write of one call)."""

    job_id: str
    version: int
    plan: Plan
    extra: Mapping[str, Any]


async def write_plans(*, session: AsyncSession, writes: Sequence[RowWrite]) -> list[RowWrite]:
    """Write many plans: lock their rows, drop the writes whose row another writer changed
    since it was read (an answered stop or delete is never undone), then one compare-and-set
    bulk UPDATE and one multi-row INSERT of events. Returns the writes made."""
    if not writes:
        return []
    current = await repository.lock_versions(
        session=session, job_ids=[write.job_id for write in writes]
    )
    kept = [write for write in writes if current.get(write.job_id) == write.version]
    await repository.update_jobs(
        session=session,
        rows=[
            {"id": write.job_id, "version": write.version, **write.plan.values(), **write.extra}
            for write in kept
        ],
    )
    events = [(write.job_id, event) for write in kept for event in write.plan.events]
    await repository.insert_events(
        session=session,
        events=[
            {
                "job_id": job_id,
                "occurred_at": event.occurred_at,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "reason": event.reason,
                "message": event.message,
                "cluster": event.cluster,
            }
            for job_id, event in events
        ],
    )
    for job_id, event in events:
        _logged(job_id, event)
    return kept
