"""The service and the simulator as real processes (`ml-platform serve`, `ml-platform sim`),
for the tests that kill or stop them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from ml_platform.readiness import free_port, wait_ready

CLI = str(Path(sys.executable).parent / "ml-platform")
START_SECONDS = 90  # the suite may run on a busy machine


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ML_PLATFORM_")}
    for name in ("KARMADA_KUBECONFIG", "MGMT_KUBECONFIG", "DATABASE_URL", "PORT"):
        env.pop(name, None)
    return {**env, **extra}


class SimProcess:
    """`ml-platform sim` on a free port, workloads running in real time."""

    def __init__(self, workdir: Path) -> None:
        self.kubeconfig = workdir / "karmada.kubeconfig"
        self.log = (workdir / "sim.log").open("w")
        self.process = subprocess.Popen(
            [
                CLI,
                "sim",
                "--port=0",
                f"--kubeconfig-out={self.kubeconfig}",
                "--clusters=member1,member2",
                "--initializing-seconds=0.3",
                "--pending-seconds=0.2",
                "--running-seconds=3600",
            ],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=_env({}),
        )
        assert self.process.stdout is not None
        line = ""
        deadline = time.monotonic() + START_SECONDS
        while "listening on" not in line:
            line = self.process.stdout.readline()
            if not line and (self.process.poll() is not None or time.monotonic() > deadline):
                raise AssertionError("the simulator did not start")
        self.url = line.rsplit(" ", 1)[1].strip()

    def control(self, method: str, path: str, body: dict[str, object] | None = None) -> dict:
        """A call to the simulator's control API (`/sim/v1/...`)."""
        response = httpx.request(method, f"{self.url}/sim/v1/{path}", json=body, timeout=10)
        response.raise_for_status()
        result: dict = response.json()
        return result

    def names(self, path: str) -> list[str]:
        """Names of the objects at ``path`` in Karmada, sorted."""
        response = httpx.get(f"{self.url}{path}", timeout=10)
        response.raise_for_status()
        return sorted(item["metadata"]["name"] for item in response.json()["items"])

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL)."""
        _end(self.process)
        self.log.close()


class ServiceProcess:
    """`ml-platform serve` against a database and the simulator; ``kill``/``terminate``."""

    def __init__(self, workdir: Path, *, database_url: str, kubeconfig: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"serve-{self.port}.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [CLI, "serve"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=_env(
                {
                    "DATABASE_URL": database_url,
                    "KARMADA_KUBECONFIG": str(kubeconfig),
                    "PORT": str(self.port),
                    "ML_PLATFORM_HTTP__HOST": "127.0.0.1",
                    "ML_PLATFORM_LOG__FORMAT": "json",
                    "ML_PLATFORM_ALLOW_UNAUTHENTICATED": "true",
                    "ML_PLATFORM_MONITOR__INTERVAL_SECONDS": "0.2",
                    "ML_PLATFORM_RETRIES__BACKOFF_BASE_SECONDS": "0.1",
                    "ML_PLATFORM_RETRIES__BACKOFF_CAP_SECONDS": "1",
                }
            ),
        )
        try:
            wait_ready(self.base, self.process, START_SECONDS)
        except AssertionError:
            _end(self.process)
            raise AssertionError(
                f"serve did not start: {self.log_path.read_text()[-2000:]}"
            ) from None

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the process."""
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        """Wait for the process to exit; its exit code."""
        return self.process.wait(timeout)

    def stop(self) -> None:
        """Stop the process if it still runs."""
        _end(self.process)
        self.log.close()


def _end(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
