"""RayJob (ray.io/v1) for the Ray-based algorithms (xgboost, lightgbm)."""

from __future__ import annotations

import yaml

from ml_platform.workloads.common import Manifest, env_entries, object_meta
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

# Characters bash still acts on inside double quotes (`\` and `"` are escaped by KubeRay).
_SHELL_EXPANDED = ("$", "`")

HEAD_PORTS: tuple[Manifest, ...] = (
    {"containerPort": 6379, "name": "gcs-server"},
    {"containerPort": 8265, "name": "dashboard"},
    {"containerPort": 10001, "name": "client"},
)


def render_rayjob(spec: WorkloadSpec, settings: WorkloadSettings) -> Manifest:
    """The RayJob: one head plus `instance_count - 1` workers, each with the instance size.

    The environment contract travels in `runtimeEnvYAML`; credentials are in the pods' env as
    Secret references, which Ray's worker processes and the driver inherit, and so are values
    bash would expand in KubeRay's submitter script (see `split_environment`). A one-instance
    job gets a head-only cluster (no worker group) rather than an empty group.
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
            "runtimeEnvYAML": runtime_env_yaml(split_environment(spec, settings)[0]),
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


def split_environment(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> tuple[dict[str, str], dict[str, str]]:
    """The training environment as (runtime env vars, pod env vars).

    KubeRay splices the runtime env into its submitter's bash script inside double quotes
    (`strconv.Quote`), where bash still runs `$(...)` and backticks and expands `${...}`; a
    value with `$` or a backtick therefore goes into the Ray containers' env instead, which
    the driver and the workers inherit.
    """
    runtime: dict[str, str] = {}
    pods: dict[str, str] = {}
    for name, value in training_environment(spec, settings).items():
        target = pods if any(char in value for char in _SHELL_EXPANDED) else runtime
        target[name] = value
    return runtime, pods


def runtime_env_yaml(env_vars: dict[str, str]) -> str:
    """`runtimeEnvYAML` with every value double-quoted: KubeRay reads it with YAML 1.1 rules,
    under which plain `1e-05`, `y` or `0o17` are not strings, and Ray refuses env vars that
    are not strings."""
    return yaml.safe_dump(
        {"env_vars": env_vars}, sort_keys=False, allow_unicode=True, default_style='"'
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
        env=env_entries(split_environment(spec, settings)[1])
        + container_env(spec, settings, include_training_env=False)
        + (
            [{"name": POD_IP_ENV, "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]
            if head
            else []
        ),
        resources=instance_resources(spec),
        settings=settings,
        ports=HEAD_PORTS if head else (),
    )
    return pod_template(spec, [ray_container])
