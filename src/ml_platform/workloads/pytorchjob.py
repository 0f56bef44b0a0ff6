"""PyTorchJob (kubeflow.org/v1) for pytorch and deepspeed-zero3."""

from __future__ import annotations

from ml_platform.workloads.common import Manifest
from ml_platform.workloads.kubeflow import render_leader_worker_job, replica_driver
from ml_platform.workloads.rendered import DriverLocator
from ml_platform.workloads.settings import WorkloadSettings
from ml_platform.workloads.spec import WorkloadKind, WorkloadSpec

# The training operator finds the training container by this name.
CONTAINER = "pytorch"
LEADER = "Master"


def render_pytorchjob(spec: WorkloadSpec, settings: WorkloadSettings) -> Manifest:
    """Master x1 plus Worker x(instance_count - 1), container `pytorch`."""
    return render_leader_worker_job(
        spec,
        settings,
        kind=WorkloadKind.PYTORCH_JOB,
        replica_specs_field="pytorchReplicaSpecs",
        leader_type=LEADER,
        container_name=CONTAINER,
        default_image=settings.pytorch_image,
    )


def pytorchjob_driver(spec: WorkloadSpec) -> DriverLocator:
    """Rank 0 runs in the master pod."""
    return replica_driver(spec, replica_type=LEADER, container=CONTAINER)
