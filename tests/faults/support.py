"""Helpers of the fault tests: sizes, settings, requests, polling, figures."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ml_platform.config import Settings
from tests_support import UI_REQUEST

JOBS = "/api/v1/jobs"
FAULT_CLUSTERS = ("member1@eu-west/eu-west-1a", "member2@us-east/us-east-1b")


@dataclass(frozen=True)
class Scale:
    """Whether the issue's full sizes are asked for (``--long-faults``)."""

    long: bool

    def pick(self, fast: int, long: int) -> int:
        """``long`` under ``--long-faults``, else ``fast``."""
        return long if self.long else fast


def fault_settings(settings: Settings, kubeconfig: Path, **monitor: Any) -> Settings:
    """``settings`` wired to a simulator, with a monitor ticking every 0.2 s and retries
    that back off from 0.1 s to at most 1 s (so a test under faults ends in seconds)."""
    return settings.model_copy(
        update={
            "allow_unauthenticated": True,
            "karmada": settings.karmada.model_copy(
                update={"kubeconfig": kubeconfig, "request_timeout_seconds": 5.0}
            ),
            "monitor": settings.monitor.model_copy(
                update={"enabled": True, "interval_seconds": 0.2, **monitor}
            ),
            "retries": settings.retries.model_copy(
                update={"backoff_base_seconds": 0.1, "backoff_cap_seconds": 1.0}
            ),
        }
    )


def job_request(name: str = "fault", **changes: Any) -> dict[str, Any]:
    """The UI's request (an xgboost RayJob with a 50 GB volume) on both members."""
    body = copy.deepcopy(UI_REQUEST)
    body["jobName"] = name
    body["targetClusters"] = ["member1", "member2"]
    body.update(changes)
    return body


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float, every: float = 0.2
) -> float:
    """Seconds until ``check()`` is true; AssertionError after ``within`` seconds."""
    started = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"not true within {within} s")
        await asyncio.sleep(every)


async def statuses(client: httpx.AsyncClient, job_ids: list[str]) -> dict[str, str]:
    """The stored status of each job (absent: deleted)."""
    found: dict[str, str] = {}
    for job_id in job_ids:
        response = await client.get(f"{JOBS}/{job_id}")
        if response.status_code == 200:
            found[job_id] = response.json()["status"]
    return found


async def events(client: httpx.AsyncClient, job_id: str) -> list[tuple[str | None, str]]:
    """(from, to) of each of the job's events, oldest first."""
    response = await client.get(f"{JOBS}/{job_id}/events")
    assert response.status_code == 200, response.text
    return [(e["fromStatus"], e["toStatus"]) for e in response.json()]


Send = Callable[[], Awaitable[httpx.Response]]


def create(client: httpx.AsyncClient, name: str, *, key: str | None = None) -> Send:
    """A create of ``job_request(name)``, with an Idempotency-Key when ``key`` is given."""
    body = job_request(name)
    headers = {"Idempotency-Key": key} if key else {}
    return lambda: client.post(JOBS, json=body, headers=headers)


def stop(client: httpx.AsyncClient, job_id: str) -> Send:
    """A stop of the job."""
    return lambda: client.post(f"{JOBS}/{job_id}/stop")


def delete(client: httpx.AsyncClient, job_id: str) -> Send:
    """A delete of the job."""
    return lambda: client.delete(f"{JOBS}/{job_id}")


async def bounded(sends: list[Send], *, at_once: int) -> list[tuple[httpx.Response, float, int]]:
    """``retrying`` each of ``sends``, at most ``at_once`` in flight (a client pool)."""
    slots = asyncio.Semaphore(at_once)

    async def one(send: Send) -> tuple[httpx.Response, float, int]:
        async with slots:
            return await retrying(send)

    return await asyncio.gather(*(one(send) for send in sends))


async def retrying(send: Send) -> tuple[httpx.Response, float, int]:
    """Send, and again after each 503's ``Retry-After`` (which every 503 must carry, with a
    JSON error): the first other answer, the seconds it took in all, the 503s seen."""
    retried = 0
    started = time.monotonic()
    while True:
        response = await send()
        if response.status_code != 503:
            return response, time.monotonic() - started, retried
        assert response.headers.get("Retry-After"), response.text
        assert response.json()["error"], response.text
        retried += 1
        await asyncio.sleep(float(response.headers["Retry-After"]))


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile (0-1) of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def figure(test: str, **values: Any) -> None:
    """Print one test's figure on a line of its own (``pytest -s`` shows it)."""
    shown = " ".join(f"{key}={value}" for key, value in values.items())
    print(f"\nFIGURE {test}: {shown}", flush=True)
