"""Where each workload kind lives in the Kubernetes API (for create, list and delete)."""

from __future__ import annotations

from dataclasses import dataclass

from ml_platform.workloads.spec import WorkloadKind


@dataclass(frozen=True, slots=True)
class WorkloadApi:
    """Group, version, plural and kind of one workload resource."""

    group: str
    version: str
    plural: str
    kind: str

    @property
    def api_version(self) -> str:
        """`apiVersion` as written in a manifest (`batch/v1`, `v1` for the core group)."""
        return f"{self.group}/{self.version}" if self.group else self.version


WORKLOAD_APIS: dict[WorkloadKind, WorkloadApi] = {
    WorkloadKind.RAY_JOB: WorkloadApi("ray.io", "v1", "rayjobs", "RayJob"),
    WorkloadKind.PYTORCH_JOB: WorkloadApi("kubeflow.org", "v1", "pytorchjobs", "PyTorchJob"),
    WorkloadKind.TF_JOB: WorkloadApi("kubeflow.org", "v1", "tfjobs", "TFJob"),
    WorkloadKind.MPI_JOB: WorkloadApi("kubeflow.org", "v2beta1", "mpijobs", "MPIJob"),
    WorkloadKind.JOB: WorkloadApi("batch", "v1", "jobs", "Job"),
}

PROPAGATION_POLICY_API = WorkloadApi(
    "policy.karmada.io", "v1alpha1", "propagationpolicies", "PropagationPolicy"
)
VOLUME_CLAIM_API = WorkloadApi("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim")
