"""Monitor fixtures: the app wired to the simulator, and a monitor whose ticks a test runs one
at a time on a clock it moves by hand."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from karmada_sim.server import SimulatorServer
from karmada_sim.workloads.common import OUTCOME_ANNOTATION
from karmada_support import advance
from ml_platform.config import Settings
from ml_platform.db.base import utcnow
from ml_platform.jobs.models import TrainingJob
from ml_platform.jobs.workload import render_job
from ml_platform.karmada.gateway import KarmadaGateway
from ml_platform.monitor.service import StatusMonitor, TerminalHook
from ml_platform.workloads.common import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from ml_platform.workloads.kinds import WORKLOAD_APIS
from tests_support import AppFactory, app_client


@dataclass
class ManualClock:
    """The real time plus an offset that tests move forward."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.offset += timedelta(seconds=seconds)


# The simulator of the running test, if it has one (set by ``_current_simulator``).
_SIMULATOR: list[SimulatorServer] = []


@pytest.fixture(autouse=True)
def _current_simulator(request: pytest.FixtureRequest) -> Iterator[None]:
    if "simulator" in request.fixturenames:
        _SIMULATOR.append(request.getfixturevalue("simulator"))
    try:
        yield
    finally:
        _SIMULATOR.clear()


def _latest_writes(simulator: SimulatorServer) -> dict[tuple[str, str], int]:
    """Per (group, plural): the resourceVersion of Karmada's latest write that our watch caches
    see (all of a kind, or only our labelled workloads), delivered to watches or not."""

    def read() -> dict[tuple[str, str], int]:
        latest: dict[tuple[str, str], int] = {}
        for event in simulator.simulator.karmada.watch_cache.events_after(0):
            labels = (event.obj.get("metadata") or {}).get("labels") or {}
            workload = event.res.kind in {r.kind for r in WORKLOAD_APIS.values()}
            if workload and labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
                continue
            latest[(event.res.group, event.res.plural)] = event.rv
        return latest

    return simulator.call(read)


class CaughtUpMonitor(StatusMonitor):
    """A monitor whose ticks first let its watch caches take in every write the simulator made
    so far. A test changes Karmada, then ticks, and expects that tick to see the change; the
    monitor itself promises only that an event or a later tick will (see ``watched``)."""

    wait_for_caches = True

    async def run_once(self) -> None:
        if self.wait_for_caches and self.snapshots is not None and _SIMULATOR:
            latest = _latest_writes(_SIMULATOR[0])
            reflectors = self.snapshots.reflectors
            await wait_for(
                lambda: all(
                    not r.connected
                    or r.resource_version >= latest.get((r.resource.group, r.resource.plural), 0)
                    for r in reflectors
                )
            )
        await super().run_once()


def build_monitor(
    app: FastAPI,
    clock: ManualClock,
    *,
    settings: Settings | None = None,
    on_terminal: TerminalHook | None = None,
    wait_for_caches: bool = True,
    **overrides: Any,
) -> CaughtUpMonitor:
    """A monitor for ``app`` (not started: tests call ``run_once``), with the app's settings
    unless ``settings`` is given, ``on_terminal`` as its hook for finished jobs, and
    ``overrides`` of its monitor settings. Its event path is off unless an override sets
    ``event_window_seconds``: a test of what one tick does must not race it. Each tick first
    waits for the watch caches to hold the simulator's writes, unless ``wait_for_caches`` is
    False (a test of lagging caches)."""
    overrides.setdefault("event_window_seconds", 0.0)
    if settings is None:
        settings = app.state.settings
    if overrides:
        settings = settings.model_copy(
            update={"monitor": settings.monitor.model_copy(update=overrides)}
        )
    monitor = CaughtUpMonitor(
        engine=app.state.engine,
        sessionmaker=app.state.sessionmaker,
        gateway=app.state.gateway,
        settings=settings,
        metrics=app.state.metrics,
        on_terminal=on_terminal,
        clock=clock,
    )
    monitor.wait_for_caches = wait_for_caches
    return monitor


async def wait_for(condition: Callable[[], bool], *, seconds: float = 5.0) -> None:
    """Poll ``condition`` until it holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


def cached_job_ids(monitor: StatusMonitor) -> set[str]:
    """The jobs whose workload the monitor's watch caches hold now."""
    assert monitor.snapshots is not None
    *templates, _bindings = monitor.snapshots.reflectors
    return {template.job_id for reflector in templates for template in reflector.items()}


