"""The read path of ``GET /jobs`` and ``GET /jobs/{id}``: stored rows straight to JSON bytes.

A stored row is trusted (it was validated when written), so these reads skip what the
response model costs per row: building a ``TrainingJobResponse``, validating it again, and
dumping it. The bytes are the ones FastAPI writes for ``TrainingJobResponse`` (same keys,
order and timestamp format, and pydantic's own JSON writer for the stored ``request``), which
tests/jobs/test_documents.py proves against the model. orjson writes the document around the
request: for these values (strings, small integers, lists of strings, UTC timestamps) its
bytes are pydantic's, and it can embed the request's bytes as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from starlette.responses import Response

from ml_platform.jobs.repository import DocumentRow


def job_document(row: DocumentRow) -> dict[str, Any]:
    """The wire form of ``TrainingJobResponse`` for a row of ``repository.DOCUMENT_FIELDS``.

    Its timestamps are aware and in UTC (the read pool's session time zone, the read session's
    ``UtcDateTime``), which ``_dumps`` writes as ``rfc3339`` does: ``…Z``, microseconds only
    when not zero.
    """
    (
        job_id, job_name, namespace, algorithm, priority, request, status, reason, message,
        target_clusters, clusters, workload_kind, created_by, created_at, updated_at,
        submitted_at, started_at, completed_at, observed_at,
    ) = row  # fmt: skip
    return {
        "id": job_id,
        "jobName": job_name,
        "namespace": namespace,
        "algorithm": algorithm,
        "priority": priority,
        "request": orjson.Fragment(request),
        "status": status,
        "reason": reason,
        "message": message or "",
        "targetClusters": target_clusters,
        "clusters": sorted(clusters or ()),
        "workloadKind": workload_kind,
        "createdBy": created_by,
        "createdAt": created_at,
        "updatedAt": updated_at,
        "submittedAt": submitted_at,
        "startedAt": started_at,
        "completedAt": completed_at,
        "observedAt": observed_at,
    }


class JobDocumentResponse(Response):
    """A 200 ``application/json`` answer holding one job document or a list of them."""

    media_type = "application/json"

    @classmethod
    def one(cls, row: DocumentRow) -> JobDocumentResponse:
        """The answer of ``GET /jobs/{id}``."""
        return cls(_dumps(job_document(row)))

    @classmethod
    def page(
        cls, rows: Iterable[DocumentRow], *, headers: dict[str, str] | None = None
    ) -> JobDocumentResponse:
        """The answer of ``GET /jobs``: a JSON array of documents."""
        return cls(_dumps([job_document(row) for row in rows]), headers=headers)


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)
