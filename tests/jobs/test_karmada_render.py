"""What the API sends to Karmada: every workload family is accepted and runs to completion, the
RayJob carries exactly the images' environment contract, hostile text stays plain data, and a
dry run renders without storing or creating anything."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
import yaml

from karmada_sim import kuberay
from karmada_sim.server import SimulatorServer
from karmada_support import KARMADA_PATHS, MEMBERS, advance, items, names
from workloads.test_environment import EXPECTED_REFERENCE_ENV

JOBS = "/api/v1/jobs"
RAYJOBS = "/apis/ray.io/v1/rayjobs"
FAMILIES = {
    "xgboost": "/apis/ray.io/v1/rayjobs",
    "lightgbm": "/apis/ray.io/v1/rayjobs",
    "pytorch": "/apis/kubeflow.org/v1/pytorchjobs",
    "tensorflow-cnn": "/apis/kubeflow.org/v1/tfjobs",
    "horovod-mpi": "/apis/kubeflow.org/v2beta1/mpijobs",
    "jax-pjit": "/apis/batch/v1/jobs",
    "container": "/apis/batch/v1/jobs",
}


def _request_for(base: dict[str, Any], algorithm: str) -> dict[str, Any]:
    body = copy.deepcopy(base)
    body["jobName"] = f"fam-{algorithm.replace('-', '')}"
    body["targetClusters"] = []
    body["hyperparameters"] = {}
    if algorithm == "container":
        body["algorithm"] = {
            "source": "container",
            "algorithmName": "my-trainer",
            "imageUri": "registry.local/team/trainer:1.0",
        }
    else:
        body["algorithm"] = {"source": "builtin", "algorithmName": algorithm}
    return body


async def test_every_workload_family_is_accepted_and_runs_to_completion(
    karmada_client: httpx.AsyncClient, simulator: SimulatorServer, ui_request: dict[str, Any]
) -> None:
    created: dict[str, dict[str, Any]] = {}
    for algorithm in FAMILIES:
        response = await karmada_client.post(JOBS, json=_request_for(ui_request, algorithm))
        assert response.status_code == 201, response.text
        job = response.json()
        assert job["status"] == "Submitted", (algorithm, job["message"])
        created[algorithm] = job
    for _ in range(4):
        advance(simulator, 60)
    for algorithm, job in created.items():
        status = (await karmada_client.get(f"{JOBS}/{job['id']}/status")).json()
        assert status["phase"] == "Succeeded", (algorithm, status)
        placed = [
            c for c in MEMBERS if job["id"] in names(simulator, FAMILIES[algorithm], cluster=c)
        ]
        assert len(placed) == 1, (algorithm, placed)
        assert list(status["clusterDistribution"]) == placed


async def test_the_ui_contract_rayjob_carries_exactly_the_environment_contract(
    karmada_client: httpx.AsyncClient, simulator: SimulatorServer, ui_request: dict[str, Any]
) -> None:
    job = (await karmada_client.post(JOBS, json=ui_request)).json()
    advance(simulator, 1)
    for where in (None, "member1"):
        (rayjob,) = items(simulator, RAYJOBS, cluster=where)
        assert rayjob["metadata"]["name"] == job["id"]
        runtime_env = yaml.safe_load(rayjob["spec"]["runtimeEnvYAML"])
        assert runtime_env["env_vars"] == EXPECTED_REFERENCE_ENV
        assert rayjob["spec"]["entrypoint"] == "python /home/ray/xgboost_train.py"


HOSTILE = 'x\'; rm -rf / #\n$(reboot) `id` {{.Values}} ${HOME} "q" \\ : - [a] ü\u202e'


async def test_hostile_strings_reach_the_simulator_as_plain_values(
    karmada_client: httpx.AsyncClient, simulator: SimulatorServer, ui_request: dict[str, Any]
) -> None:
    ui_request["entrypoint"] = f"python train.py --note {HOSTILE}"
    ui_request["customHyperparameters"] = {"NOTE": HOSTILE, "yaml_bomb": "&a [*a, *a]"}
    ui_request["inputDataConfig"][0]["prefix"] = f"iris/{HOSTILE}"
    ui_request["outputDataConfig"]["artifactUri"] = f"file:///out/{HOSTILE}"
    response = await karmada_client.post(JOBS, json=ui_request)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "Submitted"
    (rayjob,) = items(simulator, RAYJOBS)
    assert rayjob["spec"]["entrypoint"] == f"python train.py --note {HOSTILE}"
    env = kuberay.driver_env(rayjob)
    assert env["NOTE"] == HOSTILE
    assert env["YAML_BOMB"] == "&a [*a, *a]"
    assert env["S3_TRAIN_KEY"] == f"iris/{HOSTILE}"
    assert env["STORAGE_PATH"] == f"/out/{HOSTILE}"


async def test_dry_run_renders_and_stores_nothing(
    karmada_client: httpx.AsyncClient, simulator: SimulatorServer, ui_request: dict[str, Any]
) -> None:
    ui_request["targetClusters"] = []
    simulator.set_cluster_ready("member2", False)
    response = await karmada_client.post(JOBS, params={"dryRun": "true"}, json=ui_request)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [m["kind"] for m in body["manifests"]] == [
        "PropagationPolicy",
        "PersistentVolumeClaim",
        "RayJob",
    ]
    env = yaml.safe_load(body["manifests"][2]["spec"]["runtimeEnvYAML"])["env_vars"]
    assert env == EXPECTED_REFERENCE_ENV
    assert body["candidateClusters"] == ["member1"]
    assert (await karmada_client.get(JOBS)).json() == []
    assert [n for path in KARMADA_PATHS for n in names(simulator, path)] == []
    assert simulator.stats()["byVerb"].get("create", 0) == 0


@pytest.mark.parametrize("dry_run", [False, True])
async def test_unknown_target_clusters_are_422_naming_them(
    karmada_client: httpx.AsyncClient, ui_request: dict[str, Any], dry_run: bool
) -> None:
    ui_request["targetClusters"] = ["member1", "mars", "venus"]
    response = await karmada_client.post(
        JOBS, params={"dryRun": str(dry_run).lower()}, json=ui_request
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["details"] == {"unknown": ["mars", "venus"], "known": ["member1", "member2"]}
    assert "mars, venus" in body["error"]
    assert (await karmada_client.get(JOBS)).json() == []


async def test_target_clusters_are_accepted_unchecked_while_karmada_is_down(
    karmada_client: httpx.AsyncClient, simulator: SimulatorServer, ui_request: dict[str, Any]
) -> None:
    ui_request["targetClusters"] = ["mars"]
    simulator.set_faults(error_rate=1.0, error_codes=(503,))
    response = await karmada_client.post(JOBS, json=ui_request)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "Pending"
