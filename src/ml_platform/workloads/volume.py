"""The results volume: the request's own PVC, one the service creates, or scratch space."""

from __future__ import annotations

from ml_platform.workloads.common import Manifest, object_meta
from ml_platform.workloads.kinds import VOLUME_CLAIM_API
from ml_platform.workloads.settings import WorkloadSettings
from ml_platform.workloads.spec import WorkloadSpec

RESULTS_VOLUME_NAME = "results"


def created_claim_name(spec: WorkloadSpec) -> str:
    """Name of the PVC the service creates for the job."""
    return f"{spec.job_id}-results"


def needs_volume_claim(spec: WorkloadSpec) -> bool:
    """Whether the service must create a PVC: a size was asked for and no claim was named."""
    return spec.pvc_name is None and spec.volume_size_gb > 0


def claim_name(spec: WorkloadSpec) -> str | None:
    """The PVC the pods mount, or None when the job writes results to scratch space."""
    if spec.pvc_name is not None:
        return spec.pvc_name
    if needs_volume_claim(spec):
        return created_claim_name(spec)
    return None


def render_volume_claim(spec: WorkloadSpec, settings: WorkloadSettings) -> Manifest | None:
    """The PVC to create with the job, or None when none is needed."""
    if not needs_volume_claim(spec):
        return None
    claim_spec: Manifest = {
        "accessModes": list(settings.volume_access_modes),
        # volumeSizeGB is read as GiB: a little more than asked, never less.
        "resources": {"requests": {"storage": f"{spec.volume_size_gb}Gi"}},
    }
    if settings.volume_storage_class is not None:
        claim_spec["storageClassName"] = settings.volume_storage_class
    return {
        "apiVersion": VOLUME_CLAIM_API.api_version,
        "kind": VOLUME_CLAIM_API.kind,
        "metadata": object_meta(spec, created_claim_name(spec)),
        "spec": claim_spec,
    }


def results_volume(spec: WorkloadSpec) -> Manifest:
    """The pod `volumes` entry: the claim, or an emptyDir so the mount path always exists."""
    claim = claim_name(spec)
    if claim is None:
        return {"name": RESULTS_VOLUME_NAME, "emptyDir": {}}
    return {"name": RESULTS_VOLUME_NAME, "persistentVolumeClaim": {"claimName": claim}}


def results_volume_mount(settings: WorkloadSettings) -> Manifest:
    """The container `volumeMounts` entry for the results volume."""
    return {"name": RESULTS_VOLUME_NAME, "mountPath": settings.results_mount_path}
