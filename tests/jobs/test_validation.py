"""Every class of bad input gets its 4xx with ``{"error", "details"}``, never a 5xx."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import httpx
import pytest

JOBS = "/api/v1/jobs"

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(body: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target = body
        for part in parents:
            target = target[part]
        target[leaf] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(body: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target = body
        for part in parents:
            target = target[part]
        del target[leaf]

    return mutate


INVALID: dict[str, Mutation] = {
    "jobName uppercase": _set("jobName", "Iris"),
    "jobName ends with dash": _set("jobName", "iris-"),
    "jobName underscore": _set("jobName", "iris_xgb"),
    "jobName too long": _set("jobName", "a" * 64),
    "jobName empty": _set("jobName", ""),
    "jobName missing": _delete("jobName"),
    "jobName not a string": _set("jobName", 5),
    "namespace uppercase": _set("namespace", "Default"),
    "namespace too long": _set("namespace", "a" * 64),
    "namespace dots": _set("namespace", "a.b"),
    "cpuCores 0": _set("resources.instanceResources.cpuCores", 0),
    "cpuCores 257": _set("resources.instanceResources.cpuCores", 257),
    "memoryGiB 0": _set("resources.instanceResources.memoryGiB", 0),
    "memoryGiB 4097": _set("resources.instanceResources.memoryGiB", 4097),
    "gpuCount -1": _set("resources.instanceResources.gpuCount", -1),
    "gpuCount 65": _set("resources.instanceResources.gpuCount", 65),
    "instanceCount 0": _set("resources.instanceCount", 0),
    "instanceCount 1001": _set("resources.instanceCount", 1001),
    "volumeSizeGB -1": _set("resources.volumeSizeGB", -1),
    "volumeSizeGB 65537": _set("resources.volumeSizeGB", 65537),
    "maxRuntimeSeconds 0": _set("stoppingCondition.maxRuntimeSeconds", 0),
    "maxRuntimeSeconds over 30 days": _set("stoppingCondition.maxRuntimeSeconds", 2592001),
    "priority negative": _set("priority", -1),
    "priority too large": _set("priority", 1_000_001),
    "unknown top-level field": _set("surprise", 1),
    "unknown nested field": _set("resources.instanceResources.tpu", 1),
    "resources missing": _delete("resources"),
    "algorithm source unknown": _set("algorithm.source", "magic"),
    "container without imageUri": _set(
        "algorithm", {"source": "container", "algorithmName": "mine"}
    ),
    "custom key not an env name": _set("customHyperparameters", {"1BAD": "x"}),
    "custom key with dash": _set("customHyperparameters", {"A-B": "x"}),
    "custom value object": _set("customHyperparameters", {"A": {"b": 1}}),
    "custom value list": _set("customHyperparameters", {"A": [1]}),
    "targetClusters not list": _set("targetClusters", "member1"),
    "targetClusters bad name": _set("targetClusters", ["Member 1"]),
    "inputDataConfig not list": _set("inputDataConfig", {}),
    "hyperparameter wrong type": _set("hyperparameters.xgboost.num_round", "many"),
    "hyperparameter unknown key": _set("hyperparameters.xgboost.no_such_param", 1),
    "unknown algorithm": _set("algorithm.algorithmName", "sklearn"),
    "builtin named container": _set("algorithm.algorithmName", "container"),
    "pvcName invalid": _set("pvcName", "Bad_PVC"),
    "body is a list": lambda body: None,
}


@pytest.mark.parametrize("case", sorted(INVALID))
async def test_invalid_request_is_422(
    client: httpx.AsyncClient, ui_request: dict[str, Any], case: str
) -> None:
    body: Any = copy.deepcopy(ui_request)
    INVALID[case](body)
    if case == "body is a list":
        body = [body]
    response = await client.post(JOBS, json=body)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert set(payload) == {"error", "details"}
    assert payload["error"]
    assert "\n" not in payload["error"]
    assert (await client.get(JOBS)).json() == []


async def test_validation_details_name_the_field(
    client: httpx.AsyncClient, ui_request: dict[str, Any]
) -> None:
    ui_request["resources"]["instanceResources"]["cpuCores"] = 0
    payload = (await client.post(JOBS, json=ui_request)).json()
    assert payload["details"][0]["loc"] == ["body", "resources", "instanceResources", "cpuCores"]
    assert "cpuCores" in payload["error"]
    assert set(payload["details"][0]) == {"loc", "msg", "type"}


async def test_unknown_algorithm_lists_supported(
    client: httpx.AsyncClient, ui_request: dict[str, Any]
) -> None:
    ui_request["algorithm"]["algorithmName"] = "sklearn"
    ui_request["hyperparameters"] = {}
    payload = (await client.post(JOBS, json=ui_request)).json()
    assert "sklearn" in payload["error"]
    assert "xgboost" in payload["error"]
    assert "lightgbm" in payload["details"]["supported"]


async def test_hyperparameter_error_points_into_hyperparameters(
    client: httpx.AsyncClient, ui_request: dict[str, Any]
) -> None:
    ui_request["hyperparameters"]["xgboost"]["max_depth"] = "deep"
    payload = (await client.post(JOBS, json=ui_request)).json()
    assert payload["details"][0]["loc"][:4] == ["body", "hyperparameters", "xgboost", "max_depth"]


async def test_job_name_of_38_characters_is_accepted(
    client: httpx.AsyncClient, ui_request: dict[str, Any]
) -> None:
    ui_request["jobName"] = "a" + "b" * 36 + "c"
    response = await client.post(JOBS, json=ui_request)
    assert response.status_code == 201, response.text
    assert len(response.json()["id"]) == 47


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"jobName": }', b"not json", b'{"a": 1,}', b"\xff\xfe"],
)
async def test_malformed_json_is_400(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.post(JOBS, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"error", "details"}


async def test_body_over_1_mib_is_413(client: httpx.AsyncClient) -> None:
    raw = b'{"jobName": "' + b"a" * (1024 * 1024) + b'"}'
    response = await client.post(JOBS, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text
    assert set(response.json()) == {"error", "details"}


async def test_streamed_body_over_1_mib_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> Any:
        yield b'{"jobName": "'
        for _ in range(20):
            yield b"a" * 65536
        yield b'"}'

    response = await client.post(
        JOBS, content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert set(response.json()) == {"error", "details"}


async def test_wrong_content_type_is_4xx(client: httpx.AsyncClient) -> None:
    response = await client.post(JOBS, content=b"jobName=x", headers={"content-type": "text/plain"})
    assert 400 <= response.status_code < 500
    assert set(response.json()) == {"error", "details"}


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing")
    assert missing.status_code == 404
    assert set(missing.json()) == {"error", "details"}
    wrong_method = await client.put(JOBS)
    assert wrong_method.status_code == 405
    assert set(wrong_method.json()) == {"error", "details"}


@pytest.mark.parametrize(
    "key",
    ["", "k" * 256],
)
async def test_bad_idempotency_key_is_422(
    client: httpx.AsyncClient, ui_request: dict[str, Any], key: str
) -> None:
    response = await client.post(JOBS, json=ui_request, headers={"Idempotency-Key": key})
    assert response.status_code == 422, response.text


HOSTILE_BODIES: dict[str, bytes] = {
    "NUL in a free string": b'{"jobName": "a", "entrypoint": "x\\u0000y"}',
    "NUL in hyperparameters": (
        b'{"jobName": "a", "algorithm": {"source": "builtin", "algorithmName": "lightgbm"},'
        b' "resources": {"instanceResources": {"cpuCores": 1, "memoryGiB": 1}},'
        b' "hyperparameters": {"lightgbm": {"x": "\\u0000"}}}'
    ),
    "NaN custom value": b'{"jobName": "a", "customHyperparameters": {"A": NaN}}',
    "Infinity priority": b'{"jobName": "a", "priority": Infinity}',
    "huge integer": b'{"jobName": "a", "priority": 1' + b"0" * 400 + b"}",
    "deep nesting": b'{"jobName": "a", "hyperparameters": {"x": '
    + b"[" * 5000
    + b"]" * 5000
    + b"}}",
    "lone surrogate": b'{"jobName": "\\ud800"}',
    "wrong types everywhere": b'{"jobName": [], "algorithm": 1, "resources": "big"}',
    "null body": b"null",
    "string body": b'"hello"',
    "empty object": b"{}",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_BODIES))
async def test_hostile_body_is_4xx(client: httpx.AsyncClient, case: str) -> None:
    response = await client.post(
        JOBS, content=HOSTILE_BODIES[case], headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) == {"error", "details"}


@pytest.mark.parametrize(
    "path",
    [
        f"{JOBS}/a%00b",
        f"{JOBS}/{'x' * 5000}",
        f"{JOBS}/%F0%9F%92%A5",
        f"{JOBS}?q=%00",
        f"{JOBS}?namespace=%00",
        f"{JOBS}?cursor=WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwgImFcdTAwMDAiXQ",
        f"{JOBS}?limit=99999999999999999999999",
    ],
)
async def test_hostile_paths_and_queries_are_4xx(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) == {"error", "details"}
