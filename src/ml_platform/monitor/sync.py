"""The status sync: turn a Karmada snapshot into row changes and write only those. The tick
runs it over every watched job (``sync_statuses``), the event path over the jobs that watch
events just touched (``sync_touched``).

Every change is planned by the lifecycle's planner (``jobs/lifecycle.py``) and written with
its compare-and-set bulk write; this module decides which jobs to look at and when.

The sync keeps, per job, the resourceVersions and cluster readiness it last observed (its
key); a job whose template, binding and cluster readiness are unchanged skips ``observe`` and
the database entirely, and a job whose cached template or binding is older than the one last
observed is left alone (a lagging cache never moves a status back: see ``watched``). The key
a status was written from is stored with it (``observed_key``): a new leader starts from the
stored keys, so it observes only the jobs that moved since, and never writes from versions
older than the ones its predecessor wrote from.

A workload absent from Karmada fails the job (WorkloadMissing) only after the grace period and
once the tick confirmed the absence with a consistent read (``SyncState.confirmed_absent``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
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
from ml_platform.karmada.gateway import ObjectRef
from ml_platform.karmada.status import observe
from ml_platform.monitor.snapshot import Snapshot, Template
from ml_platform.workloads.kinds import WORKLOAD_APIS, WorkloadKind

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
    # Workloads absent past the grace period, to be confirmed by a consistent read; and the
    # jobs whose absence the tick confirmed just before this sync.
    unconfirmed: dict[str, ObjectRef] = field(default_factory=dict)
    confirmed_absent: set[str] = field(default_factory=set)

    def clear(self) -> None:
        """Forget everything (leadership changed hands)."""
        self.seen.clear()
        self.missing_since.clear()
        self.recorded_at.clear()
        self.unconfirmed.clear()
        self.confirmed_absent.clear()

    def forget(self, job_ids: Iterable[str]) -> None:
        """Observe these jobs afresh next time (their write may not have happened)."""
        for job_id in job_ids:
            self.seen.pop(job_id, None)


@dataclass
class SyncResult:
    """What one sync wrote."""

    watched: int = 0
    observed: int = 0
    changed: int = 0
    transitions: int = 0
    # Jobs past maxRuntimeSeconds, now Stopping: the due removals take them in the same tick.
    stopping: int = 0
    # Jobs whose change was dropped because another writer changed the row since it was read.
    dropped: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Change:
    """The planned change of one watched row (``repository.WATCHED_COLUMNS``)."""

    row: Row[Any]
    plan: Plan
    # The key of the observation the plan comes from (None: the row's stays).
    observed_key: str | None = None


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
    """WorkloadMissing: a submitted workload absent from Karmada beyond the grace period fails,
    once a consistent read confirmed the absence (until then it is queued for that read)."""
    first = state.missing_since.setdefault(row.id, now)
    grace = timedelta(seconds=settings.workload_missing_grace_seconds)
    since_submit = now - row.submitted_at if row.submitted_at else grace
    if now - first < grace or since_submit < grace:
        return None
    if row.id not in state.confirmed_absent:
        resource = WORKLOAD_APIS[WorkloadKind(row.workload_kind)]
        state.unconfirmed[row.id] = ObjectRef(resource, row.namespace, row.workload_name or row.id)
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


def encode_key(key: CacheKey) -> str:
    """The stored form of a key: "<template rv>/<binding rv>/<not Ready clusters, sorted>"."""
    return "/".join((key[0], key[1], ",".join(sorted(key[2]))))


def decode_key(text: str | None) -> CacheKey | None:
    """The key stored as ``text`` (None for none, or for a form this version does not read)."""
    parts = (text or "").split("/")
    if len(parts) != 3:
        return None
    return (parts[0], parts[1], frozenset(filter(None, parts[2].split(","))))


def _version(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def older(key: CacheKey, last: CacheKey | None) -> bool:
    """Whether ``key``'s template or binding is older than the ones last observed (a cache
    behind what was written from a newer read): such an observation must not be written."""
    if last is None:
        return False
    for new, old in zip(key[:2], last[:2], strict=True):
        new_version, old_version = _version(new), _version(old)
        if new_version is not None and old_version is not None and new_version < old_version:
            return True
    return False


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
    for job_id, status, started_at, limit, stored in brief:
        template = templates.get(job_id)
        last = seen.get(job_id)
        if last is None and stored is not None:  # a new leader: what its predecessor wrote
            last = decode_key(stored)
            if last is not None:
                seen[job_id] = last
        if (
            template is None
            or last != _cache_key(template, snapshot, not_ready)
            or _over_limit(status, started_at, limit, now)
        ):
            needed.append(job_id)
    watched = {row[0] for row in brief}
    for cache in (seen, state.missing_since, state.recorded_at, state.unconfirmed):
        for job_id in cache.keys() - watched:
            del cache[job_id]
    return needed


def plan_changes(
    rows: Sequence[Row[Any]],
    snapshot: Snapshot,
    state: SyncState,
    settings: MonitorSettings,
    now: datetime,
    *,
    time_driven: bool = True,
) -> tuple[list[Change], int]:
    """The changes the snapshot asks for (pure apart from ``state``); also how many jobs
    were observed (the others were unchanged since the last tick). Without ``time_driven``
    (the event path) jobs past their maxRuntimeSeconds are left to the tick, which stops them
    and removes their workload at once."""
    changes: list[Change] = []
    observed = 0
    not_ready = snapshot.not_ready
    for row in rows:
        template: Template | None = snapshot.templates.get(row.id)
        plan: Plan | None = None
        observed_key: str | None = None
        if template is None:
            state.seen.pop(row.id, None)
            plan = _missing(row, state, settings, now)
        else:
            state.missing_since.pop(row.id, None)
            state.unconfirmed.pop(row.id, None)
            key = _cache_key(template, snapshot, not_ready)
            last = state.seen.get(row.id) or decode_key(row.observed_key)
            if last != key and not older(key, last):
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
                observed_key = encode_key(key)
        if time_driven:
            plan = _over_runtime(row, plan, now)
        if plan is not None:
            changes.append(Change(row, plan, observed_key))
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
                "observed_key": change.observed_key or change.row.observed_key,
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
    written = await _write(session=session, changes=changes, state=state, now=now)
    stale = stale_observations(brief, snapshot, state, settings, now)
    await repository.touch_observed(session=session, job_ids=stale, now=now)
    return _result(len(brief), observed, changes, written)


async def sync_touched(
    *,
    session: AsyncSession,
    snapshot: Snapshot,
    state: SyncState,
    settings: MonitorSettings,
    now: datetime,
) -> SyncResult:
    """The event path's sync of the jobs in ``snapshot`` (their template or binding just
    changed), inside the caller's transaction. Every job in it has its template: absence is
    for the tick to decide."""
    rows = await repository.watched_jobs(
        session=session, statuses=WATCHED_STATUSES, job_ids=list(snapshot.templates)
    )
    changes, observed = plan_changes(rows, snapshot, state, settings, now, time_driven=False)
    written = await _write(session=session, changes=changes, state=state, now=now)
    return _result(len(rows), observed, changes, written)


async def _write(
    *, session: AsyncSession, changes: Sequence[Change], state: SyncState, now: datetime
) -> list[RowWrite]:
    written = await write_changes(session=session, changes=changes, state=state, now=now)
    for write in written:
        state.recorded_at[write.job_id] = now
    return written


def _result(
    watched: int, observed: int, changes: Sequence[Change], written: Sequence[RowWrite]
) -> SyncResult:
    kept = {write.job_id for write in written}
    return SyncResult(
        watched=watched,
        observed=observed,
        changed=len(written),
        transitions=sum(1 for write in written if write.plan.moves),
        stopping=sum(1 for write in written if write.plan.state.status == JobStatus.STOPPING),
        dropped=[change.row.id for change in changes if change.row.id not in kept],
    )
