"""The ``/api/v1`` prefix and the algorithm catalogue route."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ml_platform.algorithms import catalogue_document

API_PREFIX = "/api/v1"

router = APIRouter(prefix=API_PREFIX, tags=["algorithms"])


@router.get("/algorithms")
async def list_algorithms() -> list[dict[str, Any]]:
    """The algorithm catalogue: id, workload kind, hyperparameter schema and defaults."""
    return catalogue_document()
