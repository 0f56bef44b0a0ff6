"""Starting a server process and waiting until it serves: a free port to give it, and a wait
for its ``/ready`` (used by the benchmarks and by the tests that run ``ml-platform serve``)."""

from __future__ import annotations

import socket
import subprocess
import time
from typing import Any

import httpx


class NotReadyError(RuntimeError):
    """The server exited, or did not answer ``/ready`` in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(base: str, process: subprocess.Popen[Any], timeout_seconds: float) -> None:
    """Return once the server at ``base`` answers ``/ready`` with 200; raise ``NotReadyError``
    if ``process`` exits first or ``timeout_seconds`` pass (a busy machine may need tens of
    seconds to start it)."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise NotReadyError(f"server exited early: {process.returncode}")
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise NotReadyError(f"server did not become ready within {timeout_seconds:g} s")
