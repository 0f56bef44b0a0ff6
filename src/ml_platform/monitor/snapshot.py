"""Step c of a tick: read everything the status sync needs from Karmada in a fixed number of
LIST calls (one per workload kind, one for ResourceBindings, one for Clusters, each paginated),
whatever the number of jobs."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ml_platform.karmada.gateway import JOB_ID_LABEL, KarmadaGateway, cluster_info
from ml_platform.karmada.resources import CLUSTER, RESOURCE_BINDING, ApiResource
from ml_platform.workloads.common import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from ml_platform.workloads.kinds import WORKLOAD_APIS

# Karmada names a workload's binding "<workload>-<kind lower>" and notes it on the template.
BINDING_NAME_ANNOTATION = "resourcebinding.karmada.io/name"
OUR_SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"
# What a snapshot reads, in order: our workloads of each kind, then all bindings and clusters.
SNAPSHOT_RESOURCES: tuple[tuple[ApiResource, str], ...] = (
    *((resource, OUR_SELECTOR) for resource in WORKLOAD_APIS.values()),
    (RESOURCE_BINDING, ""),
    (CLUSTER, ""),
)


@dataclass(frozen=True, slots=True)
class Template:
    """The parts of one workload template the sync uses."""

    kind: str
    namespace: str
    name: str
    resource_version: str
    status: Mapping[str, Any] | None
    binding_name: str


@dataclass(frozen=True)
class Snapshot:
    """Our workloads (by job id), the bindings (by namespace and name), cluster readiness."""

    templates: Mapping[str, Template]
    bindings: Mapping[tuple[str, str], Mapping[str, Any]]
    cluster_ready: Mapping[str, bool]

    @property
    def not_ready(self) -> frozenset[str]:
        """Names of the clusters that are not Ready."""
        return frozenset(name for name, ready in self.cluster_ready.items() if not ready)


def _template(kind: str, item: Mapping[str, Any]) -> tuple[str, Template] | None:
    metadata = item.get("metadata") or {}
    job_id = (metadata.get("labels") or {}).get(JOB_ID_LABEL)
    name = metadata.get("name")
    if not job_id or not name:
        return None
    annotations = metadata.get("annotations") or {}
    status = item.get("status")
    return job_id, Template(
        kind=kind,
        namespace=metadata.get("namespace") or "",
        name=name,
        resource_version=str(metadata.get("resourceVersion") or ""),
        status=status if isinstance(status, Mapping) else None,
        binding_name=annotations.get(BINDING_NAME_ANNOTATION) or f"{name}-{kind.lower()}",
    )


async def take_snapshot(gateway: KarmadaGateway) -> Snapshot:
    """LIST every workload kind with our selector, all ResourceBindings and all Clusters.

    Raises ``KarmadaUnavailable`` when any LIST fails: a partial picture would make present
    workloads look missing, so the caller skips the sync for this tick.
    """
    # Concurrently: the simulator or API server answers one LIST while we parse another.
    lists = await asyncio.gather(
        *(
            gateway.list_objects(resource, label_selector=selector)
            for resource, selector in SNAPSHOT_RESOURCES
        )
    )
    return build_snapshot(lists)


def build_snapshot(lists: Sequence[Sequence[Mapping[str, Any]]]) -> Snapshot:
    """The snapshot from the objects of each of ``SNAPSHOT_RESOURCES``, in that order."""
    templates: dict[str, Template] = {}
    for (kind, _), items in zip(WORKLOAD_APIS.items(), lists, strict=False):
        for item in items:
            found = _template(str(kind), item)
            if found is not None:
                templates[found[0]] = found[1]
    bindings: dict[tuple[str, str], Mapping[str, Any]] = {}
    for item in lists[-2]:
        metadata = item.get("metadata") or {}
        bindings[(metadata.get("namespace") or "", metadata.get("name") or "")] = item
    cluster_ready = {info.name: info.ready for info in map(cluster_info, lists[-1])}
    return Snapshot(templates=templates, bindings=bindings, cluster_ready=cluster_ready)
