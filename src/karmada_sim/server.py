"""Run the simulator's API server on its own thread and event loop (the Python handle)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import structlog
import uvicorn
import yaml

from karmada_sim.faults import Faults
from karmada_sim.http import ApiServer, Backend

log = structlog.get_logger()

T = TypeVar("T")
_CALL_TIMEOUT_SECONDS = 30.0
_START_TIMEOUT_SECONDS = 15.0
_STOP_TIMEOUT_SECONDS = 10.0
KARMADA_CONTEXT = "karmada-apiserver"
PROXY_PATH = "/apis/cluster.karmada.io/v1alpha1/clusters/{name}/proxy"


class RunnableBackend(Backend, Protocol):
    """A backend with a reconcile loop (the `Simulator`)."""

    async def run(self) -> None:
        """Reconcile until cancelled."""


class SimulatorServer:
    """Serves a simulator over real HTTP from a background thread; for tests and `dev`."""

    def __init__(
        self, simulator: RunnableBackend, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.simulator = simulator
        self.api = ApiServer(simulator)
        self.host = host
        self._requested_port = port
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: uvicorn.Server | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT` once started."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimulatorServer:
        """Bind the port, start serving and reconciling; return once requests are answered."""
        # proto must be IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on such sockets, and
        # without it every request that follows another within ~40 ms waits for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.api,
            lifespan="off",
            log_level="critical",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name=f"sim-api-{self.port}", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT_SECONDS) or self._failure is not None:
            self.stop()
            raise RuntimeError(f"simulator failed to start: {self._failure!r}")
        log.info("sim.server.started", url=self.url)
        return self

    def _run(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(sock))
        except BaseException as exc:
            self._failure = exc
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self, sock: socket.socket) -> None:
        assert self._server is not None
        reconciler = asyncio.create_task(self.simulator.run(), name="sim-reconcile")
        server_task = asyncio.create_task(self._server.serve(sockets=[sock]), name="sim-http")
        # uvicorn exposes readiness only as a flag, so poll it (bounded by the start timeout).
        for _ in range(int(_START_TIMEOUT_SECONDS / 0.01)):
            if self._server.started or server_task.done():
                break
            await asyncio.sleep(0.01)
        if not self._server.started:
            reconciler.cancel()
            await server_task  # re-raises why it stopped
            raise RuntimeError("the HTTP server did not start in time")
        self._ready.set()
        try:
            await server_task
        finally:
            reconciler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reconciler
            sock.close()

    def stop(self) -> None:
        """Stop serving and reconciling and join the thread (idempotent)."""
        if self._server is not None:
            if self._loop is not None and self._thread is not None and self._thread.is_alive():
                # End long-lived watch and log streams so the shutdown is graceful.
                with contextlib.suppress(RuntimeError, concurrent.futures.TimeoutError):
                    self.call(self.api.close_streams)
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(_STOP_TIMEOUT_SECONDS)
            if self._thread.is_alive():
                assert self._server is not None
                self._server.force_exit = True
                self._thread.join(_STOP_TIMEOUT_SECONDS)
            self._thread = None
            log.info("sim.server.stopped", url=self.url)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the simulator's loop (thread-safe access to its state) and return."""
        loop = self._loop
        if loop is None or self._thread is None:
            raise RuntimeError("the simulator server is not running")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(_CALL_TIMEOUT_SECONDS)

    # --------------------------------------------------------------- test conveniences

    def set_cluster_ready(self, name: str, ready: bool) -> None:
        """Flip a member cluster Ready/NotReady."""
        self.call(lambda: self.simulator.set_cluster_ready(name, ready))

    def create_namespace(self, name: str) -> None:
        """Create a namespace on Karmada and in every member cluster (idempotent)."""
        backend = self.simulator

        def ensure() -> None:
            backend.karmada.namespaces.ensure(name)
            for member in backend.members:
                backend.store_for(member).namespaces.ensure(name)

        self.call(ensure)

    def advance(self, seconds: float) -> None:
        """Advance simulated time and reconcile, without sleeping."""
        self.call(lambda: self.simulator.advance(seconds))

    def delete_member_object(
        self, cluster: str, api_version: str, kind: str, namespace: str, name: str
    ) -> None:
        """Delete an object in a member cluster behind Karmada's back."""
        self.call(
            lambda: self.simulator.delete_member_object(cluster, api_version, kind, namespace, name)
        )

    def set_faults(
        self,
        *,
        latency_seconds: float = 0.0,
        error_rate: float = 0.0,
        error_codes: tuple[int, ...] = (500, 503, 429),
        drop_rate: float = 0.0,
        paths: tuple[str, ...] = (),
        seed: int | None = None,
    ) -> None:
        """Inject latency, error responses and dropped connections (all zero: none)."""
        faults = Faults.from_json(
            {
                "latencySeconds": latency_seconds,
                "errorRate": error_rate,
                "errorCodes": list(error_codes),
                "dropRate": drop_rate,
                "paths": list(paths),
                "seed": seed,
            }
        )

        def install() -> None:
            self.api.faults = faults

        self.call(install)

    def clear_faults(self) -> None:
        """Stop injecting faults."""
        self.set_faults()

    def stats(self) -> dict[str, Any]:
        """Request counters (`total`, `byVerb`, `byRequest`, ...)."""
        return self.call(self.api.stats.to_json)

    def reset_stats(self) -> None:
        """Zero the request counters."""
        self.call(self.api.stats.reset)

    def write_kubeconfig(self, path: Path, *, server_url: str | None = None) -> Path:
        """Write a kubeconfig for the Karmada API, plus one context per member via the proxy."""
        base = (server_url or self.url).rstrip("/")
        members = sorted(self.call(lambda: list(self.simulator.members)))
        return write_kubeconfig(path, base, members)


def write_kubeconfig(path: Path, server_url: str, members: list[str]) -> Path:
    """A kubeconfig whose current context is the Karmada API server at `server_url`."""
    clusters = [{"name": KARMADA_CONTEXT, "cluster": {"server": server_url}}]
    contexts = [
        {"name": KARMADA_CONTEXT, "context": {"cluster": KARMADA_CONTEXT, "user": "sim-admin"}}
    ]
    for member in members:
        clusters.append(
            {"name": member, "cluster": {"server": server_url + PROXY_PATH.format(name=member)}}
        )
        contexts.append({"name": member, "context": {"cluster": member, "user": "sim-admin"}})
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": clusters,
        "contexts": contexts,
        "current-context": KARMADA_CONTEXT,
        # The simulator accepts any bearer token; clients still expect a user entry.
        "users": [{"name": "sim-admin", "user": {"token": "ml-platform-sim"}}],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
