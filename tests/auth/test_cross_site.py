"""No cross-site writes: the HTML form another site could post, foreign Origins, non-JSON."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from auth.callers import TEAM, Tokens, bearer, team_request
from ml_platform.config import Settings
from tests_support import AppFactory, app_client

JOBS = "/api/v1/jobs"


async def test_the_html_form_post_of_another_site_cannot_stop_a_job(
    karmada_app: FastAPI, ui_request: dict[str, Any]
) -> None:
    # The unauthenticated app, as the service ran before authentication existed: a page on any
    # site could stop a job with <form method=post action=".../stop"> and no CORS pre-check.
    async with app_client(karmada_app) as client:
        job = (await client.post(JOBS, json=ui_request)).json()
        form = await client.post(
            f"{JOBS}/{job['id']}/stop",
            data={"anything": "1"},
            headers={"Origin": "https://evil.example", "Referer": "https://evil.example/x"},
        )
        assert form.status_code == 415
        assert set(form.json()) == {"error", "details"}
        for content_type in ("text/plain", "multipart/form-data; boundary=x"):
            other = await client.post(
                f"{JOBS}/{job['id']}/stop",
                content=b"--x--",
                headers={"Content-Type": content_type},
            )
            assert other.status_code == 415, content_type
        after = (await client.get(f"{JOBS}/{job['id']}")).json()
        assert after["status"] == job["status"]


async def test_a_json_body_sent_as_text_plain_is_refused(
    anon: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await anon.post(
        JOBS,
        content=httpx.Request("POST", "/", json=team_request()).content,
        headers={**bearer(tokens.editor), "Content-Type": "text/plain"},
    )
    assert response.status_code == 415
    listed = await anon.get(JOBS, headers=bearer(tokens.viewer))
    assert listed.json() == []


async def test_a_foreign_origin_is_refused_and_the_own_and_allowed_ones_pass(
    auth_settings: Settings, app_factory: AppFactory, tokens: Tokens
) -> None:
    settings = auth_settings.model_copy(
        update={
            "http": auth_settings.http.model_copy(update={"cors_origins": ["https://ui.example"]})
        }
    )
    async with app_factory(settings) as app, app_client(app) as client:
        headers = bearer(tokens.editor)
        foreign = await client.post(
            JOBS, json=team_request(), headers={**headers, "Origin": "https://evil.example"}
        )
        assert foreign.status_code == 403
        assert foreign.json()["details"]["origin"] == "https://evil.example"
        for origin in ("https://ui.example", "http://testserver", "http://testserver:30181"):
            allowed = await client.post(
                JOBS, json=team_request(), headers={**headers, "Origin": origin}
            )
            assert allowed.status_code == 201, (origin, allowed.text)
        # Reads are not changed by the guard (CORS keeps their answers from foreign pages).
        read = await client.get(JOBS, headers={**headers, "Origin": "https://evil.example"})
        assert read.status_code == 200
        assert {job["namespace"] for job in read.json()} == {TEAM}


async def test_the_web_ui_behind_nginx_may_write(anon: httpx.AsyncClient, tokens: Tokens) -> None:
    # nginx passes `Host: $host`, the name without the port the browser put in Origin.
    headers = {**bearer(tokens.editor), "Origin": "http://node-1:30181", "Host": "node-1"}
    response = await anon.post(JOBS, json=team_request(), headers=headers)
    assert response.status_code == 201, response.text
    elsewhere = {**headers, "Origin": "http://node-2:30181"}
    assert (await anon.post(JOBS, json=team_request(), headers=elsewhere)).status_code == 403
    assert (
        await anon.post(JOBS, json=team_request(), headers={**headers, "Origin": "null"})
    ).status_code == 403
