"""Every route x every kind of caller, with the status each cell must answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from auth.callers import OTHER_TEAM, TEAM, Tokens, bearer, team_request
from ml_platform.config import Settings
from tests_support import AppFactory, app_client

JOBS = "/api/v1/jobs"
CLUSTERS = "/api/v1/proxy/clusters"
CALLERS = ("none", "bad", "viewer", "editor", "admin", "other_editor")


@dataclass(frozen=True)
class Route:
    """One route: how to call it for a fresh job id, and the status per caller."""

    name: str
    method: str
    path: str  # "{job}" is replaced by the id of a job in team-a
    expected: tuple[int, int, int, int, int, int]  # in the order of CALLERS
    json: object = None
    fresh_job: bool = False  # the call changes the job: each cell gets its own


READ = (401, 401, 200, 200, 200, 403)
CHANGE = (401, 401, 403, 200, 200, 403)
OPEN = (200, 200, 200, 200, 200, 200)
ANY_ROLE = (401, 401, 200, 200, 200, 200)
ROUTES = (
    Route("list jobs", "GET", JOBS, ANY_ROLE),
    Route("list team-a jobs", "GET", f"{JOBS}?namespace={TEAM}", READ),
    Route("create", "POST", JOBS, (401, 401, 403, 201, 201, 403), json=team_request()),
    Route(
        "create in team-b",
        "POST",
        JOBS,
        (401, 401, 403, 201, 201, 201),
        json=team_request(OTHER_TEAM),
    ),
    Route("dry run", "POST", f"{JOBS}?dryRun=true", CHANGE, json=team_request()),
    Route("get", "GET", f"{JOBS}/{{job}}", READ),
    Route("status", "GET", f"{JOBS}/{{job}}/status", READ),
    Route("events", "GET", f"{JOBS}/{{job}}/events", READ),
    Route("logs", "GET", f"{JOBS}/{{job}}/logs", READ),
    Route("log stream", "GET", f"{JOBS}/{{job}}/logs/stream", READ),
    Route("stop", "POST", f"{JOBS}/{{job}}/stop", CHANGE, fresh_job=True),
    Route("delete", "DELETE", f"{JOBS}/{{job}}", CHANGE, fresh_job=True),
    Route("unknown job", "GET", f"{JOBS}/nope-00000000", (401, 401, 404, 404, 404, 404)),
    Route("clusters", "GET", CLUSTERS, ANY_ROLE),
    Route(
        "resources proxy",
        "GET",
        f"{CLUSTERS}/member1/resources?namespace={TEAM}&type=pods",
        (401, 401, 403, 403, 200, 403),
    ),
    Route("algorithms", "GET", "/api/v1/algorithms", ANY_ROLE),
    Route("health", "GET", "/health", OPEN),
    Route("health under the API prefix", "GET", "/api/v1/health", OPEN),
    Route("ready", "GET", "/ready", OPEN),
    Route("metrics (public by default)", "GET", "/metrics", OPEN),
    Route("openapi (public by default)", "GET", "/openapi.json", OPEN),
)


def caller_headers(caller: str, tokens: Tokens) -> dict[str, str]:
    """The Authorization header a caller of the matrix sends."""
    if caller == "none":
        return {}
    return bearer(getattr(tokens, caller))


async def _check_matrix(
    client: httpx.AsyncClient,
    routes: tuple[Route, ...],
    headers_of: Callable[[str], dict[str, str]],
    new_job: Callable[[], Awaitable[str]],
) -> list[str]:
    shared_job = await new_job()
    wrong = []
    for route in routes:
        for caller, expected in zip(CALLERS, route.expected, strict=True):
            job = await new_job() if route.fresh_job else shared_job
            response = await client.request(
                route.method,
                route.path.replace("{job}", job),
                json=route.json,
                headers=headers_of(caller),
            )
            if response.status_code != expected:
                wrong.append(f"{route.name} as {caller}: {response.status_code} != {expected}")
            elif expected >= 400 and response.headers["content-type"] == "application/json":
                assert set(response.json()) == {"error", "details"}, response.text
            if response.status_code == 401:
                assert response.headers["www-authenticate"] == "Bearer"
    return wrong


async def test_every_route_answers_every_caller_as_its_role_and_namespaces_allow(
    anon: httpx.AsyncClient, tokens: Tokens
) -> None:
    async def new_job() -> str:
        response = await anon.post(JOBS, json=team_request(), headers=bearer(tokens.admin))
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    wrong = await _check_matrix(
        anon, ROUTES, lambda caller: caller_headers(caller, tokens), new_job
    )
    assert not wrong, "\n".join(wrong)


async def test_docs_and_metrics_can_be_protected(
    auth_settings: Settings, app_factory: AppFactory, tokens: Tokens
) -> None:
    protected = auth_settings.model_copy(
        update={
            "auth": auth_settings.auth.model_copy(
                update={"public_docs": False, "public_metrics": False}
            )
        }
    )
    routes = (
        Route("metrics", "GET", "/metrics", ANY_ROLE),
        Route("openapi", "GET", "/openapi.json", ANY_ROLE),
        Route("docs", "GET", "/docs", ANY_ROLE),
        Route("health", "GET", "/health", OPEN),
    )
    async with app_factory(protected) as app, app_client(app) as client:

        async def no_job() -> str:
            return "unused"

        wrong = await _check_matrix(
            client, routes, lambda caller: caller_headers(caller, tokens), no_job
        )
    assert not wrong, "\n".join(wrong)
