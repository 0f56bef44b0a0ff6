"""``/health`` (liveness with component details), ``/ready`` (database), ``/metrics``."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog
from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ml_platform.api import API_PREFIX
from ml_platform.auth.authenticator import UNAUTHENTICATED_WARNING, Authenticator
from ml_platform.auth.deps import authenticate
from ml_platform.config import Settings
from ml_platform.errors import ServiceUnavailableError
from ml_platform.jobs import repository
from ml_platform.metrics import Metrics

log = structlog.get_logger()
router = APIRouter(tags=["system"])

# Probes must answer quickly even when the database hangs.
PROBE_TIMEOUT_SECONDS = 2.0


async def _check_database(request: Request) -> dict[str, Any]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    started = time.perf_counter()
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS), sessionmaker() as session:
            await repository.ping(session=session)
    except Exception as exc:  # any failure means "not reachable"; the type is reported
        return {"status": "unavailable", "error": type(exc).__name__}
    return {"status": "ok", "latencyMs": round((time.perf_counter() - started) * 1000, 2)}


@router.get("/health")
# The earlier UI's healthApi.check asks under the API prefix; same answer.
@router.get(f"{API_PREFIX}/health")
async def health(request: Request) -> dict[str, Any]:
    """Liveness: 200 while the process serves requests, with each component's state."""
    database = await _check_database(request)
    database["backend"] = request.app.state.engine.dialect.name
    services = [
        {"name": service.name, "running": service.running}
        for service in request.app.state.background_services
    ]
    overall = "ok" if database["status"] == "ok" else "degraded"
    monitor = request.app.state.monitor
    authenticator: Authenticator = request.app.state.authenticator
    warnings = [UNAUTHENTICATED_WARNING] if authenticator.open else []
    return {
        "status": overall,
        "warnings": warnings,
        "components": {
            "database": database,
            "backgroundServices": services,
            # Only one replica's monitor writes; the others stand by.
            "monitor": {
                "enabled": monitor is not None,
                "leader": bool(monitor is not None and monitor.is_leader),
            },
        },
    }


@router.get("/ready")
async def ready(request: Request) -> dict[str, Any]:
    """Readiness: 200 when the database answers, else 503."""
    database = await _check_database(request)
    if database["status"] != "ok":
        raise ServiceUnavailableError("database unavailable", {"database": database})
    return {"status": "ready", "components": {"database": database}}


async def metrics_access(request: Request) -> None:
    """/metrics is open unless ``auth.public_metrics`` is off; then any role may read it."""
    settings: Settings = request.app.state.settings
    if not settings.auth.public_metrics:
        await authenticate(request)


@router.get("/metrics", response_class=Response, dependencies=[Depends(metrics_access)])
async def metrics(request: Request) -> Response:
    """Prometheus exposition; the jobs-by-status gauge is refreshed at scrape time."""
    collectors: Metrics = request.app.state.metrics
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS), sessionmaker() as session:
            collectors.set_job_counts(await repository.count_by_status(session=session))
    except Exception as exc:  # a scrape still returns the request metrics without the DB
        log.warning("metrics.job_counts_failed", error=type(exc).__name__)
    return Response(generate_latest(collectors.registry), media_type=CONTENT_TYPE_LATEST)
