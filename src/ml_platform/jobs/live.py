"""A job's status: read live from Karmada, or summarised from its stored row; never writes."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from ml_platform.clusters.directory import ClusterDirectory
from ml_platform.errors import AppError
from ml_platform.jobs.lifecycle import JobStatus
from ml_platform.jobs.models import TrainingJob
from ml_platform.jobs.schemas import JobStatusResponse
from ml_platform.karmada.bindings import binding_ref
from ml_platform.karmada.gateway import KarmadaGateway, ObjectRef
from ml_platform.karmada.status import observe
from ml_platform.workloads.kinds import WORKLOAD_APIS
from ml_platform.workloads.spec import WorkloadKind

log = structlog.get_logger()

# Only these have a workload in Karmada worth reading; the others are described by the row.
_LIVE = frozenset({JobStatus.SUBMITTED, JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.FAILED})


def _count(entry: Any, key: str) -> int:
    value = entry.get(key) if isinstance(entry, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def stored_status(job: TrainingJob) -> JobStatusResponse:
    """The status summary built from the stored row and its per-cluster data."""
    active = succeeded = failed = None
    distribution = None
    if job.cluster_status:
        entries = job.cluster_status
        active = sum(_count(entry, "active") for entry in entries.values())
        succeeded = sum(_count(entry, "succeeded") for entry in entries.values())
        failed = sum(_count(entry, "failed") for entry in entries.values())
        distribution = {
            cluster: _count(entry, "replicas")
            or _count(entry, "active") + _count(entry, "succeeded") + _count(entry, "failed")
            for cluster, entry in entries.items()
        }
    return JobStatusResponse(
        phase=job.status,
        reason=job.reason,
        message=job.message,
        active=active,
        succeeded=succeeded,
        failed=failed,
        start_time=job.started_at,
        completion_time=job.completed_at,
        cluster_distribution=distribution,
    )


def _stored(job: TrainingJob, note: str | None = None) -> JobStatusResponse:
    stored = stored_status(job)
    if note is None:
        return stored
    message = f"{stored.message}; {note}" if stored.message else note
    return stored.model_copy(update={"message": message})


async def live_status(
    *, gateway: KarmadaGateway | None, directory: ClusterDirectory, job: TrainingJob
) -> JobStatusResponse:
    """Phase, counters and ``clusterDistribution`` as Karmada sees them now; the stored status
    (saying so in ``message``) when the job has no workload or Karmada cannot be read."""
    if gateway is None or job.workload_name is None or job.status not in _LIVE:
        return _stored(job)
    workload_ref = ObjectRef(
        WORKLOAD_APIS[WorkloadKind(job.workload_kind)], job.namespace, job.workload_name
    )
    failure: AppError | None = None
    guessed = binding_ref(job)
    try:
        # Independent reads: one round trip of latency instead of three.
        async with asyncio.TaskGroup() as group:
            binding_read = group.create_task(gateway.get(guessed))
            workload_read = group.create_task(gateway.get(workload_ref))
            clusters_read = group.create_task(directory.clusters(gateway))
        binding, workload = binding_read.result(), workload_read.result()
        # The template names its binding; read that one when it is not the one guessed.
        named = binding_ref(job, ((workload or {}).get("metadata") or {}).get("annotations"))
        if named != guessed:
            binding = await gateway.get(named)
    except* AppError as errors:
        failure = next(e for e in errors.exceptions if isinstance(e, AppError))
    if failure is not None:
        log.warning("job.live_status_unavailable", job_id=job.id, error=failure.message)
        note = f"live status unavailable ({failure.message}); showing the stored status"
        return _stored(job, note)
    clusters = clusters_read.result()
    if binding is None:
        return _stored(job, "no ResourceBinding in Karmada; showing the stored status")
    observation = observe(
        job.workload_kind,
        binding=binding,
        template_status=(workload or {}).get("status"),
        cluster_ready={cluster.name: cluster.ready for cluster in clusters},
    )
    return JobStatusResponse(
        phase=observation.phase,
        reason=observation.reason,
        message=observation.message,
        active=observation.active,
        succeeded=observation.succeeded,
        failed=observation.failed,
        start_time=observation.start_time,
        completion_time=observation.completion_time,
        cluster_distribution=observation.cluster_distribution(),
    )
