"""Indexed batch/v1 Job for jax-pjit and for container algorithms (`imageUri`)."""

from __future__ import annotations

from ml_platform.workloads.common import Manifest, object_meta
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
from ml_platform.workloads.spec import WorkloadKind, WorkloadSpec

CONTAINER = "trainer"
COMPLETION_INDEX_LABEL = "batch.kubernetes.io/job-completion-index"


def render_batchjob(spec: WorkloadSpec, settings: WorkloadSettings) -> Manifest:
    """One pod per instance, all at once, each told its rank by JOB_COMPLETION_INDEX."""
    api = WORKLOAD_APIS[WorkloadKind.JOB]
    job_spec: Manifest = {
        "completionMode": "Indexed",
        "completions": spec.instance_count,
        "parallelism": spec.instance_count,
        "backoffLimit": 0,
        "activeDeadlineSeconds": spec.max_runtime_seconds,
        "template": pod_template(
            spec,
            [
                container(
                    name=CONTAINER,
                    image=spec.image or settings.job_image,
                    env=container_env(spec, settings),
                    resources=instance_resources(spec),
                    settings=settings,
                    entrypoint=resolved_entrypoint(spec, settings),
                )
            ],
            restart_policy="Never",
        ),
    }
    if settings.workload_ttl_seconds_after_finished is not None:
        job_spec["ttlSecondsAfterFinished"] = settings.workload_ttl_seconds_after_finished
    return {
        "apiVersion": api.api_version,
        "kind": api.kind,
        "metadata": object_meta(spec, spec.job_id),
        "spec": job_spec,
    }


def batchjob_driver(spec: WorkloadSpec) -> DriverLocator:
    """Index 0 is rank 0. `job-name` is set on Job pods by every Kubernetes version."""
    return DriverLocator(
        label_selector=f"job-name={spec.job_id},{COMPLETION_INDEX_LABEL}=0", container=CONTAINER
    )
