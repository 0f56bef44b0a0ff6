"""Where each kind ml-platform creates lives in the Kubernetes API (for create, list and delete)."""

from __future__ import annotations

from dataclasses import dataclass

from ml_platform.workloads.spec import WorkloadKind


@dataclass(frozen=True, slots=True)
class ApiResource:
    """Group, version, plural and kind of one API resource."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        """`apiVersion` as written in a manifest (`batch/v1`, `v1` for the core group)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """The REST path of the collection (all namespaces when ``namespace`` is None) or of one
        object."""
        path = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace is not None:
            path += f"/namespaces/{namespace}"
        path += f"/{self.plural}"
        return f"{path}/{name}" if name is not None else path


WORKLOAD_APIS: dict[WorkloadKind, ApiResource] = {
    WorkloadKind.RAY_JOB: ApiResource("ray.io", "v1", "rayjobs", "RayJob"),
    WorkloadKind.PYTORCH_JOB: ApiResource("kubeflow.org", "v1", "pytorchjobs", "PyTorchJob"),
    WorkloadKind.TF_JOB: ApiResource("kubeflow.org", "v1", "tfjobs", "TFJob"),
    WorkloadKind.MPI_JOB: ApiResource("kubeflow.org", "v2beta1", "mpijobs", "MPIJob"),
    WorkloadKind.JOB: ApiResource("batch", "v1", "jobs", "Job"),
}

PROPAGATION_POLICY_API = ApiResource(
    "policy.karmada.io", "v1alpha1", "propagationpolicies", "PropagationPolicy"
)
VOLUME_CLAIM_API = ApiResource("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim")
