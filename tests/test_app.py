"""App-wide behaviour: probes, metrics, CORS, request ids, timeouts, database outages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from ml_platform.config import Settings
from ml_platform.deps import SessionDep
from ml_platform.middleware import ShutdownGuardMiddleware
from tests_support import AppFactory, app_client

JOBS = "/api/v1/jobs"
MINIMAL = {
    "jobName": "m",
    "algorithm": {"source": "builtin", "algorithmName": "xgboost"},
    "resources": {"instanceResources": {"cpuCores": 1, "memoryGiB": 1}},
}


async def test_health_reports_components(client: httpx.AsyncClient, backend: str) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    database = body["components"]["database"]
    assert database["status"] == "ok"
    assert database["backend"] == {"postgres": "postgresql", "sqlite": "sqlite"}[backend]
    assert body["components"]["backgroundServices"] == []


async def test_ready(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_metrics_count_requests_by_route_and_jobs_by_status(
    client: httpx.AsyncClient,
) -> None:
    created = (await client.post(JOBS, json=MINIMAL)).json()
    await client.post(JOBS, json=MINIMAL)
    await client.post(f"{JOBS}/{created['id']}/stop")
    await client.get(f"{JOBS}/{created['id']}")
    await client.get("/no/such/path")

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'ml_platform_http_requests_total{method="POST",route="/api/v1/jobs",status="201"} 2.0'
        in text
    )
    assert (
        'ml_platform_http_requests_total{method="GET",route="/api/v1/jobs/{job_id}",status="200"}'
        " 1.0" in text
    )
    assert 'route="unmatched",status="404"' in text
    assert "ml_platform_http_request_duration_seconds_bucket" in text
    assert 'ml_platform_jobs{status="Pending"} 1.0' in text
    assert 'ml_platform_jobs{status="Stopped"} 1.0' in text


async def test_openapi_and_docs(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    for path in (
        "/api/v1/jobs",
        "/api/v1/jobs/{job_id}",
        "/api/v1/jobs/{job_id}/stop",
        "/api/v1/jobs/{job_id}/status",
        "/api/v1/jobs/{job_id}/events",
        "/api/v1/algorithms",
        "/health",
        "/ready",
        "/metrics",
    ):
        assert path in schema["paths"], path
    assert (await client.get("/docs")).status_code == 200


async def test_request_id_is_accepted_and_returned(client: httpx.AsyncClient) -> None:
    given = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    generated = await client.get("/health")
    assert len(generated.headers["x-request-id"]) == 32
    hostile = await client.get("/health", headers={"X-Request-ID": "a b\tc" * 50})
    assert hostile.headers["x-request-id"] != "a b\tc" * 50


@pytest.fixture
def cors_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"http": settings.http.model_copy(update={"cors_origins": ["http://ui.example"]})}
    )


@pytest.fixture
async def cors_client(
    cors_settings: Settings, app_factory: AppFactory
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_factory(cors_settings) as app, app_client(app) as client:
        yield client


async def test_cors_preflight(cors_client: httpx.AsyncClient) -> None:
    response = await cors_client.options(
        JOBS,
        headers={
            "Origin": "http://ui.example",
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://ui.example"
    allowed = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert allowed >= {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

    simple = await cors_client.get(JOBS, headers={"Origin": "http://ui.example"})
    assert simple.headers["access-control-allow-origin"] == "http://ui.example"
    assert "link" in simple.headers["access-control-expose-headers"].lower()

    other = await cors_client.options(
        JOBS,
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in other.headers


@pytest.fixture
async def slow_app(settings: Settings, app_factory: AppFactory) -> AsyncIterator[FastAPI]:
    quick = settings.model_copy(
        update={"http": settings.http.model_copy(update={"request_timeout_seconds": 0.3})}
    )
    async with app_factory(quick) as app:

        @app.get("/api/v1/slow")
        async def slow() -> dict[str, str]:
            await asyncio.sleep(5)
            return {"done": "late"}

        @app.get("/api/v1/slow/stream")
        async def slow_stream() -> dict[str, str]:
            await asyncio.sleep(0.5)
            return {"done": "streamed"}

        yield app


async def test_slow_request_is_answered_504(slow_app: FastAPI) -> None:
    async with app_client(slow_app) as client:
        started = time.perf_counter()
        response = await client.get("/api/v1/slow")
        elapsed = time.perf_counter() - started
        assert response.status_code == 504
        assert set(response.json()) == {"error", "details"}
        assert elapsed < 2
        exempt = await client.get("/api/v1/slow/stream")
        assert exempt.status_code == 200


async def test_database_down_answers_503_quickly(app_factory: AppFactory) -> None:
    # Port 1 on localhost: nothing listens, so every connection attempt is refused.
    settings = Settings(
        database={"url": "postgresql://postgres@127.0.0.1:1/none"}, allow_unauthenticated=True
    )
    async with app_factory(settings, clear_tables=False) as app, app_client(app) as client:
        started = time.perf_counter()
        response = await client.get(JOBS)
        assert time.perf_counter() - started < 2
        assert response.status_code == 503
        assert response.json()["error"] == "database unavailable"
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert set(ready.json()) == {"error", "details"}
        health = await client.get("/health")
        assert health.status_code == 200
        assert health.json()["components"]["database"]["status"] == "unavailable"
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200


async def test_exhausted_pool_answers_503_within_about_a_second(
    postgres_url: str, app_factory: AppFactory
) -> None:
    # Postgres only: SQLite opens a connection per session, so it has no pool to exhaust.
    tiny = Settings(
        allow_unauthenticated=True,
        database={
            "url": postgres_url,
            "pool_size": 1,
            "max_overflow": 0,
            "pool_timeout_seconds": 0.5,
        },
    )
    async with app_factory(tiny) as app:
        async with app.state.engine.connect() as held:
            await held.exec_driver_sql("SELECT 1")
            async with app_client(app) as client:
                started = time.perf_counter()
                response = await client.get(f"{JOBS}/counts")
                elapsed = time.perf_counter() - started
        assert response.status_code == 503
        assert response.json()["error"] == "database unavailable"
        assert 0.4 < elapsed < 1.5


async def test_slow_database_query_is_answered_504_and_frees_the_connection(
    postgres_url: str, app_factory: AppFactory
) -> None:
    settings = Settings(
        allow_unauthenticated=True,
        database={"url": postgres_url, "pool_size": 1, "max_overflow": 0},
        http={"request_timeout_seconds": 0.5},
    )
    async with app_factory(settings, clear_tables=False) as app:

        @app.get("/api/v1/slow-query")
        async def slow_query(session: SessionDep) -> dict[str, str]:
            await session.execute(text("SELECT pg_sleep(5)"))
            return {"done": "late"}

        async with app_client(app) as client:
            started = time.perf_counter()
            response = await client.get("/api/v1/slow-query")
            assert response.status_code == 504, response.text
            assert time.perf_counter() - started < 2
            # The only pooled connection must be usable again.
            after = await client.get(f"{JOBS}/counts")
            assert after.status_code == 200


async def test_requests_over_the_limit_get_a_fast_503_with_retry_after(
    settings: Settings, app_factory: AppFactory
) -> None:
    limited = settings.model_copy(
        update={
            "http": settings.http.model_copy(
                update={"max_concurrent_requests": 1, "queue_timeout_seconds": 0.2}
            )
        }
    )
    release = asyncio.Event()
    async with app_factory(limited) as app:

        @app.get("/api/v1/held")
        async def held() -> dict[str, str]:
            await release.wait()
            return {"done": "yes"}

        async with app_client(app) as client:
            first = asyncio.create_task(client.get("/api/v1/held"))
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            refused = await client.get(JOBS)
            assert time.perf_counter() - started < 1.0
            assert refused.status_code == 503
            assert refused.headers["Retry-After"] == "1"
            assert refused.json()["details"] == {"limit": 1}
            assert (await client.get("/health")).status_code == 200  # probes are not limited
            release.set()
            assert (await first).status_code == 200
            assert (await client.get(JOBS)).status_code == 200


async def test_a_request_cancelled_at_shutdown_gets_a_json_503() -> None:
    sent: list[dict[str, object]] = []

    async def cancelled_app(scope: object, receive: object, send: object) -> None:
        raise asyncio.CancelledError  # what the server does to a request still running

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    guard = ShutdownGuardMiddleware(cancelled_app)  # type: ignore[arg-type]
    with pytest.raises(asyncio.CancelledError):
        await guard({"type": "http", "path": "/api/v1/jobs"}, None, send)  # type: ignore[arg-type]
    start, body = sent
    assert start["status"] == 503
    headers = dict(start["headers"])  # type: ignore[call-overload]
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"retry-after"] == b"1"
    assert body["body"] == b'{"error":"the server is shutting down; retry","details":null}'
