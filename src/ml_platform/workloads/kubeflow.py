"""Pieces shared by the Kubeflow training-operator kinds (PyTorchJob, TFJob, MPIJob)."""

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

JOB_NAME_LABEL = "training.kubeflow.org/job-name"
REPLICA_TYPE_LABEL = "training.kubeflow.org/replica-type"
# A failed pod fails the job (backoffLimit 0); the operator must not restart it in place.
RESTART_POLICY = "Never"


def run_policy(spec: WorkloadSpec, settings: WorkloadSettings) -> Manifest:
    """`runPolicy`: deadline from maxRuntimeSeconds, no retries, pod cleanup, optional ttl."""
    policy: Manifest = {
        "cleanPodPolicy": settings.clean_pod_policy,
        "activeDeadlineSeconds": spec.max_runtime_seconds,
        "backoffLimit": 0,
    }
    if settings.workload_ttl_seconds_after_finished is not None:
        policy["ttlSecondsAfterFinished"] = settings.workload_ttl_seconds_after_finished
    return policy


def replica_spec(replicas: int, template: Manifest) -> Manifest:
    """One entry of a `*ReplicaSpecs` map."""
    return {"replicas": replicas, "restartPolicy": RESTART_POLICY, "template": template}


def replica_driver(spec: WorkloadSpec, *, replica_type: str, container: str) -> DriverLocator:
    """The driver is the pod of one replica type (the operator lower-cases the type)."""
    return DriverLocator(
        label_selector=(
            f"{JOB_NAME_LABEL}={spec.job_id},{REPLICA_TYPE_LABEL}={replica_type.lower()}"
        ),
        container=container,
    )


def render_leader_worker_job(
    spec: WorkloadSpec,
    settings: WorkloadSettings,
    *,
    kind: WorkloadKind,
    replica_specs_field: str,
    leader_type: str,
    container_name: str,
    default_image: str,
) -> Manifest:
    """A one-leader job: `leader_type` x1 plus Worker x(instance_count - 1), all alike.

    The Worker entry is left out for a one-instance job rather than given zero replicas, so
    the operator sees exactly the replica types that have pods.
    """
    api = WORKLOAD_APIS[kind]

    def template() -> Manifest:
        # A fresh template per replica type: no dict is shared between the two.
        return pod_template(
            spec,
            [
                container(
                    name=container_name,
                    image=spec.image or default_image,
                    env=container_env(spec, settings),
                    resources=instance_resources(spec),
                    settings=settings,
                    entrypoint=resolved_entrypoint(spec, settings),
                )
            ],
        )

    replica_specs: Manifest = {leader_type: replica_spec(1, template())}
    workers = spec.instance_count - 1
    if workers > 0:
        replica_specs["Worker"] = replica_spec(workers, template())
    return {
        "apiVersion": api.api_version,
        "kind": api.kind,
        "metadata": object_meta(spec, spec.job_id),
        "spec": {"runPolicy": run_policy(spec, settings), replica_specs_field: replica_specs},
    }