@pytest.fixture
def clock() -> ManualClock:
    """The monitor's clock."""
    return ManualClock()


@pytest.fixture
def fast_retry_settings(karmada_settings: Settings) -> Settings:
    """Karmada settings with retries a moved clock makes due at once."""
    return karmada_settings.model_copy(
        update={
            "retries": karmada_settings.retries.model_copy(
                update={"backoff_base_seconds": 0.5, "backoff_cap_seconds": 1.0}
            )
        }
    )


@pytest.fixture
async def monitor(karmada_app: FastAPI, clock: ManualClock) -> AsyncIterator[StatusMonitor]:
    """A monitor on the simulator-backed app; released (leader lock) at the end."""
    service = build_monitor(karmada_app, clock)
    try:
        yield service
    finally:
        await service.stop()


async def create_job(client: httpx.AsyncClient, request: dict[str, Any]) -> str:
    """Create a job through the API; its id."""
    response = await client.post("/api/v1/jobs", json=request)
    assert response.status_code == 201, response.text
    job_id: str = response.json()["id"]
    return job_id


async def load_job(app: FastAPI, job_id: str) -> TrainingJob:
    """The stored row of a job, as the database has it now."""
    async with app.state.sessionmaker() as session:
        job = await session.get(TrainingJob, job_id)
        assert job is not None
        return job


async def submit_failing(app: FastAPI, job_id: str) -> None:
    """Create the job's objects ahead of the monitor, with the simulator told to fail it; the
    monitor's own create then finds them (ours, same label) and counts as submitted."""
    rendered = render_job(await load_job(app, job_id), app.state.settings.workloads)
    gateway: KarmadaGateway = app.state.gateway
    for manifest in rendered.objects:
        manifest = copy.deepcopy(manifest)
        if manifest["kind"] == rendered.workload["kind"]:
            manifest["metadata"].setdefault("annotations", {})[OUTCOME_ANNOTATION] = "fail"
        await gateway.create(manifest)


async def get_job(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    """The job as the API shows it."""
    response = await client.get(f"/api/v1/jobs/{job_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def events(client: httpx.AsyncClient, job_id: str) -> list[dict[str, Any]]:
    """The job's events."""
    response = await client.get(f"/api/v1/jobs/{job_id}/events")
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def members_running(simulator: SimulatorServer) -> None:
    """Advance simulated time past initialization (the workload runs)."""
    advance(simulator, 40)


async def running_job(
    client: httpx.AsyncClient,
    monitor: StatusMonitor,
    simulator: SimulatorServer,
    request: dict[str, Any],
) -> str:
    """Create a job and tick it through Submitted to Running; its id."""
    job_id = await create_job(client, request)
    await monitor.run_once()
    members_running(simulator)
    await monitor.run_once()
    return job_id


def members_finished(simulator: SimulatorServer) -> None:
    """Advance simulated time past the run (the workload finished)."""
    advance(simulator, 80)


@pytest.fixture
def postgres_karmada_settings(
    postgres_url: str, simulator: SimulatorServer, tmp_path: Path
) -> Settings:
    """Postgres-only settings wired to the simulator, monitor off (for multi-replica and
    large tests that need not run on both backends)."""
    kubeconfig = simulator.write_kubeconfig(tmp_path / "karmada.kubeconfig")
    return Settings(
        environment="dev",
        allow_unauthenticated=True,
        policy={"namespaces": ["*"], "existing_claims": ["*"]},
        database={"url": postgres_url},
        karmada={"kubeconfig": kubeconfig, "request_timeout_seconds": 5.0},
        monitor={"enabled": False},
    )


@pytest.fixture
async def postgres_karmada_app(
    postgres_karmada_settings: Settings, app_factory: AppFactory
) -> AsyncIterator[FastAPI]:
    """The app on Postgres, talking to the simulator."""
    async with app_factory(postgres_karmada_settings) as running:
        yield running


@pytest.fixture
async def postgres_karmada_client(
    postgres_karmada_app: FastAPI,
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for ``postgres_karmada_app``."""
    async with app_client(postgres_karmada_app) as client:
        yield client
