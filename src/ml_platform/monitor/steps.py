"""The due steps of a tick: submissions, stops and deletions whose next attempt is due.

Each step locks a bounded batch of due rows (``FOR UPDATE SKIP LOCKED`` on Postgres, so a row
the API is working on is left for the next tick), calls Karmada for each job through the steps
the API shares (``jobs/submission.py``), records the outcome on the row and commits. These
commits are separate from the status sync so that a slow Karmada during submission never holds
the status write's transaction open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ml_platform.config import Settings
from ml_platform.db.session import begin_write
from ml_platform.jobs import repository, submission
from ml_platform.jobs.lifecycle import JobStatus
from ml_platform.jobs.models import TrainingJob
from ml_platform.karmada.gateway import KarmadaGateway

log = structlog.get_logger()

# After this many jobs in a row could not finish their step (mostly: Karmada unreachable), the
# rest of the batch waits for the next tick: each attempt may cost a full request timeout.
MAX_UNAVAILABLE_IN_A_ROW = 3


@dataclass
class StepCounts:
    """Outcomes of one tick's due submissions and due removals."""

    attempted: int = 0
    done: int = 0
    deferred: int = 0
    failed: int = 0


Step = Callable[..., Awaitable[bool]]


async def _submit(
    *,
    session: AsyncSession,
    gateway: KarmadaGateway,
    job: TrainingJob,
    settings: Settings,
    now: datetime,
) -> bool:
    await submission.submit(session=session, gateway=gateway, job=job, settings=settings, now=now)
    return job.status != JobStatus.PENDING


async def _finish(
    *,
    session: AsyncSession,
    gateway: KarmadaGateway,
    job: TrainingJob,
    settings: Settings,
    now: datetime,
) -> bool:
    finish = (
        submission.finish_delete if job.status == JobStatus.DELETING else submission.finish_stop
    )
    return await finish(session=session, gateway=gateway, job=job, settings=settings, now=now)


async def _run_step(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: KarmadaGateway,
    settings: Settings,
    now: datetime,
    statuses: tuple[JobStatus, ...],
    step: Step,
    counts: StepCounts,
) -> None:
    async with sessionmaker() as session, session.begin():
        await begin_write(session)
        jobs = await repository.lock_due_jobs(
            session=session, statuses=statuses, now=now, limit=settings.monitor.batch_size
        )
        unavailable_in_a_row = 0
        for job in jobs:
            counts.attempted += 1
            try:
                # Each job's outcome is its own savepoint: a job whose row another writer
                # changed (its compare-and-set fails) is left as stored, the rest are kept.
                async with session.begin_nested():
                    done = await step(
                        session=session, gateway=gateway, job=job, settings=settings, now=now
                    )
            except StaleDataError:
                log.warning("monitor.step_stale", job_id=job.id)
                continue
            if done:
                counts.done += 1
                unavailable_in_a_row = 0
                if job.status == JobStatus.FAILED:
                    counts.failed += 1
                continue
            counts.deferred += 1
            unavailable_in_a_row += 1
            if unavailable_in_a_row >= MAX_UNAVAILABLE_IN_A_ROW:
                log.warning("monitor.karmada_unavailable", left_for_next_tick=len(jobs))
                break


async def run_due_steps(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: KarmadaGateway,
    settings: Settings,
    now: datetime,
) -> StepCounts:
    """Due submissions (submit due Pending jobs), then due removals (finish due stops and
    deletions)."""
    counts = StepCounts()
    await _run_step(
        sessionmaker=sessionmaker,
        gateway=gateway,
        settings=settings,
        now=now,
        statuses=(JobStatus.PENDING,),
        step=_submit,
        counts=counts,
    )
    await finish_due_removals(
        sessionmaker=sessionmaker, gateway=gateway, settings=settings, now=now, counts=counts
    )
    return counts


async def finish_due_removals(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    gateway: KarmadaGateway,
    settings: Settings,
    now: datetime,
    counts: StepCounts,
) -> None:
    """The due removals alone: finish the stops and deletions that are due, adding to
    ``counts``."""
    await _run_step(
        sessionmaker=sessionmaker,
        gateway=gateway,
        settings=settings,
        now=now,
        statuses=(JobStatus.STOPPING, JobStatus.DELETING),
        step=_finish,
        counts=counts,
    )
