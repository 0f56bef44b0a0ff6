"""TFJob (kubeflow.org/v1) for tensorflow-cnn, tensorflow-transformer and tf-distributed."""

from __future__ import annotations

from ml_platform.workloads.common import Manifest
from ml_platform.workloads.kubeflow import render_leader_worker_job, replica_driver
from ml_platform.workloads.rendered import DriverLocator
from ml_platform.workloads.settings import WorkloadSettings
from ml_platform.workloads.spec import WorkloadKind, WorkloadSpec

# The training operator finds the training container by this name.
CONTAINER = "tensorflow"
LEADER = "Chief"


def render_tfjob(spec: WorkloadSpec, settings: WorkloadSettings) -> Manifest:
    """Chief x1 plus Worker x(instance_count - 1), container `tensorflow`."""
    return render_leader_worker_job(
        spec,
        settings,
        kind=WorkloadKind.TF_JOB,
        replica_specs_field="tfReplicaSpecs",
        leader_type=LEADER,
        container_name=CONTAINER,
        default_image=settings.tensorflow_image,
    )


def tfjob_driver(spec: WorkloadSpec) -> DriverLocator:
    """The chief writes checkpoints and summaries; its log is the job's log."""
    return replica_driver(spec, replica_type=LEADER, container=CONTAINER)
