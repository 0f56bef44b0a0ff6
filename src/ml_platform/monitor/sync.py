"""The status sync of a tick: turn a Karmada snapshot into row changes and write only those.

The sync keeps, per job, the resourceVersions and cluster readiness it last observed; a job
whose template, binding and cluster readiness are unchanged skips ``observe`` and the database
entirely. The cache lives as long as this replica leads (a new leader starts empty and observes
every job once).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from ml_platform.config import MonitorSettings
from ml_platform.jobs import repository
from ml_platform.jobs.lifecycle import TERMINAL_STATUSES, JobStatus, can_transition
from ml_platform.karmada.status import JobPhase, Observation, observe
from ml_platform.monitor.snapshot import Snapshot, Template

log = structlog.get_logger()

# Statuses whose workload the sync watches; Stopping/Deleting belong to the due removals.
WATCHED_STATUSES = (JobStatus.SUBMITTED, JobStatus.RUNNING)

# Our status for each observed phase; None keeps the current status (a submitted job whose
# workload waits for a cluster is still Submitted: the lifecycle never goes back to Pending).
PHASE_STATUS: Mapping[JobPhase, JobStatus | None] = {
    JobPhase.PENDING: None,
    JobPhase.SUBMITTED: JobStatus.SUBMITTED,
    JobPhase.RUNNING: JobStatus.RUNNING,
    JobPhase.SUCCEEDED: JobStatus.SUCCEEDED,
    JobPhase.FAILED: JobStatus.FAILED,
    JobPhase.STOPPED: JobStatus.STOPPED,
}

# The reason recorded when the workload gives none.
DEFAULT_REASON: Mapping[JobStatus, str] = {
    JobStatus.SUBMITTED: "Submitted",
    JobStatus.RUNNING: "Running",
    JobStatus.SUCCEEDED: "Succeeded",
    JobStatus.FAILED: "Failed",
    JobStatus.STOPPED: "Stopped",
}

CacheKey = tuple[str, str, frozenset[str]]


@dataclass
class SyncState:
    """What the sync remembers between ticks while this replica leads."""

    seen: dict[str, CacheKey] = field(default_factory=dict)
    missing_since: dict[str, datetime] = field(default_factory=dict)
    # When each watched job's row last had its observed_at written by this replica.
    recorded_at: dict[str, datetime] = field(default_factory=dict)

    def clear(self) -> None:
        """Forget everything (leadership changed hands)."""
        self.seen.clear()
        self.missing_since.clear()
        self.recorded_at.clear()


@dataclass
class SyncResult:
    """What one sync wrote."""

    watched: int = 0
    observed: int = 0
    changed: int = 0
    transitions: int = 0
    # Jobs past maxRuntimeSeconds, now Stopping: the due removals take them in the same tick.
    stopping: int = 0


@dataclass
class _Change:
    """The new values of one row, and the event of its transition if the status moves."""

    row: Row[Any]
    status: str
    reason: str | None
    message: str | None
    cluster_status: dict[str, Any] | None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    next_karmada_attempt_at: datetime | None = None
    cluster: str | None = None

    @property
    def moves(self) -> bool:
        return self.status != self.row.status


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


def _from_observation(
    row: Row[Any], observation: Observation, ready: Mapping[str, bool], now: datetime
) -> _Change | None:
    """The change an observation asks for, or None when the row already says it."""
    current = JobStatus(row.status)
    target = PHASE_STATUS[observation.phase]
    if target is None or target == current or not can_transition(current, target):
        target = current
    moves = target != current
    reason = (observation.reason or DEFAULT_REASON.get(target)) if moves else row.reason
    if not moves and observation.reason:
        reason = observation.reason
    change = _Change(
        row=row,
        status=target,
        reason=reason,
        message=observation.message,
        cluster_status=cluster_status(observation, ready),
        started_at=row.started_at,
        completed_at=row.completed_at,
        cluster=",".join(c.cluster for c in observation.clusters) or None,
    )
    # Our clock, not the member's: maxRuntimeSeconds must not depend on a cluster's clock skew.
    if target is JobStatus.RUNNING and change.started_at is None:
        change.started_at = now
    if target in TERMINAL_STATUSES and change.completed_at is None:
        change.completed_at = now
    unchanged = (
        not moves
        and change.reason == row.reason
        and change.message == row.message
        and change.cluster_status == row.cluster_status
    )
    return None if unchanged else change


def _over_limit(status: str, started: datetime | None, limit: int | None, now: datetime) -> bool:
    """Whether a job with this status and start has run past ``limit`` seconds."""
    if status != JobStatus.RUNNING or started is None or limit is None:
        return False
    return now - started >= timedelta(seconds=limit)


def _over_runtime(row: Row[Any], change: _Change | None, now: datetime) -> _Change | None:
    """Max runtime: a Running job past its maxRuntimeSeconds is asked to stop."""
    status = change.status if change else row.status
    started = change.started_at if change else row.started_at
    limit = row.max_runtime_seconds
    if not _over_limit(status, started, limit, now):
        return change
    return _Change(
        row=row,
        status=JobStatus.STOPPING,
        reason="MaxRuntimeExceeded",
        message=f"ran longer than maxRuntimeSeconds ({limit} s); stopping",
        cluster_status=change.cluster_status if change else row.cluster_status,
        started_at=started,
        completed_at=row.completed_at,
        next_karmada_attempt_at=now,  # due removals, run again after the sync, remove it
    )


def _missing(
    row: Row[Any], state: SyncState, settings: MonitorSettings, now: datetime
) -> _Change | None:
    """WorkloadMissing: a submitted workload absent from Karmada beyond the grace period fails."""
    first = state.missing_since.setdefault(row.id, now)
    grace = timedelta(seconds=settings.workload_missing_grace_seconds)
    since_submit = now - row.submitted_at if row.submitted_at else grace
    if now - first < grace or since_submit < grace:
        return None
    return _Change(
        row=row,
        status=JobStatus.FAILED,
        reason="WorkloadMissing",
        message=f"the {row.workload_kind} {row.workload_name} is no longer in Karmada "
        f"(absent for {settings.workload_missing_grace_seconds:g} s)",
        cluster_status=row.cluster_status,
        started_at=row.started_at,
        completed_at=row.completed_at or now,
    )


def _cache_key(template: Template, snapshot: Snapshot, not_ready: frozenset[str]) -> CacheKey:
    binding = snapshot.binding_of(template)
    return (template.resource_version, binding.resource_version if binding else "", not_ready)


def needs_a_look(
    brief: Sequence[repository.BriefRow], snapshot: Snapshot, state: SyncState, now: datetime
) -> list[str]:
    """Ids of the watched jobs whose workload changed, vanished or ran out of time; the rest
    are skipped without reading more of their row. Also forgets jobs no longer watched.

    This runs over every watched job on every tick, so it stays a plain loop of lookups."""
    not_ready = snapshot.not_ready
    templates = snapshot.templates
    seen = state.seen
    needed: list[str] = []
    for job_id, status, started_at, limit in brief:
        template = templates.get(job_id)
        if (
            template is None
            or seen.get(job_id) != _cache_key(template, snapshot, not_ready)
            or _over_limit(status, started_at, limit, now)
        ):
            needed.append(job_id)
    watched = {row[0] for row in brief}
    for cache in (seen, state.missing_since, state.recorded_at):
        for job_id in cache.keys() - watched:
            del cache[job_id]
    return needed


def plan_changes(
    rows: Sequence[Row[Any]],
    snapshot: Snapshot,
    state: SyncState,
    settings: MonitorSettings,
    now: datetime,
) -> tuple[list[_Change], int]:
    """The changes the snapshot asks for (pure apart from ``state``); also how many jobs
    were observed (the others were unchanged since the last tick)."""
    changes: list[_Change] = []
    observed = 0
    not_ready = snapshot.not_ready
    for row in rows:
        template: Template | None = snapshot.templates.get(row.id)
        change: _Change | None = None
        if template is None:
            state.seen.pop(row.id, None)
            change = _missing(row, state, settings, now)
        else:
            state.missing_since.pop(row.id, None)
            key = _cache_key(template, snapshot, not_ready)
            if state.seen.get(row.id) != key:
                observed += 1
                binding = snapshot.binding_of(template)
                observation = observe(
                    template.kind,
                    binding=binding.document if binding else None,
                    template_status=template.status,
                    cluster_ready=snapshot.cluster_ready,
                )
                state.seen[row.id] = key
                change = _from_observation(row, observation, snapshot.cluster_ready, now)
        change = _over_runtime(row, change, now)
        if change is not None:
            changes.append(change)
    return changes, observed


async def write_changes(
    *, session: AsyncSession, changes: Sequence[_Change], state: SyncState, now: datetime
) -> list[_Change]:
    """Lock the changed rows, drop changes whose row was written since it was read (the API
    stopped or deleted the job), then one compare-and-set bulk UPDATE and one multi-row
    INSERT of events."""
    if not changes:
        return []
    current = await repository.lock_versions(
        session=session, job_ids=[change.row.id for change in changes]
    )
    kept = [change for change in changes if current.get(change.row.id) == change.row.version]
    for change in changes:
        if current.get(change.row.id) != change.row.version:
            state.seen.pop(change.row.id, None)  # look again next tick
    await repository.update_jobs(
        session=session,
        rows=[
            {
                "id": change.row.id,
                "version": change.row.version,
                "status": change.status,
                "reason": change.reason,
                "message": change.message,
                "cluster_status": change.cluster_status,
                "started_at": change.started_at,
                "completed_at": change.completed_at,
                "next_karmada_attempt_at": change.next_karmada_attempt_at,
                # A job that just finished has its driver log captured (and retried) next.
                "log_capture_due_at": now
                if change.moves and change.status in TERMINAL_STATUSES
                else change.row.log_capture_due_at,
                "observed_at": now,
                "updated_at": now,
            }
            for change in kept
        ],
    )
    await repository.insert_events(
        session=session,
        events=[
            {
                "job_id": change.row.id,
                "occurred_at": now,
                "from_status": change.row.status,
                "to_status": change.status,
                "reason": change.reason,
                "message": change.message,
                "cluster": change.cluster,
            }
            for change in kept
            if change.moves
        ],
    )
    for change in kept:
        if change.moves:
            log.info(
                "job.status_changed",
                job_id=change.row.id,
                from_status=change.row.status,
                to_status=change.status,
                reason=change.reason,
            )
    return kept


def stale_observations(
    brief: Sequence[repository.BriefRow],
    snapshot: Snapshot,
    state: SyncState,
    settings: MonitorSettings,
    now: datetime,
) -> list[str]:
    """Watched jobs present in Karmada whose observed_at is older than the refresh period,
    marked as refreshed at ``now``. At most a refresh period's share per tick: at 10,000 jobs
    one UPDATE of every row would stall its tick, a slice per tick does not."""
    cutoff = now - timedelta(seconds=settings.observed_refresh_seconds)
    ticks_per_period = max(1.0, settings.observed_refresh_seconds / settings.interval_seconds)
    share = math.ceil(len(brief) / ticks_per_period)
    recorded_at = state.recorded_at
    stale: list[str] = []
    for row in brief:
        if len(stale) >= share:
            break
        job_id = row[0]
        last = recorded_at.get(job_id)
        if (last is None or last <= cutoff) and job_id in snapshot.templates:
            stale.append(job_id)
            recorded_at[job_id] = now
    return stale


async def sync_statuses(
    *,
    session: AsyncSession,
    snapshot: Snapshot,
    state: SyncState,
    settings: MonitorSettings,
    now: datetime,
) -> SyncResult:
    """The status sync inside the caller's transaction."""
    brief = await repository.watched_jobs_brief(session=session, statuses=WATCHED_STATUSES)
    needed = needs_a_look(brief, snapshot, state, now)
    rows = await repository.watched_jobs(session=session, statuses=WATCHED_STATUSES, job_ids=needed)
    changes, observed = plan_changes(rows, snapshot, state, settings, now)
    written = await write_changes(session=session, changes=changes, state=state, now=now)
    for change in written:
        state.recorded_at[change.row.id] = now
    stale = stale_observations(brief, snapshot, state, settings, now)
    await repository.touch_observed(session=session, job_ids=stale, now=now)
    return SyncResult(
        watched=len(brief),
        observed=observed,
        changed=len(written),
        transitions=sum(1 for change in written if change.moves),
        stopping=sum(1 for change in written if change.status == JobStatus.STOPPING),
    )
