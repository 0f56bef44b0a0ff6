"""Requests the earlier React UI sends from its normal forms, each exactly as it sends them."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import yaml

from ml_platform.workloads.spec import MAX_OBJECT_NAME_LENGTH

JOBS = "/api/v1/jobs"
DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
UI_OTHER_ALGORITHMS = (
    "lightgbm",
    "tensorflow-cnn",
    "tensorflow-transformer",
    "tf-distributed",
    "horovod-mpi",
    "deepspeed-zero3",
    "jax-pjit",
    "torch-mpi",
)


async def dry_run(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(JOBS, params={"dryRun": "true"}, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def ray_env(rendered: dict[str, Any]) -> dict[str, str]:
    (rayjob,) = [m for m in rendered["manifests"] if m["kind"] == "RayJob"]
    env: dict[str, str] = yaml.safe_load(rayjob["spec"]["runtimeEnvYAML"])["env_vars"]
    return env


@pytest.mark.parametrize("algorithm", UI_OTHER_ALGORITHMS)
async def test_xgboost_block_sent_with_another_algorithm_is_ignored(
    client: httpx.AsyncClient, ui_request: dict[str, Any], algorithm: str
) -> None:
    ui_request["algorithm"]["algorithmName"] = algorithm
    # The UI's xgboost block is sent as is; one of its values is not even valid XGBoost.
    ui_request["hyperparameters"]["xgboost"]["max_depth"] = "deep"
    response = await client.post(JOBS, json=ui_request)
    assert response.status_code == 201, response.text
    assert response.json()["algorithm"] == algorithm
    assert response.json()["request"] == ui_request

    rendered = await dry_run(client, ui_request)
    assert "NUM_BOOST_ROUND" not in str(rendered["manifests"])


async def test_chosen_algorithm_block_is_still_validated(
    client: httpx.AsyncClient, ui_request: dict[str, Any]
) -> None:
    ui_request["algorithm"]["algorithmName"] = "lightgbm"
    ui_request["hyperparameters"]["lightgbm"] = {"num_leaves": "many"}
    response = await client.post(JOBS, json=ui_request)
    assert response.status_code == 422, response.text
    loc = response.json()["details"][0]["loc"]
    assert loc[:4] == ["body", "hyperparameters", "lightgbm", "num_leaves"]


@pytest.mark.parametrize(
    ("key", "text", "env"),
    [
        ("nthread", "4", "NTHREAD"),
        ("max_depth", "8", "MAX_DEPTH"),
        ("num_round", "250", "NUM_BOOST_ROUND"),
    ],
)
async def test_integer_hyperparameter_sent_as_decimal_text(
    client: httpx.AsyncClient, ui_request: dict[str, Any], key: str, text: str, env: str
) -> None:
    ui_request["hyperparameters"]["xgboost"][key] = text
    response = await client.post(JOBS, json=ui_request)
    assert response.status_code == 201, response.text
    assert ray_env(await dry_run(client, ui_request))[env] == text


@pytest.mark.parametrize("text", ["0", "-4", "4.0", " 4", "four", "1025"])
async def test_thread_count_text_that_is_no_positive_integer_is_422(
    client: httpx.AsyncClient, ui_request: dict[str, Any], text: str
) -> None:
    ui_request["hyperparameters"]["xgboost"]["nthread"] = text
    response = await client.post(JOBS, json=ui_request)
    assert response.status_code == 422, response.text
    loc = response.json()["details"][0]["loc"]
    assert loc[:4] == ["body", "hyperparameters", "xgboost", "nthread"]


@pytest.mark.parametrize("job_name", ["1-xgb", "7", "a" * 40, "9" + "x" * 61 + "9"])
async def test_job_names_of_up_to_63_characters_that_may_start_with_a_digit(
    client: httpx.AsyncClient, ui_request: dict[str, Any], job_name: str
) -> None:
    ui_request["jobName"] = job_name
    response = await client.post(JOBS, json=ui_request)
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["jobName"] == job_name
    assert len(job["id"]) <= MAX_OBJECT_NAME_LENGTH
    assert DNS_1035_LABEL.match(job["id"]), job["id"]

    rendered = await dry_run(client, ui_request)
    for manifest in rendered["manifests"]:
        name = manifest["metadata"]["name"]
        assert len(name) <= 63, name
        assert DNS_1035_LABEL.match(name), name
        assert manifest["metadata"]["labels"]["ml-platform.io/job-id"] in name
    assert ray_env(rendered)["RUN_NAME"] == job_name


async def test_early_stopping_rounds_zero_means_off(
    client: httpx.AsyncClient, ui_request: dict[str, Any]
) -> None:
    ui_request["hyperparameters"]["xgboost"]["early_stopping_rounds"] = 0
    response = await client.post(JOBS, json=ui_request)
    assert response.status_code == 201, response.text
    assert response.json()["request"] == ui_request
    # The images read an empty EARLY_STOPPING_ROUNDS as "no early stopping", as for null.
    assert ray_env(await dry_run(client, ui_request))["EARLY_STOPPING_ROUNDS"] == ""


async def test_upload_channel_with_empty_prefix_is_422_naming_the_channel(
    client: httpx.AsyncClient, ui_request: dict[str, Any]
) -> None:
    ui_request["inputDataConfig"][0] = {
        "id": "channel-u1p2l3o4a",
        "channelName": "train",
        "sourceType": "upload",
        "prefix": "",
    }
    response = await client.post(JOBS, json=ui_request)
    assert response.status_code == 422, response.text
    body = response.json()
    assert "'train'" in body["error"]
    assert body["details"][0]["loc"] == ["body", "inputDataConfig", 0]
    assert (await client.get(JOBS)).json() == []


@pytest.mark.parametrize("missing", ["prefix", "bucket"])
async def test_object_storage_channel_without_a_path_is_422_naming_the_channel(
    client: httpx.AsyncClient, ui_request: dict[str, Any], missing: str
) -> None:
    ui_request["inputDataConfig"][1][missing] = ""
    response = await client.post(JOBS, json=ui_request)
    assert response.status_code == 422, response.text
    assert f"'validation' has no {missing}" in response.json()["error"]


async def test_health_is_served_under_the_api_prefix(client: httpx.AsyncClient) -> None:
    under_prefix = await client.get("/api/v1/health")
    assert under_prefix.status_code == 200, under_prefix.text
    plain = (await client.get("/health")).json()
    prefixed = under_prefix.json()
    # Database latency differs between two calls; everything else is the same answer.
    for body in (plain, prefixed):
        body["components"]["database"].pop("latencyMs", None)
    assert prefixed == plain
