"""Shared fixtures: a migrated test database per backend (Postgres and SQLite), the app with its
lifespan running, and an async HTTP client bound to it.

Every test that uses ``client`` runs once per backend. ``--backend`` restricts that to one.
The Postgres database is ``ml_platform_test_<pid>``, created here and dropped at the end; the
configured database of the machine is never touched.
"""

from __future__ import annotations

import asyncio
import copy
import io
import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import structlog
from fastapi import FastAPI
from sqlalchemy import text

from karmada_sim.server import SimulatorServer
from karmada_sim.simulator import ClusterSpec, Simulator, Timings
from karmada_sim.watchcache import WatchCacheSettings
from ml_platform.app import create_app
from ml_platform.config import LogFormat, Settings
from ml_platform.db.engine import build_engine
from ml_platform.db.migrate import upgrade_to_head
from ml_platform.karmada.gateway import KarmadaGateway
from ml_platform.logging import configure_logging
from tests_support import UI_REQUEST, AppFactory, app_client

POSTGRES_ADMIN_DSN = os.environ.get(
    "ML_PLATFORM_TEST_POSTGRES", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)
BACKENDS = ("postgres", "sqlite")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=(*BACKENDS, "both"),
        default="both",
        help="database backend(s) the API tests run against",
    )
    parser.addoption(
        "--long-faults",
        action="store_true",
        default=os.environ.get("ML_PLATFORM_LONG_FAULTS") == "1",
        help="run the fault tests (tests/faults) at the issue's full sizes (minutes)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--backend")
        backends = BACKENDS if chosen == "both" else (chosen,)
        metafunc.parametrize("backend", backends, scope="session")


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The service's logs as JSON lines in a string, through the production configuration
    (loggers cached by earlier tests included: they log through the root handler)."""
    root = logging.getLogger()
    previous_handlers, previous_level = root.handlers[:], root.level
    configure_logging(level="info", log_format=LogFormat.JSON)
    stream = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    structlog.reset_defaults()
    root.handlers[:] = previous_handlers
    root.setLevel(previous_level)


@pytest.fixture
def ui_request() -> dict[str, Any]:
    """A fresh deep copy of the UI's exact request."""
    return copy.deepcopy(UI_REQUEST)


def _admin(sql: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


def _migrate(url: str) -> None:
    async def run() -> None:
        engine = build_engine(Settings(database={"url": url}).database)
        try:
            await upgrade_to_head(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A freshly created and migrated Postgres database for this test session."""
    name = f"ml_platform_test_{os.getpid()}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        _migrate(url)
        yield url
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file for this test session."""
    path: Path = tmp_path_factory.mktemp("sqlite") / "ml-platform-test.db"
    url = f"sqlite+aiosqlite:///{path}"
    _migrate(url)
    return url


@pytest.fixture(scope="session")
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """The migrated test database of the current backend."""
    return str(request.getfixturevalue(f"{backend}_url"))


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings pointing at the test database; no authentication, any namespace but the
    cluster's own (tests/auth/ covers tokens, roles and the policy)."""
    return Settings(
        environment="dev",
        database={"url": database_url},
        allow_unauthenticated=True,
        policy={"namespaces": ["*"], "existing_claims": ["*"]},
    )


async def _clear_tables(app: FastAPI) -> None:
    async with app.state.engine.begin() as connection:
        await connection.execute(text("DELETE FROM job_log"))
        await connection.execute(text("DELETE FROM job_event"))
        await connection.execute(text("DELETE FROM training_job"))


def _pending_tasks() -> set[asyncio.Task[Any]]:
    current = asyncio.current_task()
    return {task for task in asyncio.all_tasks() if task is not current and not task.done()}


@asynccontextmanager
async def running_app(settings: Settings, *, clear_tables: bool = True) -> AsyncIterator[FastAPI]:
    """An app with its lifespan entered and empty job tables; checks for leaked tasks after."""
    before = _pending_tasks()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        if clear_tables:
            await _clear_tables(app)
        yield app
    for _ in range(3):
        await asyncio.sleep(0)
    leaked = _pending_tasks() - before
    assert not leaked, f"asyncio tasks leaked by the test: {leaked}"


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app on the test database."""
    async with running_app(settings) as running:
        yield running


@pytest.fixture
def app_factory() -> AppFactory:
    """Starts an app for custom settings: ``async with app_factory(settings) as app``."""
    return running_app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An async HTTP client talking to the app in-process."""
    async with app_client(app) as client:
        yield client


# --- Karmada: the project's simulator over real HTTP -------------------------------------------

# Slow enough that nothing moves on its own while a test runs: tests drive simulated time with
# ``simulator.advance(...)``, so what they see does not depend on the machine's speed.
SIM_TIMINGS = Timings(
    initializing_seconds=30.0, running_seconds=60.0, pending_seconds=5.0, log_interval_seconds=10.0
)
SIM_CLUSTERS = ("member1@eu-west/eu-west-1a", "member2@us-east/us-east-1b")
# The namespaces the product tests submit into exist, as an operator would have made them.
SIM_NAMESPACES = ("default", "team", "team-a", "team-b")


@pytest.fixture
def simulator(request: pytest.FixtureRequest) -> Iterator[SimulatorServer]:
    """A fresh Karmada simulator with two ready member clusters on a free port; a test marked
    ``watch_lag(seconds)`` gets watches that deliver every write that much later."""
    lag = request.node.get_closest_marker("watch_lag")
    sim = Simulator(
        [ClusterSpec.parse(text) for text in SIM_CLUSTERS],
        timings=SIM_TIMINGS,
        namespaces=SIM_NAMESPACES,
        watch_cache=WatchCacheSettings(lag_seconds=lag.args[0]) if lag else None,
    )
    with SimulatorServer(sim) as server:
        yield server


@pytest.fixture
async def gateway(simulator: SimulatorServer, tmp_path: Path) -> AsyncIterator[KarmadaGateway]:
    """A Karmada gateway of its own (no app) talking to the simulator."""
    kubeconfig = simulator.write_kubeconfig(tmp_path / "karmada.kubeconfig")
    gateway = KarmadaGateway.from_kubeconfig(str(kubeconfig), timeout_seconds=5.0)
    yield gateway
    await gateway.close()


@pytest.fixture
def karmada_settings(settings: Settings, simulator: SimulatorServer, tmp_path: Path) -> Settings:
    """Test-database settings wired to the simulator; the monitor is off (tests that need it
    turn it on or run single ticks)."""
    kubeconfig = simulator.write_kubeconfig(tmp_path / "karmada.kubeconfig")
    return settings.model_copy(
        update={
            "karmada": settings.karmada.model_copy(
                update={"kubeconfig": kubeconfig, "request_timeout_seconds": 5.0}
            ),
            "monitor": settings.monitor.model_copy(update={"enabled": False}),
        }
    )


@pytest.fixture
async def karmada_app(karmada_settings: Settings) -> AsyncIterator[FastAPI]:
    """The app on the test database, talking to the simulator."""
    async with running_app(karmada_settings) as running:
        yield running


@pytest.fixture
async def karmada_client(karmada_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An async HTTP client for the app that talks to the simulator."""
    async with app_client(karmada_app) as client:
        yield client
