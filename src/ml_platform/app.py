"""The FastAPI application: create_app() and the lifespan that owns engine and services."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import structlog
from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.middleware.cors import CORSMiddleware

from ml_platform import api
from ml_platform.auth.authenticator import build_authenticator
from ml_platform.auth.caller import Role
from ml_platform.auth.crosssite import CrossSiteWriteGuard
from ml_platform.auth.deps import job_access, require
from ml_platform.auth.docs import add_docs_routes
from ml_platform.background import BackgroundService
from ml_platform.clusters.directory import ClusterDirectory
from ml_platform.clusters.router import router as clusters_router
from ml_platform.config import Settings
from ml_platform.db.engine import build_engine, build_read_sessionmaker, build_sessionmaker
from ml_platform.db.readpool import build_read_pool
from ml_platform.errors import install_exception_handlers
from ml_platform.jobs.logs import Capture, StreamSlots, capture_driver_log
from ml_platform.jobs.models import TrainingJob
from ml_platform.jobs.router import router as jobs_router
from ml_platform.karmada.gateway import KarmadaGateway
from ml_platform.metrics import Metrics
from ml_platform.middleware import (
    BodySizeLimitMiddleware,
    ConcurrencyLimitMiddleware,
    RequestContextMiddleware,
    RequestTimeoutMiddleware,
    ShutdownGuardMiddleware,
)
from ml_platform.monitor.service import StatusMonitor
from ml_platform.system.router import router as system_router
from ml_platform.webui import mount_ui

log = structlog.get_logger()

CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def freeze_startup_objects() -> None:
    """Exempt what exists before serving (modules, classes, the app: over 100,000 objects)
    from the cyclic garbage collector. It all lives as long as the process, and each full
    collection that walked it paused the event loop, and so a monitor tick, for about 50 ms.
    ``serve`` calls this once, just before it starts serving."""
    gc.collect()
    gc.freeze()


def build_background_services(app: FastAPI) -> list[BackgroundService]:
    """Services started with the app: the status monitor when enabled and Karmada is known."""
    settings: Settings = app.state.settings
    services: list[BackgroundService] = []
    if settings.monitor.enabled and app.state.gateway is not None:
        gateway: KarmadaGateway = app.state.gateway

        async def capture_log(session: AsyncSession, job: TrainingJob) -> bool:
            outcome = await capture_driver_log(
                session=session, gateway=gateway, job=job, settings=settings
            )
            return outcome is not Capture.FAILED

        app.state.monitor = StatusMonitor(
            engine=app.state.engine,
            sessionmaker=app.state.sessionmaker,
            gateway=gateway,
            settings=settings,
            metrics=app.state.metrics,
            on_terminal=capture_log,
        )
        services.append(app.state.monitor)
    return services


# The shutdown budget: in-flight requests get the first share (uvicorn's graceful timeout),
# background services the next; the rest is left for disposing the pool and exiting.
REQUEST_DRAIN_SHARE = 0.6
SERVICE_STOP_SHARE = 0.3


async def stop_services(services: Sequence[BackgroundService], budget_seconds: float) -> None:
    """Stop services newest first, all within one shared deadline."""
    deadline = asyncio.get_running_loop().time() + budget_seconds
    for service in reversed(services):
        try:
            async with asyncio.timeout_at(deadline):
                await service.stop()
        except Exception:  # one failing or slow service must not keep the others running
            log.exception("background.stop_failed", service=service.name)


def build_gateway(settings: Settings) -> KarmadaGateway | None:
    """The Karmada gateway: from the kubeconfig, else in-cluster when running in a pod.

    Without either the service still runs: jobs are stored and wait (Pending) for Karmada.
    """
    timeout = settings.karmada.request_timeout_seconds
    if settings.karmada.kubeconfig is not None:
        return KarmadaGateway.from_kubeconfig(
            str(settings.karmada.kubeconfig), timeout_seconds=timeout
        )
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return KarmadaGateway.from_kubeconfig(None, timeout_seconds=timeout)
    log.warning("karmada.not_configured", hint="set KARMADA_KUBECONFIG")
    return None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Build the engine and background services on startup; stop and dispose on shutdown."""
    settings: Settings = app.state.settings
    engine = build_engine(settings.database)
    app.state.engine = engine
    app.state.sessionmaker = build_sessionmaker(engine)
    app.state.read_sessionmaker = build_read_sessionmaker(engine)
    read_pool = app.state.read_pool = build_read_pool(engine, settings.database)
    if read_pool is not None:
        await read_pool.open()
    gateway = app.state.gateway = build_gateway(settings)
    app.state.background_services = build_background_services(app)
    started: list[BackgroundService] = []
    try:
        for service in app.state.background_services:
            await service.start()
            started.append(service)
        log.info("app.started", database=engine.dialect.name, services=len(started))
        yield
    finally:
        await stop_services(started, settings.shutdown_timeout_seconds * SERVICE_STOP_SHARE)
        if gateway is not None:
            await gateway.close()
        if read_pool is not None:
            await read_pool.close()
        await engine.dispose()
        log.info("app.stopped")


def create_app(settings: Settings) -> FastAPI:
    """A fully wired application for these settings (nothing connects until startup)."""
    # Refuses (AuthConfigError) to build an app nobody has to sign in to, unless allowed.
    authenticator = build_authenticator(
        auth=settings.auth,
        oidc=settings.oidc,
        allow_unauthenticated=settings.allow_unauthenticated,
    )
    public_docs = settings.auth.public_docs
    app = FastAPI(
        title="ml-platform",
        summary="Submit, watch, stop and clean up training jobs across Karmada clusters.",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/openapi.json" if public_docs else None,
        docs_url="/docs" if public_docs else None,
        redoc_url="/redoc" if public_docs else None,
    )
    app.state.settings = settings
    app.state.authenticator = authenticator
    app.state.metrics = Metrics()
    app.state.background_services = []
    app.state.gateway = None
    app.state.read_pool = None
    app.state.cluster_directory = ClusterDirectory()
    app.state.log_streams = StreamSlots(settings.http.max_log_streams)
    app.state.monitor = None
    install_exception_handlers(app)
    # Who may call what: jobs by role and namespace, the rest at least viewer (the resources
    # proxy asks for admin itself); /health and /ready stay open.
    app.include_router(jobs_router, dependencies=[Depends(job_access)])
    app.include_router(clusters_router, dependencies=[Depends(require(Role.VIEWER))])
    app.include_router(api.router, dependencies=[Depends(require(Role.VIEWER))])
    app.include_router(system_router)
    if not public_docs:
        add_docs_routes(app)
    if settings.http.ui_dir is not None:
        mount_ui(app, settings.http.ui_dir)  # last: its catch-all must not shadow a route

    # Added innermost first: context -> CORS -> shutdown guard -> concurrency limit ->
    # cross-site guard -> timeout -> body limit -> routes.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.http.max_body_bytes)
    app.add_middleware(
        RequestTimeoutMiddleware, timeout_seconds=settings.http.request_timeout_seconds
    )
    app.add_middleware(CrossSiteWriteGuard, allowed_origins=settings.cors_origins)
    app.add_middleware(
        ConcurrencyLimitMiddleware,
        limit=settings.max_concurrent_requests,
        queue_seconds=settings.http.queue_timeout_seconds,
    )
    app.add_middleware(ShutdownGuardMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=CORS_METHODS,
        allow_headers=["*"],
        expose_headers=["Link", "Location", "X-Request-ID", "Idempotent-Replayed"],
        max_age=600,
    )
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app
