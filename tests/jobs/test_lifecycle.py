"""The transition table and the transition function (events recorded in the database)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from ml_platform.db.base import utcnow
from ml_platform.errors import ConflictError
from ml_platform.jobs import repository, service
from ml_platform.jobs.lifecycle import (
    TERMINAL_STATUSES,
    TRANSITIONS,
    JobStatus,
    can_transition,
    transition,
)
from ml_platform.jobs.models import TrainingJob
from tests_support import app_client


def test_every_status_has_a_row_and_only_creation_enters_pending() -> None:
    assert set(TRANSITIONS) == {None, *JobStatus}
    assert TRANSITIONS[None] == {JobStatus.PENDING}
    for source, targets in TRANSITIONS.items():
        if source is not None:
            assert JobStatus.PENDING not in targets, source


def test_terminal_statuses_only_go_to_deleting() -> None:
    for status in TERMINAL_STATUSES:
        assert TRANSITIONS[status] == {JobStatus.DELETING}
    assert TRANSITIONS[JobStatus.DELETING] == frozenset()


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        (JobStatus.PENDING, JobStatus.SUBMITTED, True),
        (JobStatus.PENDING, JobStatus.STOPPED, True),
        (JobStatus.RUNNING, JobStatus.SUCCEEDED, True),
        (JobStatus.RUNNING, JobStatus.PENDING, False),
        (JobStatus.SUCCEEDED, JobStatus.RUNNING, False),
        (JobStatus.STOPPED, JobStatus.RUNNING, False),
        (JobStatus.STOPPING, JobStatus.STOPPED, True),
    ],
)
def test_can_transition(source: JobStatus, target: JobStatus, allowed: bool) -> None:
    assert can_transition(source, target) is allowed


async def _stored_job(session: AsyncSession) -> TrainingJob:
    now = utcnow()
    job = await repository.insert_job(
        session=session,
        values={
            "id": "life-0000abcd",
            "job_name": "life",
            "namespace": "default",
            "algorithm": "xgboost",
            "priority": 0,
            "status": JobStatus.PENDING,
            "request": {},
            "workload_kind": "RayJob",
            "target_clusters": [],
            "karmada_attempts": 0,
            "created_at": now,
            "updated_at": now,
        },
    )
    assert job is not None
    return job


async def test_transition_sets_times_and_records_events(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:
        job = await _stored_job(session)
        await transition(
            session=session, job=job, to=JobStatus.SUBMITTED, reason="Submitted", now=utcnow()
        )
        await transition(
            session=session,
            job=job,
            to=JobStatus.RUNNING,
            reason="Running",
            cluster="member1",
            now=utcnow(),
        )
        assert job.started_at is not None
        assert job.completed_at is None
        await transition(
            session=session, job=job, to=JobStatus.SUCCEEDED, reason="Complete", now=utcnow()
        )
        assert job.completed_at is not None
        with pytest.raises(ConflictError):
            await transition(
                session=session, job=job, to=JobStatus.RUNNING, reason="Again", now=utcnow()
            )
        await session.commit()

    async with app.state.sessionmaker() as session:
        events = await repository.list_events(session=session, job_id="life-0000abcd")
        stored = await repository.get_job(session=session, job_id="life-0000abcd")
    assert [(e.from_status, e.to_status) for e in events] == [
        ("Pending", "Submitted"),
        ("Submitted", "Running"),
        ("Running", "Succeeded"),
    ]
    assert events[1].cluster == "member1"
    assert stored is not None
    assert stored.status == "Succeeded"
    assert stored.started_at is not None
    assert stored.started_at.tzinfo is not None


async def test_stop_of_submitted_job_goes_through_stopping(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:
        job = await _stored_job(session)
        job.submitted_at = utcnow()
        job.workload_name = job.id
        await transition(
            session=session, job=job, to=JobStatus.RUNNING, reason="Running", now=utcnow()
        )
        settings = app.state.settings
        stopped = await service.stop_job(
            session=session, gateway=None, settings=settings, job_id=job.id
        )
        assert stopped.status == JobStatus.STOPPING
        # Without Karmada nothing can remove the workload: the job says why it waits.
        assert stopped.message == "stop requested; waiting for Karmada: not configured"
        message = await service.delete_job(
            session=session, gateway=None, settings=settings, job_id=job.id
        )
        assert "being deleted" in message
        assert message.endswith("waiting for Karmada: not configured")
        assert (await service.get_job(session=session, job_id=job.id)).status == "Deleting"
        await session.commit()


async def test_stop_of_finished_job_is_409_over_http(app: FastAPI) -> None:
    async with app_client(app) as client:
        async with app.state.sessionmaker() as session:
            job = await _stored_job(session)
            for status in (JobStatus.SUBMITTED, JobStatus.RUNNING, JobStatus.SUCCEEDED):
                await transition(session=session, job=job, to=status, reason=status, now=utcnow())
            await session.commit()
        response = await client.post(f"/api/v1/jobs/{job.id}/stop")
        assert response.status_code == 409
        body = response.json()
        assert set(body) == {"error", "details"}
        # It was submitted (entering Submitted set submittedAt): a stop would go via Stopping.
        assert body["details"] == {"status": "Succeeded", "requested": "Stopping"}
        status = (await client.get(f"/api/v1/jobs/{job.id}/status")).json()
        assert status["phase"] == "Succeeded"
        assert status["startTime"] is not None
        assert status["completionTime"] is not None
