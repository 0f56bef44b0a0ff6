"""The job policy: each rule refuses with a 403 naming it, for creates and dry runs alike."""

from __future__ import annotations

from typing import Any

import pytest

from auth.callers import TEAM, team_request
from ml_platform.config import Settings
from ml_platform.policy.settings import PolicySettings
from tests_support import AppFactory, app_client

JOBS = "/api/v1/jobs"
POLICY = PolicySettings(
    namespaces=[TEAM],
    existing_claims=["shared-datasets"],
    image_prefixes=["registry.example.com/ml/"],
    custom_entrypoints=False,
    max_cpu_cores=8,
    max_memory_gib=32,
    max_gpu_count=1,
    max_instance_count=4,
    max_volume_size_gb=100,
)


def resized(**instance: int) -> dict[str, Any]:
    body = team_request()
    body["resources"]["instanceResources"].update(instance)
    return body


def changed_resources(**resources: int) -> dict[str, Any]:
    body = team_request()
    body["resources"].update(resources)
    return body


REFUSED = [
    ("namespaces", team_request("team-b")),
    ("namespaces", team_request("kube-system")),
    ("existing_claims", team_request(pvcName="someone-elses-claim")),
    ("image_prefixes", team_request(headImage="docker.io/evil/ray:latest")),
    (
        "image_prefixes",
        team_request(
            algorithm={"source": "container", "algorithmName": "x", "imageUri": "evil.io/x:1"}
        ),
    ),
    ("custom_entrypoints", team_request(entrypoint="python other.py")),
    ("max_cpu_cores", resized(cpuCores=9)),
    ("max_memory_gib", resized(memoryGiB=33)),
    ("max_gpu_count", resized(gpuCount=2)),
    ("max_instance_count", changed_resources(instanceCount=5)),
    ("max_volume_size_gb", changed_resources(volumeSizeGB=101)),
]


@pytest.mark.parametrize(("rule", "body"), REFUSED)
async def test_a_request_breaking_a_rule_is_refused_naming_it(
    settings: Settings, app_factory: AppFactory, rule: str, body: dict[str, Any]
) -> None:
    limited = settings.model_copy(update={"policy": POLICY})
    async with app_factory(limited) as app, app_client(app) as client:
        for params in ({}, {"dryRun": "true"}):
            response = await client.post(JOBS, params=params, json=body)
            assert response.status_code == 403, response.text
            assert response.json()["details"]["rule"] == rule
            assert f"(policy {rule})" in response.json()["error"]
        assert (await client.get(JOBS)).json() == []


async def test_a_request_within_every_rule_is_accepted(
    settings: Settings, app_factory: AppFactory
) -> None:
    body = resized(cpuCores=8, memoryGiB=32, gpuCount=1)
    body["resources"].update(instanceCount=4, volumeSizeGB=100)
    body.update(pvcName="shared-datasets", headImage="registry.example.com/ml/ray:2.46.0")
    limited = settings.model_copy(update={"policy": POLICY})
    async with app_factory(limited) as app, app_client(app) as client:
        response = await client.post(JOBS, json=body)
        assert response.status_code == 201, response.text


async def test_no_policy_lets_a_job_into_the_clusters_own_namespaces(
    settings: Settings, app_factory: AppFactory
) -> None:
    # The test settings allow "*": any namespace but these.
    async with app_factory(settings) as app, app_client(app) as client:
        for namespace in ("kube-system", "kube-public", "karmada-system", "karmada-cluster"):
            response = await client.post(JOBS, json=team_request(namespace))
            assert response.status_code == 403, namespace
            assert response.json()["details"]["rule"] == "namespaces"
