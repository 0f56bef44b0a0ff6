"""The status sync of a tick: turn a Karmada snapshot into row changes and write only those.

Every change is planned by the lifecycle's planner (``jobs/lifecycle.py``) and written with
its compare-and-set bulk write; this module decides which jobs to look at and when.

The sync keeps, per job, the resourceVersions and cluster readiness it last observed; a job
whose template, binding and cluster readiness are unchanged skips ``observe`` and the database
entirely. The cache lives as long as this replica leads (a new leader starts empty and observes
every job once).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from ml_platform.config import MonitorSettings
from ml_platform.jobs import repository
from ml_platform.jobs.lifecycle import (
    TERMINAL_STATUSES,
    JobState,
    JobStatus,
    Plan,
    RowWrite,
    plan_move,
    plan_observation,
    write_plans,
)
from ml_platform.karmada.status import observe
from ml_platform.monitor.snapshot import Snapshot, Template

# Statuses whose workload the sync watches; Stopping/Deleting belong to the due removals.
WATCHED_STATUSES = (JobStatus.SUBMITTED, JobStatus.RUNNING)

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


@dataclass(frozen=True, slots=True)
class Change:
    """The planned change of one watched row (``repository.WATCHED_COLUMNS``)."""

    row: Row[Any]
    plan: Plan


def _over_limit(status: str, started: datetime | None, limit: int | None, now: datetime) -> bool:
    """Whether a job with this status and start has run past ``limit`` seconds."""
    if status != JobStatus.RUNNING or started is None or limit is None:
        return False
    return now - started >= timedelta(seconds=limit)


def _over_runtime(row: Row[Any], plan: Plan | None, now: datetime) -> Plan | None:
    """Max runtime: a Running job past its maxRuntimeSeconds is asked to stop (the due
    removals, run again after the sync, remove the workload)."""
    state = plan.state if plan else JobState.of(row)
    limit = row.max_runtime_seconds
    if not _over_limit(state.status, state.started_at, limit, now):
        return plan
    stop = plan_move(
        state,
        JobStatus.STOPPING,
        reason="MaxRuntimeExceeded",
        message=f"ran longer than maxRuntimeSeconds ({limit} s); stopping",
        now=now,
    )
    assert stop is not None  # Running may always stop
    return plan.then(stop) if plan else stop


def _missing(
    row: Row[Any], state: SyncState, settings: MonitorSettings, now: datetime
) -> Plan | None:
    """WorkloadMissing: a submitted workload absent from Karmada beyond the grace period fails."""
    first = state.missing_since.setdefault(row.id, now)
    grace = timedelta(seconds=settings.workload_missing_grace_seconds)
    since_submit = now - row.submitted_at if row.submitted_at else grace
    if now - first < grace or since_submit < grace:
        return None
    return plan_move(
        JobState.of(row),
        JobStatus.FAILED,
        reason="WorkloadMissing",
        message=f"the {row.workload_kind} {row.workload_name} is no longer in Karmada "
        f"(absent for {settings.workload_missing_grace_seconds:g} s)",
        now=now,
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
) -> tuple[list[Change], int]:
    """The changes the snapshot asks for (pure apart from ``state``); also how many jobs
    were observed (the others were unchanged since the last tick)."""
    changes: list[Change] = []
    observed = 0
    not_ready = snapshot.not_ready
    for row in rows:
        template: Template | None = snapshot.templates.get(row.id)
        plan: Plan | None = None
        if template is None:
            state.seen.pop(row.id, None)
            plan = _missing(row, state, settings, now)
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
                plan = plan_observation(
                    JobState.of(row), observation, cluster_ready=snapshot.cluster_ready, now=now
                )
        plan = _over_runtime(row, plan, now)
        if plan is not None:
            changes.append(Change(row, plan))
    return changes, observed


def _finished(change: Change) -> bool:
    return change.plan.moves and change.plan.state.status in TERMINAL_STATUSES


async def write_changes(
    *, session: AsyncSession, changes: Sequence[Change], state: SyncState, now: datetime
) -> list[RowWrite]:
    """Write the changes whose row nobody wrote since it was read (the API may have stopped
    or deleted the job meanwhile: those rows are looked at again next tick)."""
    writes = [
        RowWrite(
            job_id=change.row.id,
            version=change.row.version,
            plan=change.plan,
            extra={
                # A job that just finished has its driver log captured (and retried) next.
                "log_capture_due_at": now if _finished(change) else change.row.log_capture_due_at,
                "observed_at": now,
            },
        )
        for change in changes
    ]
    kept = await write_plans(session=session, writes=writes)
    for dropped in {write.job_id for write in writes} - {write.job_id for write in kept}:
        state.seen.pop(dropped, None)
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
    for write in written:
        state.recorded_at[write.job_id] = now
    stale = stale_observations(brief, snapshot, state, settings, now)
    await repository.touch_observed(session=session, job_ids=stale, now=now)
    return SyncResult(
        watched=len(brief),
        observed=observed,
        changed=len(written),
        transitions=sum(1 for write in written if write.plan.moves),
        stopping=sum(1 for write in written if write.plan.state.status == JobStatus.STOPPING),
    )
