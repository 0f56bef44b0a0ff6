"""Reading the simulator over plain HTTP in API tests: what Karmada and each member hold."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from karmada_sim.server import PROXY_PATH, SimulatorServer
from ml_platform.db.base import utcnow
from ml_platform.jobs import repository, service
from ml_platform.jobs.models import TrainingJob
from ml_platform.jobs.schemas import TrainingJobRequest

MANAGED = "app.kubernetes.io/managed-by=ml-platform"
MEMBERS = ("member1", "member2")

# Every kind ml-platform creates, or that an operator creates for it in a member.
KARMADA_PATHS = (
    "/apis/ray.io/v1/rayjobs",
    "/apis/kubeflow.org/v1/pytorchjobs",
    "/apis/kubeflow.org/v1/tfjobs",
    "/apis/kubeflow.org/v2beta1/mpijobs",
    "/apis/batch/v1/jobs",
    "/api/v1/persistentvolumeclaims",
    "/apis/policy.karmada.io/v1alpha1/propagationpolicies",
)
MEMBER_PATHS = (
    *KARMADA_PATHS[:6],
    "/apis/ray.io/v1/rayclusters",
)


def items(
    simulator: SimulatorServer, path: str, *, cluster: str | None = None, selector: str = ""
) -> list[dict[str, Any]]:
    """Objects at ``path`` in Karmada, or in a member through the cluster proxy."""
    base = simulator.url + (PROXY_PATH.format(name=cluster) if cluster else "")
    params = {"labelSelector": selector} if selector else {}
    response = httpx.get(base + path, params=params, timeout=10.0)
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def names(simulator: SimulatorServer, path: str, *, cluster: str | None = None) -> list[str]:
    """Names of the objects at ``path`` (see ``items``)."""
    return sorted(o["metadata"]["name"] for o in items(simulator, path, cluster=cluster))


def leftovers(simulator: SimulatorServer, *, keep_volumes: bool = False) -> list[str]:
    """Everything of ours left anywhere: labelled objects and policies in Karmada and in every
    member, ResourceBindings, and pods in the members."""
    found: list[str] = []
    paths = [p for p in KARMADA_PATHS if not (keep_volumes and "persistentvolumeclaims" in p)]
    for path in paths:
        found += [f"karmada{path}/{n}" for n in _labelled(simulator, path, None)]
    found += [
        f"karmada binding {n}"
        for n in names(simulator, "/apis/work.karmada.io/v1alpha2/resourcebindings")
        if not (keep_volumes and n.endswith("-persistentvolumeclaim"))
    ]
    for cluster in MEMBERS:
        member_paths = [
            p for p in MEMBER_PATHS if not (keep_volumes and "persistentvolumeclaims" in p)
        ]
        for path in member_paths:
            found += [f"{cluster}{path}/{n}" for n in _labelled(simulator, path, cluster)]
        found += [f"{cluster} pod {n}" for n in names(simulator, "/api/v1/pods", cluster=cluster)]
    return found


def _labelled(simulator: SimulatorServer, path: str, cluster: str | None) -> list[str]:
    selector = "" if "propagationpolicies" in path else MANAGED
    return sorted(
        o["metadata"]["name"] for o in items(simulator, path, cluster=cluster, selector=selector)
    )


@asynccontextmanager
async def locked_job(app: FastAPI, job_id: str) -> AsyncIterator[tuple[AsyncSession, TrainingJob]]:
    """The job's row, locked in a transaction of its own that commits at the end."""
    async with app.state.sessionmaker() as session:
        job = await repository.get_job(session=session, job_id=job_id, for_update=True)
        assert job is not None
        yield session, job
        await session.commit()


JobStep = Callable[..., Awaitable[Any]]


async def run_step(app: FastAPI, job_id: str, step: JobStep) -> Any:
    """Run one Karmada step of ``jobs.submission`` (submit, finish_stop, finish_delete) on a
    locked job in its own transaction, as the monitor does."""
    async with locked_job(app, job_id) as (session, job):
        return await step(
            session=session,
            gateway=app.state.gateway,
            job=job,
            settings=app.state.settings,
            now=utcnow(),
        )


async def run_step_until_done(app: FastAPI, job_id: str, step: JobStep) -> None:
    """Run ``step`` (see ``run_step``) until it reports done, as the monitor retries it
    (a deleted job's row being gone counts as done): Karmada's finalizers hold deleted
    objects for a moment (a PropagationPolicy's until the detector released its claims)."""
    async with asyncio.timeout(10):
        while True:
            async with app.state.sessionmaker() as session:
                if await repository.get_job(session=session, job_id=job_id) is None:
                    return
            if await run_step(app, job_id, step) is True:
                return
            await asyncio.sleep(0.02)


async def names_once_settled(
    simulator: SimulatorServer, path: str, expected: list[str]
) -> list[str]:
    """Names at ``path`` once they are ``expected`` (or as they are after 10 s): Karmada's
    finalizers hold deleted objects a moment (a PropagationPolicy until its detector has
    released it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        found = names(simulator, path)
        if found == expected or loop.time() >= deadline:
            return found
        await asyncio.sleep(0.02)


def create_object(simulator: SimulatorServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST an object straight to the simulator (as someone other than ml-platform would)."""
    response = httpx.post(simulator.url + path, json=body, timeout=10.0)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def advance(simulator: SimulatorServer, seconds: float) -> None:
    """Let the simulator place what was just created, then move time forward: objects created
    since its last reconcile start their lifecycle now, not at the advanced time."""
    simulator.advance(0)
    simulator.advance(seconds)


async def store_pending_job(app: FastAPI, request: dict[str, Any]) -> str:
    """Store a job without submitting it: the state a job is left in when the API process dies
    between committing the row and submitting it, which the monitor's step (a) picks up."""
    async with app.state.sessionmaker() as session, session.begin():
        created = await service.store_job(
            session=session,
            request=TrainingJobRequest.model_validate(request),
            idempotency_key=None,
        )
    return created.job.id
