"""Putting a job's objects into Karmada and taking them out again.

Both the API (right after a job is stored) and the monitor (retries with backoff) submit through
``submit``; stop and delete remove objects through ``remove_objects``. Every step is idempotent:
creating an object that already exists with our job-id label counts as done, deleting one that
is gone counts as done, so a step interrupted anywhere can simply run again.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ml_platform.config import RetrySettings, Settings
from ml_platform.jobs import lifecycle, repository
from ml_platform.jobs.lifecycle import JobStatus
from ml_platform.jobs.logs import capture_driver_log
from ml_platform.jobs.models import TrainingJob
from ml_platform.jobs.workload import render_job
from ml_platform.karmada.errors import KarmadaRejected, KarmadaUnavailable
from ml_platform.karmada.gateway import KarmadaGateway, ObjectRef
from ml_platform.workloads import RenderedJob, WorkloadSpecError

log = structlog.get_logger()


def backoff_delay(
    attempt: int, policy: RetrySettings, *, rng: random.Random | None = None
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): exponential, capped,
    with "equal jitter" so that many jobs failing together do not retry in lockstep."""
    ceiling = min(policy.backoff_cap_seconds, policy.backoff_base_seconds * 2 ** (attempt - 1))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def _gave_up(job: TrainingJob, policy: RetrySettings, now: datetime) -> bool:
    too_old = (now - job.created_at).total_seconds() >= policy.max_age_seconds
    return job.karmada_attempts >= policy.max_attempts or too_old


async def submit(
    *,
    session: AsyncSession,
    gateway: KarmadaGateway,
    job: TrainingJob,
    settings: Settings,
    now: datetime,
) -> None:
    """One submission attempt of a Pending job; records the outcome on the job.

    Success: Submitted. A refusal that can never succeed (invalid object): Failed with
    Kubernetes' message. Karmada unreachable: stays Pending with the reason and the time of the
    next attempt, until the attempts or the age run out (Failed, SubmissionFailed).
    """
    job.karmada_attempts += 1
    try:
        rendered = render_job(job, settings.workloads)
        for manifest in rendered.objects:
            await gateway.create(manifest)
    except (WorkloadSpecError, ValidationError, KarmadaRejected) as exc:
        message = exc.message if isinstance(exc, KarmadaRejected) else str(exc)
        job.last_error = message
        await lifecycle.transition(
            session=session,
            job=job,
            to=JobStatus.FAILED,
            reason="SubmissionRejected",
            message=message,
            now=now,
        )
        if isinstance(exc, KarmadaRejected):  # objects created before the refusal stay behind
            await _remove_leftovers(gateway=gateway, job=job, settings=settings)
        return
    except KarmadaUnavailable as exc:
        job.last_error = exc.message
        if _gave_up(job, settings.retries, now):
            message = f"gave up after {job.karmada_attempts} attempts: {exc.message}"
            await lifecycle.transition(
                session=session,
                job=job,
                to=JobStatus.FAILED,
                reason="SubmissionFailed",
                message=message,
                now=now,
            )
            return
        delay = backoff_delay(job.karmada_attempts, settings.retries)
        job.next_karmada_attempt_at = now + timedelta(seconds=delay)
        job.message = f"waiting to submit (attempt {job.karmada_attempts}): {exc.message}"
        job.updated_at = now
        log.warning(
            "job.submit_deferred", job_id=job.id, retry_in=round(delay, 1), error=exc.message
        )
        return
    job.workload_name = rendered.workload["metadata"]["name"]
    job.last_error = None
    message = f"submitted to Karmada as {rendered.workload['kind']} {job.workload_name}"
    await lifecycle.transition(
        session=session,
        job=job,
        to=JobStatus.SUBMITTED,
        reason="Submitted",
        message=message,
        now=now,
    )
    log.info("job.submitted", job_id=job.id, kind=rendered.workload["kind"])


