"""Fault test 3: Postgres backends terminated during a burst of creates. Every 201 is stored;
every other answer is either not stored or replays the stored job with its Idempotency-Key;
the service answers again within a second of each kill (a probe reading the job list every
50 ms), without a restart."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import psycopg

from karmada_sim.server import SimulatorServer
from ml_platform.config import Settings
from ml_platform.db.url import normalize_database_url
from tests_support import AppFactory, app_client

from .support import JOBS, Scale, create, fault_settings, figure


def terminate_backends(url: str) -> int:
    """End every other session on the test's own database; how many were ended."""
    parsed = normalize_database_url(url)
    dsn = (
        f"host={parsed.host} port={parsed.port or 5432} "
        f"user={parsed.username} dbname={parsed.database}"
    )
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


async def test_backends_killed_during_a_burst(
    postgres_url: str,
    app_factory: AppFactory,
    fault_simulator: SimulatorServer,
    tmp_path: Path,
    scale: Scale,
) -> None:
    kills = scale.pick(2, 5)
    seconds = scale.pick(4, 30)
    workers = 8
    kubeconfig = fault_simulator.write_kubeconfig(tmp_path / "karmada.kubeconfig")
    settings = fault_settings(Settings(database={"url": postgres_url}), kubeconfig)
    answers: list[tuple[str, int, float, float, str | None]] = []  # key, status, sent, done, id
    async with app_factory(settings) as app, app_client(app) as client:
        stop_at = time.monotonic() + seconds

        async def burst(worker: int) -> None:
            number = 0
            while time.monotonic() < stop_at:
                key = f"kill-{worker}-{number}"
                number += 1
                sent = time.monotonic()
                response = await create(client, key, key=key)()
                job_id = response.json().get("id") if response.status_code == 201 else None
                answers.append((key, response.status_code, sent, time.monotonic(), job_id))

        async def killer() -> list[float]:
            killed_at = []
            for _ in range(kills):
                await asyncio.sleep(seconds / (kills + 1))
                await asyncio.to_thread(terminate_backends, postgres_url)
                killed_at.append(time.monotonic())
            return killed_at

        probes: list[tuple[float, float, int]] = []  # sent, done, status

        async def probe() -> None:
            # A small read that needs the database, every 50 ms: when it answers again.
            while time.monotonic() < stop_at:
                sent = time.monotonic()
                response = await client.get(JOBS, params={"limit": 1})
                probes.append((sent, time.monotonic(), response.status_code))
                await asyncio.sleep(0.05)

        killing = asyncio.create_task(killer())
        await asyncio.gather(*(burst(w) for w in range(workers)), probe())
        killed_at = await killing
        await asyncio.sleep(0.5)
        lost, replayed, not_stored = await _check_answers(client, answers)
        recoveries = [
            min(done for sent, done, status in probes if status == 200 and sent >= kill) - kill
            for kill in killed_at
        ]
    statuses = [status for _, status, *_ in answers]
    figure(
        "3-postgres-kills",
        kills=kills,
        seconds=seconds,
        creates=len(answers),
        answered_201=statuses.count(201),
        answered_503=statuses.count(503),
        other=len(statuses) - statuses.count(201) - statuses.count(503),
        stored_but_not_201_replayed=replayed,
        not_201_not_stored=not_stored,
        lost_201s=lost,
        recovery_s=[round(r, 2) for r in recoveries],
    )
    assert lost == 0
    assert set(statuses) <= {201, 503}
    assert max(recoveries) < 1.0


async def _check_answers(
    client: httpx.AsyncClient, answers: list[tuple[str, int, float, float, str | None]]
) -> tuple[int, int, int]:
    """How many 201s are not stored; how many other answers had in fact been stored (their
    replay returns the stored job) and how many had not (their retry creates it now)."""
    lost = replayed = not_stored = 0
    for key, status, _, _, job_id in answers:
        if status == 201:
            lost += (await client.get(f"{JOBS}/{job_id}")).status_code != 200
            continue
        again = await create(client, key, key=key)()
        assert again.status_code == 201, again.text
        if again.headers.get("Idempotent-Replayed") == "true":
            replayed += 1
        else:
            not_stored += 1
    return lost, replayed, not_stored
