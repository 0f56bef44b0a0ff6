"""Containers and pod templates, identical in structure for every workload kind."""

from __future__ import annotations

from collections.abc import Sequence

from ml_platform.workloads.common import (
    Manifest,
    credential_env_entries,
    env_entries,
    job_labels,
    resource_requirements,
    secret_env_entries,
    shell_command,
)
from ml_platform.workloads.environment import training_environment
from ml_platform.workloads.settings import WorkloadSettings
from ml_platform.workloads.spec import WorkloadSpec
from ml_platform.workloads.volume import results_volume, results_volume_mount


def container_env(
    spec: WorkloadSpec, settings: WorkloadSettings, *, include_training_env: bool = True
) -> list[Manifest]:
    """Container `env`: the training environment (optional), then the credential references
    (object storage, then the request's ``secretEnv``)."""
    plain = env_entries(training_environment(spec, settings)) if include_training_env else []
    return plain + credential_env_entries(settings) + secret_env_entries(spec.secret_env)


def instance_resources(spec: WorkloadSpec) -> Manifest:
    """The per-instance `resources` block of the request."""
    return resource_requirements(
        cpu_cores=spec.cpu_cores, memory_gib=spec.memory_gib, gpu_count=spec.gpu_count
    )


def container(
    *,
    name: str,
    image: str,
    env: list[Manifest],
    resources: Manifest,
    settings: WorkloadSettings,
    entrypoint: str | None = None,
    ports: Sequence[Manifest] = (),
) -> Manifest:
    """One training container with the results volume mounted."""
    built: Manifest = {
        "name": name,
        "image": image,
        "imagePullPolicy": settings.image_pull_policy,
    }
    if entrypoint is not None:
        built["command"] = shell_command(entrypoint)
    if ports:
        built["ports"] = [dict(port) for port in ports]
    built["env"] = env
    built["resources"] = resources
    built["volumeMounts"] = [results_volume_mount(settings)]
    return built


def pod_template(
    spec: WorkloadSpec, containers: list[Manifest], *, restart_policy: str | None = None
) -> Manifest:
    """A pod template with the job's labels and the results volume."""
    pod_spec: Manifest = {"containers": containers, "volumes": [results_volume(spec)]}
    if restart_policy is not None:
        pod_spec["restartPolicy"] = restart_policy
    return {"metadata": {"labels": job_labels(spec)}, "spec": pod_spec}


def resolved_entrypoint(spec: WorkloadSpec, settings: WorkloadSettings) -> str | None:
    """The request's entrypoint, else the algorithm's default, else None (image command)."""
    if spec.entrypoint:
        return spec.entrypoint
    return settings.default_entrypoints.get(spec.algorithm)
