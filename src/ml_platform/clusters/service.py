"""Member clusters and read-only listings of what runs in them (through Karmada's proxy)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ml_platform.clusters.directory import ClusterDirectory
from ml_platform.clusters.schemas import (
    ClusterResourcesResponse,
    ClusterResponse,
    ResourceSummary,
    capacity,
)
from ml_platform.errors import InvalidRequestError, NotFoundError
from ml_platform.karmada.gateway import ClusterInfo, KarmadaGateway
from ml_platform.workloads.kinds import VOLUME_CLAIM_API, WORKLOAD_APIS, ApiResource
from ml_platform.workloads.spec import WorkloadKind

# What the resources view may list. Secrets are deliberately absent: never list them.
RESOURCE_TYPES: dict[str, ApiResource] = {
    "pods": ApiResource("", "v1", "pods", "Pod"),
    "services": ApiResource("", "v1", "services", "Service"),
    "configmaps": ApiResource("", "v1", "configmaps", "ConfigMap"),
    "persistentvolumeclaims": VOLUME_CLAIM_API,
    "events": ApiResource("", "v1", "events", "Event"),
    "jobs": WORKLOAD_APIS[WorkloadKind.JOB],
    "rayjobs": WORKLOAD_APIS[WorkloadKind.RAY_JOB],
    "rayclusters": ApiResource("ray.io", "v1", "rayclusters", "RayCluster"),
    "pytorchjobs": WORKLOAD_APIS[WorkloadKind.PYTORCH_JOB],
    "tfjobs": WORKLOAD_APIS[WorkloadKind.TF_JOB],
    "mpijobs": WORKLOAD_APIS[WorkloadKind.MPI_JOB],
}


def cluster_response(info: ClusterInfo) -> ClusterResponse:
    """The wire shape of one cluster."""
    return ClusterResponse(
        name=info.name,
        ready=info.ready,
        region=info.region,
        zone=info.zone,
        kubernetes_version=info.kubernetes_version,
        capacity=capacity(dict(info.allocatable)),
        allocated=capacity(dict(info.allocated)),
    )


async def list_clusters(
    *, gateway: KarmadaGateway, directory: ClusterDirectory
) -> list[ClusterResponse]:
    """Every member cluster, sorted by name."""
    clusters = await directory.clusters(gateway)
    return [cluster_response(info) for info in sorted(clusters, key=lambda c: c.name)]


def _known_names(clusters: Sequence[ClusterInfo]) -> list[str]:
    return sorted(info.name for info in clusters)


async def check_clusters(
    *, gateway: KarmadaGateway, directory: ClusterDirectory, names: Sequence[str], field: str
) -> None:
    """422 naming the clusters among ``names`` Karmada does not know (a cluster given as a
    request parameter, ``field``), with the known ones in ``details``; 503 when Karmada cannot
    be asked."""
    known = _known_names(await directory.clusters(gateway))
    unknown = sorted(set(names) - set(known))
    if unknown:
        shown = [name[:253] for name in unknown]
        raise InvalidRequestError(
            f"unknown {field}: {', '.join(shown)}; known: {', '.join(known) or 'none'}",
            {"unknown": shown, "known": known},
        )


async def require_cluster(
    *, gateway: KarmadaGateway, directory: ClusterDirectory, cluster: str
) -> ClusterInfo:
    """The cluster named in a URL path, or 404 listing the known ones."""
    clusters = await directory.clusters(gateway)
    for info in clusters:
        if info.name == cluster:
            return info
    known = _known_names(clusters)
    raise NotFoundError(
        f"cluster {cluster[:253]!r} not found; known: {', '.join(known) or 'none'}",
        {"cluster": cluster[:253], "known": known},
    )


def resource_type(name: str) -> ApiResource:
    """The allowed resource type ``name``, or 422 listing the allowed ones."""
    resource = RESOURCE_TYPES.get(name)
    if resource is None:
        allowed = sorted(RESOURCE_TYPES)
        raise InvalidRequestError(
            f"type {name[:63]!r} is not allowed; allowed: {', '.join(allowed)}",
            {"allowed": allowed},
        )
    return resource


def _state(status: Mapping[str, Any]) -> str | None:
    """A one-word state for the kinds that have one (pods, RayJobs, Jobs, Kubeflow jobs)."""
    for key in ("phase", "jobDeploymentStatus", "state"):
        value = status.get(key)
        if isinstance(value, str) and value:
            return value
    conditions = [c for c in status.get("conditions") or () if isinstance(c, Mapping)]
    current = [c for c in conditions if c.get("status") == "True"]
    if current and isinstance(current[-1].get("type"), str):
        return str(current[-1]["type"])
    if isinstance(status.get("active"), int) and status["active"] > 0:
        return "Running"
    return None


def summarise(item: Mapping[str, Any], kind: str) -> ResourceSummary:
    """Name, namespace, state, labels and age of an object; never its data or spec."""
    metadata = item.get("metadata") or {}
    status = item.get("status")
    labels = metadata.get("labels") or {}
    return ResourceSummary(
        name=str(metadata.get("name", "")),
        namespace=metadata.get("namespace"),
        kind=kind,
        status=_state(status) if isinstance(status, Mapping) else None,
        labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
        creation_timestamp=metadata.get("creationTimestamp"),
    )


async def list_resources(
    *,
    gateway: KarmadaGateway,
    directory: ClusterDirectory,
    cluster: str,
    namespace: str,
    type_name: str,
) -> ClusterResourcesResponse:
    """Objects of an allowed type in one namespace of a member cluster."""
    resource = resource_type(type_name)
    await require_cluster(gateway=gateway, directory=directory, cluster=cluster)
    items = await gateway.list_objects(resource, namespace=namespace, cluster=cluster)
    resources = [summarise(item, resource.kind) for item in items]
    return ClusterResourcesResponse(
        cluster=cluster,
        namespace=namespace,
        type=type_name,
        count=len(resources),
        resources=resources,
    )