async def _remove_leftovers(
    *, gateway: KarmadaGateway, job: TrainingJob, settings: Settings
) -> None:
    """Best effort: what a refused submission created (its policy, say) is removed now;
    whatever cannot be removed yet goes when the job is deleted."""
    try:
        await remove_objects(gateway=gateway, job=job, settings=settings, keep_volume=False)
    except (KarmadaUnavailable, KarmadaRejected) as exc:
        log.warning("job.leftovers_kept", job_id=job.id, error=exc.message)


def object_refs(rendered: RenderedJob, *, keep_volume: bool) -> list[ObjectRef]:
    """The job's objects in deletion order (workload first, policy last)."""
    manifests = [
        m for m in reversed(rendered.objects) if not (keep_volume and m is rendered.volume_claim)
    ]
    return [ObjectRef.of(manifest) for manifest in manifests]


async def remove_objects(
    *, gateway: KarmadaGateway, job: TrainingJob, settings: Settings, keep_volume: bool
) -> bool:
    """Delete the job's objects from Karmada; True once every one of them is gone.

    ``keep_volume`` keeps a PVC the service created (a stopped job's results stay readable).
    Objects of the same name that are not this job's are left alone. Raises
    ``KarmadaUnavailable`` when Karmada cannot be reached; the caller retries later.
    """
    rendered = render_job(job, settings.workloads)
    gone = True
    for ref in object_refs(rendered, keep_volume=keep_volume):
        gone = await gateway.delete(ref, job_id=job.id) and gone
    return gone


def _retry_later(job: TrainingJob, policy: RetrySettings, now: datetime, error: str) -> None:
    """Schedule another attempt of the job's pending Karmada step."""
    job.karmada_attempts += 1
    job.last_error = error
    job.next_karmada_attempt_at = now + timedelta(
        seconds=backoff_delay(job.karmada_attempts, policy)
    )
    job.updated_at = now


async def _remove_or_retry(
    *,
    gateway: KarmadaGateway,
    job: TrainingJob,
    settings: Settings,
    now: datetime,
    keep_volume: bool,
) -> bool:
    """Remove the job's objects; when Karmada fails, or finalizers still hold some of them,
    schedule another attempt and return False."""
    try:
        if await remove_objects(
            gateway=gateway, job=job, settings=settings, keep_volume=keep_volume
        ):
            return True
        error = "waiting for Karmada to remove the job's objects"
    except KarmadaUnavailable as exc:
        error = exc.message
    _retry_later(job, settings.retries, now, error)
    return False


async def finish_stop(
    *,
    session: AsyncSession,
    gateway: KarmadaGateway,
    job: TrainingJob,
    settings: Settings,
    now: datetime,
) -> bool:
    """Remove a Stopping job's workload and policy (a created PVC stays, with the results);
    Stopped once they are gone. True when the job reached Stopped.

    The driver log's tail is stored first: the pods that hold it go with the workload. A retry
    (Karmada still removing) does not read it again once a copy is stored.
    """
    if await repository.get_job_log(session=session, job_id=job.id) is None:
        await capture_driver_log(session=session, gateway=gateway, job=job, settings=settings)
    if not await _remove_or_retry(
        gateway=gateway, job=job, settings=settings, now=now, keep_volume=True
    ):
        return False
    job.last_error = None
    reason = "StoppedByUser" if job.reason == "StopRequested" else (job.reason or "Stopped")
    message = "workload removed from the clusters; the record is kept"
    await lifecycle.transition(
        session=session, job=job, to=JobStatus.STOPPED, reason=reason, message=message, now=now
    )
    return True


async def finish_delete(
    *,
    session: AsyncSession,
    gateway: KarmadaGateway,
    job: TrainingJob,
    settings: Settings,
    now: datetime,
) -> bool:
    """Remove every Karmada object of a Deleting job, then its row. True when the row is gone;
    otherwise the job stays Deleting and the monitor tries again."""
    if not await _remove_or_retry(
        gateway=gateway, job=job, settings=settings, now=now, keep_volume=False
    ):
        return False
    await repository.delete_job(session=session, job_id=job.id)
    if job in session:
        # The row is gone; unsaved changes to it (the caller's bookkeeping) must not be flushed.
        session.expunge(job)
    log.info("job.deleted", job_id=job.id)
    return True
