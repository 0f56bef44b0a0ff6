"""GET /api/v1/jobs/counts: jobs per status under the list's filters, in one query."""

from __future__ import annotations

import httpx


async def test_job_counts_follow_the_lists_filters(client: httpx.AsyncClient) -> None:
    request = {
        "algorithm": {"source": "builtin", "algorithmName": "xgboost"},
        "resources": {"instanceResources": {"cpuCores": 1, "memoryGiB": 1}},
    }
    for name, namespace in (("a", "team-a"), ("b", "team-a"), ("c", "team-b")):
        created = await client.post(
            "/api/v1/jobs", json={**request, "jobName": name, "namespace": namespace}
        )
        assert created.status_code == 201
    stopped = (await client.get("/api/v1/jobs", params={"q": "c"})).json()[0]
    assert (await client.post(f"/api/v1/jobs/{stopped['id']}/stop")).status_code == 200

    everything = (await client.get("/api/v1/jobs/counts")).json()
    assert everything["total"] == 3
    assert sum(everything["counts"].values()) == 3
    assert everything["counts"].get("Stopped") == 1
    team_a = (await client.get("/api/v1/jobs/counts", params={"namespace": "team-a"})).json()
    assert team_a["total"] == 2
    assert "Stopped" not in team_a["counts"]
    named = (await client.get("/api/v1/jobs/counts", params={"q": "b-"})).json()
    assert named["total"] == 1
