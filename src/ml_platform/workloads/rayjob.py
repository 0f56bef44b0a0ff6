"""RayJob (ray.io/v1) for the Ray-based algorithms (xgboost, lightgbm)."""

from __future__ import annotations

import yaml

from ml_platform.workloads.common import Manifest, object_meta
from ml_platform.workloads.environment import training_environment
from ml_platform.workloads.kinds import WORKLOAD_APIS
from ml_platform.workloads.pods import (
    container,
    container_env,
    instance_resources,
    pod_template,
    resolved_entrypoint,
)
from ml_platform.workloads.rendered import DriverLocator
from ml_platform.workloads.settings import WorkloadSettings
from ml_platform.workloads.spec import WorkloadKind, WorkloadSpec, WorkloadSpecError

HEAD_CONTAINER = "ray-head"
WORKER_CONTAINER = "ray-worker"
WORKER_GROUP = "workers"
# KubeRay names the submitter Job after the RayJob and its container like this.
SUBMITTER_CONTAINER = "ray-job-submitter"

HEAD_PORTS: tuple[Manifest, ...] = (
    {"containerPort": 6379, "name": "gcs-server"},
    {"containerPort": 8265, "name": "dashboard"},
    {"containerPort": 10001, "name": "client"},
)


def render_rayjob(spec: WorkloadSpec, settings: WorkloadSettings) -> Manifest:
    """The RayJob: one head plus `instance_count - 1` workers, each with the instance size.

    The environment contract travels in `runtimeEnvYAML`; credentials are in the pods' env as
    Secret references, which Ray's worker processes and the driver inherit. A one-instance job
    gets a head-only cluster (no worker group) rather than an empty group.
    """
    api = WORKLOAD_APIS[WorkloadKind.RAY_JOB]
    entrypoint = resolved_entrypoint(spec, settings)
    if entrypoint is None:
        raise WorkloadSpecError(f"no entrypoint for Ray algorithm {spec.algorithm!r}")
    cluster_spec: Manifest = {
        "rayVersion": settings.ray_version,
        "headGroupSpec": {
            "rayStartParams": _ray_start_params(spec, dashboard=True),
            "template": _ray_pod_template(spec, settings, head=True),
        },
    }
    workers = spec.instance_count - 1
    if workers > 0:
        cluster_spec["workerGroupSpecs"] = [
            {
                "groupName": WORKER_GROUP,
                "replicas": workers,
                "minReplicas": workers,
                "maxReplicas": workers,
                "rayStartParams": _ray_start_params(spec, dashboard=False),
                "template": _ray_pod_template(spec, settings, head=False),
            }
        ]
    return {
        "apiVersion": api.api_version,
        "kind": api.kind,
        "metadata": object_meta(spec, spec.job_id),
        "spec": {
            "entrypoint": entrypoint,
            "runtimeEnvYAML": runtime_env_yaml(spec, settings),
            "submissionMode": "K8sJobMode",
            "shutdownAfterJobFinishes": True,
            "ttlSecondsAfterFinished": settings.ttl_seconds_after_finished,
            "activeDeadlineSeconds": spec.max_runtime_seconds,
            "backoffLimit": 0,
            "rayClusterSpec": cluster_spec,
        },
    }


def rayjob_driver(spec: WorkloadSpec) -> DriverLocator:
    """The K8sJobMode submitter pod tails the driver log and outlives the Ray cluster."""
    return DriverLocator(label_selector=f"job-name={spec.job_id}", container=SUBMITTER_CONTAINER)


def runtime_env_yaml(spec: WorkloadSpec, settings: WorkloadSettings) -> str:
    """`runtimeEnvYAML`: the training environment serialised by the YAML library."""
    return yaml.safe_dump(
        {"env_vars": training_environment(spec, settings)},
        sort_keys=False,
        allow_unicode=True,
    )


# The submitter Job reaches the head's dashboard (Ray's job API) through the head Service, so
# the dashboard binds to the pod's own IP, which the head container gets from the downward API
# (KubeRay runs `ray start` in a shell, which expands it): reachable inside the cluster network
# only, not on every interface, and no Service of ours publishes it.
POD_IP_ENV = "POD_IP"
DASHBOARD_HOST = f"${POD_IP_ENV}"


def _ray_start_params(spec: WorkloadSpec, *, dashboard: bool) -> dict[str, str]:
    params = {"num-cpus": str(spec.cpu_cores)}
    if dashboard:
        params["dashboard-host"] = DASHBOARD_HOST
    return params


def _ray_pod_template(spec: WorkloadSpec, settings: WorkloadSettings, *, head: bool) -> Manifest:
    head_image = spec.head_image or settings.ray_image
    ray_container = container(
        name=HEAD_CONTAINER if head else WORKER_CONTAINER,
        # Workers follow a custom head image unless they have their own.
        image=head_image if head else (spec.worker_image or head_image),
        env=[
            *container_env(spec, settings, include_training_env=False),
            *(
                [{"name": POD_IP_ENV, "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]
                if head
                else []
            ),
        ],
        resources=instance_resources(spec),
        settings=settings,
        ports=HEAD_PORTS if head else (),
    )
    return pod_template(spec, [ray_container])
