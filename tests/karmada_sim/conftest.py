"""Shared fixtures: a running simulator (Karmada + two member clusters) over real HTTP, and
official `kubernetes` clients for the Karmada API and for each member through the proxy; for
the API-server tests, the same server over a bare backend with nothing reconciling."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from api_backend import BareBackend
from api_helpers import api_client
from kubernetes import client

from karmada_sim.server import SimulatorServer
from karmada_sim.simulator import ClusterSpec, Simulator, Timings

# Long enough that nothing moves on its own while a test runs: tests drive time explicitly
# with `advance`, so what they see does not depend on the machine's speed.
SLOW = Timings(
    initializing_seconds=30.0,
    running_seconds=60.0,
    pending_seconds=5.0,
    log_interval_seconds=10.0,
)
CLUSTERS = ("member1@eu-west/a", "member2@us-east/b")


@pytest.fixture
def sim_server() -> Iterator[SimulatorServer]:
    """A fresh simulator with two ready member clusters, served on a free port."""
    simulator = Simulator([ClusterSpec.parse(text) for text in CLUSTERS], timings=SLOW, seed=7)
    with SimulatorServer(simulator) as server:
        yield server


@pytest.fixture(scope="module")
def bare_backend() -> BareBackend:
    """Karmada and member stores with nothing reconciling, one per test module (API tests)."""
    return BareBackend()


@pytest.fixture(scope="module")
def server(bare_backend: BareBackend) -> Iterator[SimulatorServer]:
    """The API server over ``bare_backend``, shared by a module's tests."""
    with SimulatorServer(bare_backend) as srv:
        yield srv


@pytest.fixture
def karmada(sim_server: SimulatorServer) -> Iterator[client.ApiClient]:
    """An ApiClient for the Karmada API server."""
    with api_client(sim_server.url) as api:
        yield api


@pytest.fixture
def member(sim_server: SimulatorServer) -> Iterator[Callable[[str], client.ApiClient]]:
    """`member("member1")`: an ApiClient for a member cluster through the Karmada proxy."""
    opened: list[client.ApiClient] = []

    def open_member(name: str) -> client.ApiClient:
        api = api_client(sim_server.url, cluster=name)
        opened.append(api)
        return api

    yield open_member
    for api in opened:
        api.close()


@pytest.fixture
def ns(request: pytest.FixtureRequest) -> str:
    """A namespace of its own for each test, created on the server the test uses."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    for fixture in ("sim_server", "server"):
        if fixture in request.fixturenames:
            request.getfixturevalue(fixture).create_namespace(name)
    return name
