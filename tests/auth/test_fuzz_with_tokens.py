"""The hostile-input fuzz of tests/jobs/test_fuzz.py with authentication on: with a valid token
it reaches the job routes (creates succeed wherever the value is valid, nothing is a 5xx), and
with an invalid token every route of the OpenAPI schema answers 401 whatever it is sent."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import FastAPI

from auth.callers import TEAM, Tokens, bearer, team_request
from auth.conftest import with_auth
from jobs.test_fuzz import HOSTILE_VALUES, leaf_paths
from ml_platform.config import Settings
from tests_support import AppFactory, app_client

JOBS = "/api/v1/jobs"
PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def replaced(body: dict[str, Any], path: tuple[str | int, ...], new: Any) -> dict[str, Any]:
    changed = team_request()
    target: Any = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = new
    return changed


async def test_hostile_creates_with_a_valid_token_reach_the_job_routes(
    settings: Settings, app_factory: AppFactory, tokens: Tokens
) -> None:
    # Without Karmada: creates are stored and wait, so a thousand of them stay fast.
    async with app_factory(with_auth(settings, tokens)) as app, app_client(app) as client:
        await _fuzz_creates(client, tokens)


async def _fuzz_creates(anon: httpx.AsyncClient, tokens: Tokens) -> None:
    headers = bearer(tokens.editor)
    body = team_request()
    failures = []
    created: list[str] = []
    for path in leaf_paths(body):
        for value in HOSTILE_VALUES:
            response = await anon.post(JOBS, json=replaced(body, path, value), headers=headers)
            if response.status_code >= 500 or response.status_code in (401, 415):
                failures.append((path, value, response.status_code))
            if response.status_code == 201:
                created.append(response.json()["id"])
    assert not failures, failures[:10]
    # Fields where a hostile value is still valid (0, "", None in optional fields, ...).
    assert len(created) > 50
    for job_id in created[:20]:
        for method, suffix in (("GET", ""), ("GET", "/status"), ("POST", "/stop"), ("DELETE", "")):
            response = await anon.request(method, f"{JOBS}/{job_id}{suffix}", headers=headers)
            assert response.status_code < 500, (method, suffix, response.text)


def _concrete(path: str, value: str) -> str:
    return PATH_PARAMETER.sub(value, path)


async def test_every_route_answers_401_to_an_invalid_token_whatever_it_is_sent(
    auth_app: FastAPI, anon: httpx.AsyncClient, tokens: Tokens
) -> None:
    schema = auth_app.openapi()
    # Everything under the API prefix but the health check the earlier UI calls there.
    guarded = [p for p in schema["paths"] if p.startswith("/api/v1") and p != "/api/v1/health"]
    assert len(guarded) >= 10
    answers = []
    for path in guarded:
        for method in schema["paths"][path]:
            # Values that still route to the path (an unrouted path is a 404 for anyone).
            for value in ("x", "nope-00000000", "%00", "a" * 300, "%2e%2e", "ü-名前"):
                for body in (None, team_request(), {"jobName": None}, [1, 2]):
                    response = await anon.request(
                        method.upper(),
                        _concrete(path, value),
                        params={"namespace": TEAM, "dryRun": "true", "limit": "-1"},
                        json=body,
                        headers=bearer(tokens.bad),
                    )
                    answers.append((method, path, response.status_code))
    assert {status for _, _, status in answers} == {401}, [a for a in answers if a[2] != 401][:5]
    listed = await anon.get(JOBS, headers=bearer(tokens.viewer))
    assert listed.json() == []
