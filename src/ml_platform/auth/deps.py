"""FastAPI dependencies: ``CallerDep`` authenticates, ``require(role)`` guards a route or a
router, ``job_access`` also checks the namespace of the job a path names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import Depends, Request

from ml_platform.auth.authenticator import Authenticator
from ml_platform.auth.caller import Caller, Role
from ml_platform.auth.context import set_actor
from ml_platform.db.session import read_session
from ml_platform.errors import NotFoundError
from ml_platform.jobs import repository

MAX_JOB_ID_LENGTH = 63
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def authenticate(request: Request) -> Caller:
    """The caller of this request (401 without valid credentials). Its name goes into every log
    line of the request and onto the records it writes; the token itself goes nowhere."""
    authenticator: Authenticator = request.app.state.authenticator
    caller = await authenticator.caller(request.headers.get("authorization"))
    structlog.contextvars.bind_contextvars(caller=caller.name)
    set_actor(caller.name)
    return caller


CallerDep = Annotated[Caller, Depends(authenticate)]


def require(role: Role) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency that lets in callers having ``role`` (403 for the others)."""

    async def check(caller: CallerDep) -> Caller:
        caller.require_role(role)
        return caller

    return check


async def job_access(request: Request, caller: CallerDep) -> Caller:
    """Router guard of the jobs API: viewer reads, editor changes; a route naming a job also
    needs the job's namespace in the caller's scope (403; 404 for no such job)."""
    caller.require_role(Role.EDITOR if request.method in MUTATING_METHODS else Role.VIEWER)
    job_id = request.path_params.get("job_id")
    if job_id is None or caller.namespaces is None:
        return caller
    # Only scoped callers pay for this lookup (the others open no session at all).
    namespace = None
    if len(job_id) <= MAX_JOB_ID_LENGTH and "\x00" not in job_id:
        async with read_session(request) as session:
            namespace = await repository.job_namespace(session=session, job_id=job_id)
    if namespace is None:
        raise NotFoundError(f"job {job_id[:80]!r} not found", {"id": job_id[:80]})
    caller.require_namespace(namespace)
    return caller
