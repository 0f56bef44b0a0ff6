"""Fault-test fixtures: the app with its monitor running against a simulator whose workloads
move on their own (real time), and the scale of each test (``--long-faults``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from karmada_sim.server import SimulatorServer
from karmada_sim.simulator import ClusterSpec, Simulator, Timings
from ml_platform.config import Settings
from tests_support import app_client, app_fixture

from .support import FAULT_CLUSTERS, Scale, fault_settings

# Workloads start within a second and then run for an hour: long enough to stop or delete
# them mid-run, and nothing finishes on its own while a test watches.
FAULT_TIMINGS = Timings(
    initializing_seconds=0.3, running_seconds=3600.0, pending_seconds=0.2, log_interval_seconds=5
)


@pytest.fixture
def scale(request: pytest.FixtureRequest) -> Scale:
    """The fast sizes, or the issue's full sizes with ``--long-faults``."""
    return Scale(long=bool(request.config.getoption("--long-faults")))


@pytest.fixture
def fault_simulator() -> Iterator[SimulatorServer]:
    """A simulator of two ready members on a free port, its workloads running in real time."""
    sim = Simulator([ClusterSpec.parse(c) for c in FAULT_CLUSTERS], timings=FAULT_TIMINGS)
    with SimulatorServer(sim) as server:
        yield server


@pytest.fixture
def live_settings(settings: Settings, fault_simulator: SimulatorServer, tmp_path: Path) -> Settings:
    """Test-database settings wired to ``fault_simulator`` with a fast monitor running."""
    kubeconfig = fault_simulator.write_kubeconfig(tmp_path / "karmada.kubeconfig")
    return fault_settings(settings, kubeconfig)


# The app with its monitor running.
live_app = app_fixture("live_settings")


@pytest.fixture
async def live_client(live_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for ``live_app``."""
    async with app_client(live_app) as client:
        yield client
