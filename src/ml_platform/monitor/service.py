"""The status monitor: a ``LoopService`` whose run is one tick, on the leading replica only,
and between ticks an event path that writes what watch events bring. A standby replica keeps
its watch caches following Karmada, so that on taking over its first sync needs no LIST.

One tick, in order: the due submissions, then the due stops and deletions ("due removals"),
in their own short transactions (``steps``); the Karmada snapshot (from the watch caches plus
one consistent LIST of the clusters, outside any transaction); the consistent reads that
confirm absent workloads; the status sync of every watched job in one transaction (``sync``).
Jobs the sync found past maxRuntimeSeconds are stopped right away, and finished jobs then go to
the ``on_terminal`` hook (the driver-log capture), each in its own transaction, and again later
until the hook succeeds.

The event path (while leading, unless ``monitor.event_window_seconds`` is 0): the watch caches
mark the jobs whose workload or binding an event changed; after a window of a few tens of
milliseconds the marked jobs are synced in one transaction, so a change in a member cluster
reaches the API well before the next tick. The tick stays as the full reconciliation that
repairs anything an event missed, and for everything time-driven. The two may run at once:
each write is a compare-and-set on rows locked in id order, and neither writes from a template
or binding older than the last one written from (``sync``), so whichever writes second either
writes newer state or drops its change (the event path then takes that job again). The event
path makes no Karmada calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ml_platform.config import Settings
from ml_platform.db.base import utcnow
from ml_platform.db.session import begin_write
from ml_platform.jobs import repository
from ml_platform.jobs.lifecycle import TERMINAL_STATUSES
from ml_platform.jobs.models import TrainingJob
from ml_platform.karmada.errors import KarmadaUnavailable
from ml_platform.karmada.gateway import KarmadaGateway
from ml_platform.metrics import Metrics
from ml_platform.monitor.leader import LeaderElection
from ml_platform.monitor.loop import LoopService
from ml_platform.monitor.steps import StepCounts, finish_due_removals, run_due_steps
from ml_platform.monitor.sync import SyncResult, SyncState, sync_statuses, sync_touched
from ml_platform.monitor.watched import WatchedSnapshots

log = structlog.get_logger()

# Called with a session (committed afterwards) and a job that reached a terminal status;
# returns False when it should be called again later (the log could not be read yet).
TerminalHook = Callable[[AsyncSession, TrainingJob], Awaitable[bool]]
LOG_CAPTURE_RETRY_MAX_SECONDS = 60.0
Clock = Callable[[], datetime]


@dataclass
class TickReport:
    """What the last tick did (for tests, the benchmark and logs)."""

    led: bool
    seconds: float = 0.0
    api_calls: int = 0
    steps: StepCounts | None = None
    sync: SyncResult | None = None
    snapshot_error: str | None = None
    snapshot_seconds: float = 0.0
    sync_seconds: float = 0.0


class StatusMonitor(LoopService):
    """Runs one tick per interval while this replica leads."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        gateway: KarmadaGateway,
        settings: Settings,
        metrics: Metrics,
        on_terminal: TerminalHook | None = None,
        clock: Clock = utcnow,
    ) -> None:
        super().__init__(name="monitor", interval_seconds=settings.monitor.interval_seconds)
        self._sessionmaker = sessionmaker
        self._gateway = gateway
        self._settings = settings
        self._metrics = metrics
        self._on_terminal = on_terminal
        self._clock = clock
        self.leader = LeaderElection(engine)
        self.state = SyncState()
        self.last: TickReport | None = None
        # The Karmada watch caches: kept while this replica runs (leading or standing by).
        self.snapshots: WatchedSnapshots | None = None
        self._events: asyncio.Task[None] | None = None
        self.event_batches = 0
        self.event_jobs_changed = 0

    @property
    def is_leader(self) -> bool:
        """Whether this replica led at its last check."""
        return self.leader.is_leader

    async def run_once(self) -> None:
        """One tick: leader check, due submissions, due removals, snapshot, status sync (a test
        can call this directly)."""
        was_leader = self.leader.is_leader
        leads = await self.leader.check()
        self._metrics.leader.set(1 if leads else 0)
        if not leads or not was_leader:
            # A replica that (re)gains the lead must not trust what it saw before.
            self.state.clear()
        # A standby keeps its watch caches too: on taking over, its first sync starts from
        # them (and from the keys its predecessor stored) instead of LISTing everything.
        if self.snapshots is None:
            self.snapshots = WatchedSnapshots(self._gateway)
            self.snapshots.start()
        if not leads:
            await self._stop_events()
            self.last = TickReport(led=False)
            return
        if self._events is None and self._settings.monitor.event_window_seconds > 0:
            self._events = asyncio.create_task(
                self._follow_events(self.snapshots), name="monitor-events"
            )
        started = time.perf_counter()
        calls_before = self._gateway.calls
        report = TickReport(led=True)
        self.last = report
        try:
            await self._tick(report, self.snapshots)
        except BaseException:
            self.state.clear()  # the write may not have happened: observe everything again
            raise
        finally:
            report.seconds = time.perf_counter() - started
            report.api_calls = self._gateway.calls - calls_before
            self._metrics.tick_seconds.observe(report.seconds)
            self._metrics.api_calls.observe(report.api_calls)

    async def _stop_events(self) -> None:
        if self._events is not None:
            events, self._events = self._events, None
            events.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await events

    async def _drop_snapshots(self) -> None:
        await self._stop_events()
        if self.snapshots is not None:
            snapshots, self.snapshots = self.snapshots, None
            await snapshots.stop()

    async def _follow_events(self, snapshots: WatchedSnapshots) -> None:
        """The event path: sync the jobs watch events touched, a batch per window, until
        cancelled (when this replica stops leading or stops)."""
        window = self._settings.monitor.event_window_seconds
        while True:
            snapshot = await snapshots.changed(window)
            if not snapshot.templates or not self.leader.is_leader:
                continue
            try:
                async with self._sessionmaker() as session, session.begin():
                    await begin_write(session)
                    result = await sync_touched(
                        session=session,
                        snapshot=snapshot,
                        state=self.state,
                        settings=self._settings.monitor,
                        now=self._clock(),
                    )
            except Exception:  # the tick reconciles these jobs
                self.state.forget(snapshot.templates)
                log.exception("monitor.event_sync_failed", jobs=len(snapshot.templates))
                continue
            except BaseException:
                self.state.forget(snapshot.templates)
                raise
            snapshots.touch_again(result.dropped)
            self.event_batches += 1
            self.event_jobs_changed += result.changed

    async def _tick(self, report: TickReport, snapshots: WatchedSnapshots) -> None:
        now = self._clock()
        steps = await run_due_steps(
            sessionmaker=self._sessionmaker,
            gateway=self._gateway,
            settings=self._settings,
            now=now,
        )
        report.steps = steps
        self._metrics.karmada_retries.inc(steps.deferred)
        self._metrics.submission_failures.inc(steps.failed)
        started = time.perf_counter()
        try:
            snapshot = await snapshots.take()
            await self._confirm_absent(snapshots)
        except KarmadaUnavailable as exc:
            report.snapshot_error = exc.message
            log.warning("monitor.snapshot_failed", error=exc.message)
            return
        finally:
            report.snapshot_seconds = time.perf_counter() - started
        started = time.perf_counter()
        now = self._clock()
        try:
            async with self._sessionmaker() as session, session.begin():
                await begin_write(session)
                report.sync = await sync_statuses(
                    session=session,
                    snapshot=snapshot,
                    state=self.state,
                    settings=self._settings.monitor,
                    now=now,
                )
        finally:
            self.state.confirmed_absent.clear()
        if self._events is not None:
            # A job whose write lost to the event path's is taken by it again at once.
            snapshots.touch_again(report.sync.dropped, snapshot)
        report.sync_seconds = time.perf_counter() - started
        if report.sync.stopping:
            # Stop the jobs that just ran out of time now rather than a tick later.
            await finish_due_removals(
                sessionmaker=self._sessionmaker,
                gateway=self._gateway,
                settings=self._settings,
                now=now,
                counts=steps,
            )
        await self._run_terminal_hook(self._clock())

    async def _confirm_absent(self, snapshots: WatchedSnapshots) -> None:
        """Confirm by consistent reads (a batch per tick) the absences the last sync queued."""
        batch = dict(list(self.state.unconfirmed.items())[: self._settings.monitor.batch_size])
        for job_id in batch:
            del self.state.unconfirmed[job_id]
        self.state.confirmed_absent = await snapshots.confirm_absent(batch)

    async def _run_terminal_hook(self, now: datetime) -> None:
        """Run the hook for the finished jobs whose log capture is due; one that fails is
        tried again later (the due time is stored), until it succeeds or the pod is gone."""
        if self._on_terminal is None:
            return
        async with self._sessionmaker() as session:
            job_ids = await repository.due_log_captures(
                session=session, now=now, limit=self._settings.monitor.batch_size
            )
        for job_id in job_ids:
            # One session per job: a failed capture rolls back only its own work.
            async with self._sessionmaker() as session:
                try:
                    await begin_write(session)
                    job = await repository.get_job(
                        session=session, job_id=job_id, for_update=True, skip_locked=True
                    )
                    if job is None or job.log_capture_due_at is None:
                        continue  # deleted, or another writer holds or finished it
                    done = job.status not in TERMINAL_STATUSES or await self._on_terminal(
                        session, job
                    )
                    job.log_capture_due_at = None if done else now + _capture_retry_delay(job, now)
                    await session.commit()
                except Exception:  # a failed capture must not fail the tick
                    log.exception("monitor.terminal_hook_failed", job_id=job_id)

    async def stop(self) -> None:
        """Stop after the tick in progress, then hand the lead to another replica at once."""
        try:
            await super().stop()
        finally:
            await self._drop_snapshots()
            await self.leader.release()
            self._metrics.leader.set(0)


def _capture_retry_delay(job: TrainingJob, now: datetime) -> timedelta:
    """Retry soon after the job ended, then less and less often (pods often go within
    minutes of the end; a cluster that stays unreachable is asked once a minute)."""
    ended = job.completed_at or now
    age = (now - ended).total_seconds()
    return timedelta(seconds=min(LOG_CAPTURE_RETRY_MAX_SECONDS, max(1.0, age / 4)))
