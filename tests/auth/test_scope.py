"""Namespace scope, createdBy, and what each caller's list shows."""

from __future__ import annotations

import httpx

from auth.callers import OTHER_TEAM, TEAM, Tokens, bearer, team_request

JOBS = "/api/v1/jobs"
CLUSTERS = "/api/v1/proxy/clusters"


async def _create(client: httpx.AsyncClient, token: str, namespace: str) -> dict[str, object]:
    response = await client.post(JOBS, json=team_request(namespace), headers=bearer(token))
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_a_list_shows_only_the_callers_namespaces(
    anon: httpx.AsyncClient, tokens: Tokens
) -> None:
    in_a = await _create(anon, tokens.editor, TEAM)
    in_b = await _create(anon, tokens.other_editor, OTHER_TEAM)

    seen_by_b = await anon.get(JOBS, headers=bearer(tokens.other_editor))
    assert [job["id"] for job in seen_by_b.json()] == [in_b["id"]]
    seen_by_all = await anon.get(JOBS, headers=bearer(tokens.viewer))
    assert {job["id"] for job in seen_by_all.json()} == {in_a["id"], in_b["id"]}
    filtered = await anon.get(JOBS, params={"namespace": TEAM}, headers=bearer(tokens.other_editor))
    assert filtered.status_code == 403
    assert filtered.json()["details"]["allowed"] == [OTHER_TEAM]


async def test_jobs_and_their_events_record_who_asked(
    anon: httpx.AsyncClient, tokens: Tokens
) -> None:
    job = await _create(anon, tokens.editor, TEAM)
    assert job["createdBy"] == "editor"
    stopped = await anon.post(f"{JOBS}/{job['id']}/stop", headers=bearer(tokens.admin))
    assert stopped.status_code == 200, stopped.text
    events = (await anon.get(f"{JOBS}/{job['id']}/events", headers=bearer(tokens.viewer))).json()
    by_status = {event["toStatus"]: event["createdBy"] for event in events}
    assert by_status["Pending"] == "editor"
    assert by_status[stopped.json()["status"]] == "admin"


async def test_the_resources_proxy_is_limited_to_the_admins_namespaces(
    anon: httpx.AsyncClient, tokens: Tokens
) -> None:
    own = await anon.get(
        f"{CLUSTERS}/member1/resources",
        params={"namespace": TEAM, "type": "pods"},
        headers=bearer(tokens.team_admin),
    )
    assert own.status_code == 200, own.text
    other = await anon.get(
        f"{CLUSTERS}/member1/resources",
        params={"namespace": OTHER_TEAM, "type": "pods"},
        headers=bearer(tokens.team_admin),
    )
    assert other.status_code == 403
    assert other.json()["details"] == {
        "caller": "a-admin",
        "namespace": OTHER_TEAM,
        "allowed": [TEAM],
    }


async def test_bad_authorization_headers_are_401_with_the_bearer_challenge(
    anon: httpx.AsyncClient, tokens: Tokens
) -> None:
    for value in ("", "Bearer", "Bearer ", f"Basic {tokens.viewer}", tokens.viewer, "Bearer x.y.z"):
        response = await anon.get(JOBS, headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.headers["www-authenticate"] == "Bearer"
        assert tokens.viewer not in response.text
