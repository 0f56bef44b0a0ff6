"""HTTP shapes of the clusters API (camelCase on the wire)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ml_platform.wire import WireModel


class ClusterCapacity(WireModel):
    """Resource quantities as Kubernetes writes them (``"8"``, ``"32Gi"``)."""

    cpu: str | None = None
    memory: str | None = None
    gpu: str | None = None
    pods: str | None = None


class ClusterResponse(WireModel):
    """One member cluster."""

    name: str
    ready: bool
    region: str | None = None
    zone: str | None = None
    kubernetes_version: str | None = None
    capacity: ClusterCapacity | None = Field(default=None, description="Allocatable, when known.")
    allocated: ClusterCapacity | None = Field(default=None, description="In use, when known.")


class ClusterListResponse(WireModel):
    """Every member cluster Karmada knows."""

    clusters: list[ClusterResponse]


class ResourceSummary(WireModel):
    """One object in a member cluster, reduced to what is safe and useful to show."""

    name: str
    namespace: str | None = None
    kind: str
    status: str | None = Field(default=None, description="Phase or state, when the kind has one.")
    labels: dict[str, str] = Field(default_factory=dict)
    creation_timestamp: str | None = None


class ClusterResourcesResponse(WireModel):
    """Objects of one type in one namespace of a member cluster."""

    cluster: str
    namespace: str
    type: str
    count: int
    resources: list[ResourceSummary]


def capacity(quantities: dict[str, Any]) -> ClusterCapacity | None:
    """The quantities the UI shows, or None when Karmada reported none."""
    if not quantities:
        return None
    return ClusterCapacity(
        cpu=quantities.get("cpu"),
        memory=quantities.get("memory"),
        gpu=quantities.get("nvidia.com/gpu"),
        pods=quantities.get("pods"),
    )
