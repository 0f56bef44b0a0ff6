"""The read path of ``GET /jobs`` and ``GET /jobs/{id}``: stored rows straight to JSON bytes.

A stored row is trusted (it was validated when written), so these reads skip what the
response model costs per row: building a ``TrainingJobResponse``, validating it again, and
dumping it. The bytes are the ones FastAPI writes for ``TrainingJobResponse`` (same keys,
order and timestamp format, and pydantic's own JSON writer for the stored ``request``), which
tests/jobs/test_documents.py proves against the model.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pydantic_core
from sqlalchemy import Row
from starlette.responses import Response

from ml_platform.jobs.models import TrainingJob
from ml_platform.jobs.schemas import rfc3339

# A stored job: the ORM object, or a row of the repository's DOCUMENT_COLUMNS.
StoredJob = TrainingJob | Row[Any]


def _timestamp(value: datetime | None) -> str | None:
    return None if value is None else rfc3339(value)


def job_document(job: StoredJob) -> dict[str, Any]:
    """The wire form of ``TrainingJobResponse`` for a stored job, as plain JSON values."""
    return {
        "id": job.id,
        "jobName": job.job_name,
        "namespace": job.namespace,
        "algorithm": job.algorithm,
        "priority": job.priority,
        "request": job.request,
        "status": job.status,
        "reason": job.reason,
        "message": job.message or "",
        "targetClusters": job.target_clusters,
        "clusters": sorted(job.cluster_status or {}),
        "workloadKind": job.workload_kind,
        "createdBy": job.created_by,
        "createdAt": rfc3339(job.created_at),
        "updatedAt": rfc3339(job.updated_at),
        "submittedAt": _timestamp(job.submitted_at),
        "startedAt": _timestamp(job.started_at),
        "completedAt": _timestamp(job.completed_at),
        "observedAt": _timestamp(job.observed_at),
    }


class JobDocumentResponse(Response):
    """A 200 ``application/json`` answer holding one job document or a list of them."""

    media_type = "application/json"

    @classmethod
    def one(cls, job: StoredJob) -> JobDocumentResponse:
        """The answer of ``GET /jobs/{id}``."""
        return cls(pydantic_core.to_json(job_document(job)))

    @classmethod
    def page(
        cls, jobs: Iterable[StoredJob], *, headers: dict[str, str] | None = None
    ) -> JobDocumentResponse:
        """The answer of ``GET /jobs``: a JSON array of documents."""
        return cls(pydantic_core.to_json([job_document(job) for job in jobs]), headers=headers)
