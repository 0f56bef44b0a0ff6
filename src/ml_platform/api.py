"""The ``/api/v1`` router: jobs and the algorithm catalogue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ml_platform.algorithms import catalogue_document
from ml_platform.jobs.router import router as jobs_router

API_PREFIX = "/api/v1"

router = APIRouter(prefix=API_PREFIX)
router.include_router(jobs_router)


@router.get("/algorithms", tags=["algorithms"])
async def list_algorithms() -> list[dict[str, Any]]:
    """The algorithm catalogue: id, workload kind, hyperparameter schema and defaults."""
    return catalogue_document()
