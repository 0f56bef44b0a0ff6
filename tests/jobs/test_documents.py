"""GET /jobs and GET /jobs/{id} write the very bytes the response model wrote for the same rows
(ORM object -> TrainingJobResponse -> pydantic's JSON, what FastAPI does for a response_model),
on Postgres and SQLite; and stored JSON decodes to what json.loads makes of it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import TypeAdapter
from sqlalchemy import Text, cast, select, update

from ml_platform.jobs.models import TrainingJob
from ml_platform.jobs.router import to_response
from ml_platform.jobs.schemas import TrainingJobResponse

JOBS = "/api/v1/jobs"

# Values whose JSON spelling differs between writers if anything does: float forms, a big
# integer, escapes, non-ASCII, control and line-separator characters.
ODD_VALUES: dict[str, Any] = {
    "SMALL": 1e-7,
    "LARGE": 1e16,
    "TENTH": 0.1,
    "WHOLE": 2.0,
    "NEG_ZERO": -0.0,
    "HUGE": 1.5e300,
    "BIG_INT": 2**70,
    "NEGATIVE": -17,
    "FLAG": True,
    "TEXT": 'é "quoted" \\ back\nslash\t\u2028 😀 </script>',
    "CONTROL": "\x01\x1f\x7f",
}


async def _stored_jobs(app: FastAPI) -> list[TrainingJob]:
    async with app.state.sessionmaker() as session:
        statement = select(TrainingJob).order_by(
            TrainingJob.created_at.desc(), TrainingJob.id.desc()
        )
        return list((await session.scalars(statement)).all())


async def test_reads_write_the_bytes_of_the_response_model(
    app: FastAPI, client: httpx.AsyncClient, ui_request: dict[str, Any]
) -> None:
    ui_request["customHyperparameters"] = ODD_VALUES
    first = (await client.post(JOBS, json=ui_request)).json()
    second = (await client.post(JOBS, json=dict(ui_request, jobName="second"))).json()
    bare = {
        "jobName": "bare",
        "algorithm": {"source": "builtin", "algorithmName": "xgboost"},
        "resources": {"instanceResources": {"cpuCores": 1, "memoryGiB": 1}},
    }
    await client.post(JOBS, json=bare)
    # Every optional column set, timestamps with and without microseconds, no message.
    async with app.state.engine.begin() as connection:
        await connection.execute(
            update(TrainingJob)
            .where(TrainingJob.id == first["id"])
            .values(
                status="Running",
                reason="Started",
                message=None,
                submitted_at=datetime(2026, 3, 1, 11, 59, 59, 500000, tzinfo=UTC),
                started_at=datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC),
                observed_at=datetime(2026, 3, 1, 12, 0, 1, 250, tzinfo=UTC),
                completed_at=datetime(2026, 3, 1, 13, 30, 0, 999999, tzinfo=UTC),
                target_clusters=["member1", "member2"],
                cluster_status={"member2": {"phase": "Running"}, "member10": {}, "a": None},
            )
        )
        # A message with every kind of character, and a status stored as JSON null.
        await connection.execute(
            update(TrainingJob)
            .where(TrainingJob.id == second["id"])
            .values(message=ODD_VALUES["TEXT"] + ODD_VALUES["CONTROL"], cluster_status=None)
        )

    jobs = await _stored_jobs(app)
    assert len(jobs) == 3
    one = TypeAdapter(TrainingJobResponse)
    for job in jobs:
        response = await client.get(f"{JOBS}/{job.id}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.content == one.dump_json(to_response(job), by_alias=True)
    page = await client.get(JOBS)
    many = TypeAdapter(list[TrainingJobResponse])
    assert page.content == many.dump_json([to_response(job) for job in jobs], by_alias=True)
    assert page.json()[1]["request"]["customHyperparameters"]["BIG_INT"] == 2**70
    # A page with a next page carries its Link, and still the same bytes.
    limited = await client.get(JOBS, params={"limit": 2})
    assert 'rel="next"' in limited.headers["link"]
    assert limited.content == many.dump_json([to_response(j) for j in jobs[:2]], by_alias=True)
    assert second["id"] in limited.text


async def test_stored_json_decodes_as_json_loads_does(
    app: FastAPI, client: httpx.AsyncClient, ui_request: dict[str, Any]
) -> None:
    ui_request["customHyperparameters"] = ODD_VALUES
    created = (await client.post(JOBS, json=ui_request)).json()
    async with app.state.sessionmaker() as session:
        statement = select(
            TrainingJob.request, cast(TrainingJob.request, Text).label("text")
        ).where(TrainingJob.id == created["id"])
        decoded, stored_text = (await session.execute(statement)).one()
    # json.dumps tells 1 from 1.0 and -0.0 from 0.0, and keeps key order: equal types too.
    assert json.dumps(decoded) == json.dumps(json.loads(stored_text))
    assert decoded["customHyperparameters"]["BIG_INT"] == 2**70


async def test_pages_hold_requests_by_job_and_a_job_created_again_shows_its_own(
    app: FastAPI, client: httpx.AsyncClient, ui_request: dict[str, Any]
) -> None:
    """A page reads the requests it does not hold yet (the first read), then holds them (the
    second); a job deleted and created again under the same id is another job: its new
    request shows, not the one held for the old."""
    created = (await client.post(JOBS, json=ui_request)).json()
    many = TypeAdapter(list[TrainingJobResponse])
    params = {"q": created["id"]}
    first = await client.get(JOBS, params=params)
    second = await client.get(JOBS, params=params)
    (job,) = await _stored_jobs(app)
    assert first.content == second.content == many.dump_json([to_response(job)], by_alias=True)

    async with app.state.engine.begin() as connection:
        await connection.execute(
            update(TrainingJob)
            .where(TrainingJob.id == created["id"])
            .values(
                created_at=datetime(2027, 1, 1, tzinfo=UTC),
                request=dict(job.request, jobName="again"),
            )
        )
    again = (await client.get(JOBS, params=params)).json()
    assert again[0]["request"]["jobName"] == "again"
    assert (await client.get(f"{JOBS}/{created['id']}")).json()["request"]["jobName"] == "again"
