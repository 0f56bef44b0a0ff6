"""The Karmada PropagationPolicy that places a job on exactly one candidate cluster."""

from __future__ import annotations

from ml_platform.workloads.common import Manifest, object_meta
from ml_platform.workloads.kinds import PROPAGATION_POLICY_API
from ml_platform.workloads.spec import WorkloadSpec

# Without it Karmada runs a RayJob/PyTorchJob on every selected cluster at once.
ONE_CLUSTER_SPREAD: Manifest = {"spreadByField": "cluster", "maxGroups": 1, "minGroups": 1}


def policy_name(spec: WorkloadSpec) -> str:
    """Name of the job's PropagationPolicy."""
    return f"{spec.job_id}-propagation"


def render_policy(
    spec: WorkloadSpec, *, workload: Manifest, volume_claim: Manifest | None
) -> Manifest:
    """Select the workload (and the created PVC) by name; candidates = targetClusters.

    An empty `targetClusters` leaves out clusterAffinity, so every cluster is a candidate.
    `propagateDeps` carries objects the pods reference (e.g. the credentials Secret) along.
    Replicas are Duplicated so a Job's parallelism is never divided between clusters.
    The job's priority is not the policy's `priority`: that one only decides which of several
    policies claims a resource (and a higher one takes over only with `preemption: Always`).
    """
    selectors = [_selector(spec, workload)]
    if volume_claim is not None:
        selectors.append(_selector(spec, volume_claim))
    placement: Manifest = {}
    if spec.target_clusters:
        placement["clusterAffinity"] = {"clusterNames": list(spec.target_clusters)}
    placement["spreadConstraints"] = [dict(ONE_CLUSTER_SPREAD)]
    placement["replicaScheduling"] = {"replicaSchedulingType": "Duplicated"}
    return {
        "apiVersion": PROPAGATION_POLICY_API.api_version,
        "kind": PROPAGATION_POLICY_API.kind,
        "metadata": object_meta(spec, policy_name(spec)),
        "spec": {
            "resourceSelectors": selectors,
            "propagateDeps": True,
            "placement": placement,
        },
    }


def _selector(spec: WorkloadSpec, manifest: Manifest) -> Manifest:
    return {
        "apiVersion": manifest["apiVersion"],
        "kind": manifest["kind"],
        "namespace": spec.namespace,
        "name": manifest["metadata"]["name"],
    }
