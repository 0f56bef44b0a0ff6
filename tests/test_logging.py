"""One JSON log line per request, with request id and the job id of job operations."""

from __future__ import annotations

import io

import httpx

from tests_support import log_lines as lines


async def test_request_line_has_request_and_job_ids(
    client: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    response = await client.get("/api/v1/jobs/missing-00000000", headers={"X-Request-ID": "r-1"})
    assert response.status_code == 404
    requests = [line for line in lines(json_log) if line["event"] == "http.request"]
    assert len(requests) == 1
    line = requests[0]
    assert line["request_id"] == "r-1"
    assert line["job_id"] == "missing-00000000"
    assert line["method"] == "GET"
    assert line["path"] == "/api/v1/jobs/missing-00000000"
    assert line["status"] == 404
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "info"


async def test_job_id_does_not_leak_into_the_next_request(
    client: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    await client.get("/api/v1/jobs/one-00000000")
    await client.get("/health")
    requests = [line for line in lines(json_log) if line["event"] == "http.request"]
    assert "job_id" in requests[0]
    assert "job_id" not in requests[1]
