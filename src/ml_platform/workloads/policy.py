"""The Karmada PropagationPolicy that places a job on exactly one candidate cluster."""

from __future__ import annotations

from ml_platform.workloads.common import Manifest, object_meta
from ml_platform.workloads.kinds import PROPAGATION_POLICY_API
from ml_platform.workloads.spec import WorkloadKind, WorkloadSpec

# Without it Karmada runs a RayJob/PyTorchJob on every selected cluster at once.
ONE_CLUSTER_SPREAD: Manifest = {"spreadByField": "cluster", "maxGroups": 1, "minGroups": 1}


def policy_name(spec: WorkloadSpec) -> str:
    """Name of the job's PropagationPolicy."""
    return f"{spec.job_id}-propagation"


# Kinds whose Karmada interpreter declares the pods' ConfigMaps, Secrets and PVCs as
# dependencies (Karmada 1.16+; batch Jobs always): with `propagateDeps` those follow the
# workload to the cluster it is scheduled to. MPIJob's interpreter has no dependencies.
FOLLOWS_DEPENDENCIES = frozenset(
    {WorkloadKind.RAY_JOB, WorkloadKind.PYTORCH_JOB, WorkloadKind.TF_JOB, WorkloadKind.JOB}
)


def render_policy(spec: WorkloadSpec, *, workload: Manifest) -> Manifest:
    """Select the workload by name; candidates = targetClusters.

    An empty `targetClusters` leaves out clusterAffinity, so every cluster is a candidate.
    `propagateDeps` carries objects the pods reference (the created PVC, the credentials
    Secret) to the workload's cluster, for kinds whose interpreter declares them.
    Replicas are Duplicated so a Job's parallelism is never divided between clusters.
    The job's priority is not the policy's `priority`: that one only decides which of several
    policies claims a resource (and a higher one takes over only with `preemption: Always`).
    """
    return {
        "apiVersion": PROPAGATION_POLICY_API.api_version,
        "kind": PROPAGATION_POLICY_API.kind,
        "metadata": object_meta(spec, policy_name(spec)),
        "spec": {
            "resourceSelectors": [_selector(spec, workload)],
            "propagateDeps": True,
            "placement": _placement(spec, one_cluster=True),
        },
    }


def claim_policy_name(spec: WorkloadSpec) -> str:
    """Name of the PropagationPolicy of the job's created PVC (kinds without dependencies)."""
    return f"{spec.job_id}-volume"


def render_claim_policy(spec: WorkloadSpec, *, volume_claim: Manifest | None) -> Manifest | None:
    """A policy that puts the created PVC on every candidate cluster, for a kind whose
    Karmada interpreter declares no dependencies (MPIJob), else None.

    Such a PVC cannot follow its workload: selected by the workload's policy it would get a
    binding of its own, scheduled apart, and could land on another cluster than the pods
    (which then stay Pending, `persistentvolumeclaim ... not found`, for good). On every
    candidate it is present wherever the workload lands; the claims of the other clusters stay
    unused (with a WaitForFirstConsumer storage class no volume is provisioned for them).
    """
    if volume_claim is None or spec.kind in FOLLOWS_DEPENDENCIES:
        return None
    return {
        "apiVersion": PROPAGATION_POLICY_API.api_version,
        "kind": PROPAGATION_POLICY_API.kind,
        "metadata": object_meta(spec, claim_policy_name(spec)),
        "spec": {
            "resourceSelectors": [_selector(spec, volume_claim)],
            "placement": _placement(spec, one_cluster=False),
        },
    }


def _placement(spec: WorkloadSpec, *, one_cluster: bool) -> Manifest:
    placement: Manifest = {}
    if spec.target_clusters:
        placement["clusterAffinity"] = {"clusterNames": list(spec.target_clusters)}
    if one_cluster:
        placement["spreadConstraints"] = [dict(ONE_CLUSTER_SPREAD)]
    placement["replicaScheduling"] = {"replicaSchedulingType": "Duplicated"}
    return placement


def _selector(spec: WorkloadSpec, manifest: Manifest) -> Manifest:
    return {
        "apiVersion": manifest["apiVersion"],
        "kind": manifest["kind"],
        "namespace": spec.namespace,
        "name": manifest["metadata"]["name"],
    }
