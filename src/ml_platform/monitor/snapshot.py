"""What the Karmada snapshot hands to the status sync: our workload templates (by job id), the
ResourceBindings (by namespace and name) and cluster readiness, as compact entries.

An entry keeps the parts the sync reads as orjson bytes, decoded only for a job that changed.
The watch caches hold one entry per object for as long as this replica leads, and bytes are
invisible to the garbage collector: whole documents at 10,000 jobs are about a million
objects, and each full collection over them stalled the loop for more than half a second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson

from ml_platform.karmada.bindings import binding_name
from ml_platform.karmada.gateway import cluster_info
from ml_platform.karmada.resources import CLUSTER, RESOURCE_BINDING, ApiResource
from ml_platform.workloads.common import JOB_ID_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE
from ml_platform.workloads.kinds import WORKLOAD_APIS

OUR_SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"


def _decode(document: bytes) -> Mapping[str, Any] | None:
    value = orjson.loads(document)
    return value if isinstance(value, dict) else None


def _metadata(item: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = item.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


@dataclass(frozen=True, slots=True)
class Template:
    """The parts of one workload template the sync uses."""

    job_id: str
    kind: str
    namespace: str
    name: str
    resource_version: str
    binding_name: str
    status_json: bytes

    @property
    def status(self) -> Mapping[str, Any] | None:
        """The template's ``.status`` (Karmada v1.16+ writes member status back to it)."""
        return _decode(self.status_json)


@dataclass(frozen=True, slots=True)
class Binding:
    """The parts of one ResourceBinding the status mapping reads."""

    namespace: str
    name: str
    resource_version: str
    # The template it binds (``spec.resource``): its kind and name, in the same namespace.
    owner_kind: str
    owner_name: str
    document_json: bytes

    @property
    def document(self) -> Mapping[str, Any] | None:
        """``spec.clusters`` and ``status``, as ``observe`` takes a binding."""
        return _decode(self.document_json)


def template_entry(kind: str) -> Callable[[Mapping[str, Any]], Template | None]:
    """The entry maker for workloads of ``kind``: None for an object without our job label."""

    def entry(item: Mapping[str, Any]) -> Template | None:
        metadata = _metadata(item)
        job_id = (metadata.get("labels") or {}).get(JOB_ID_LABEL)
        name = metadata.get("name")
        if not job_id or not name:
            return None
        return Template(
            job_id=job_id,
            kind=kind,
            namespace=metadata.get("namespace") or "",
            name=name,
            resource_version=str(metadata.get("resourceVersion") or ""),
            binding_name=binding_name(name, kind, metadata.get("annotations")),
            status_json=orjson.dumps(item.get("status")),
        )

    return entry


def binding_entry(item: Mapping[str, Any]) -> Binding:
    """A ResourceBinding's entry."""
    metadata = _metadata(item)
    spec = item.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    clusters = spec.get("clusters")
    owner = spec.get("resource")
    owner = owner if isinstance(owner, Mapping) else {}
    return Binding(
        namespace=metadata.get("namespace") or "",
        name=metadata.get("name") or "",
        resource_version=str(metadata.get("resourceVersion") or ""),
        owner_kind=str(owner.get("kind") or ""),
        owner_name=str(owner.get("name") or ""),
        document_json=orjson.dumps({"spec": {"clusters": clusters}, "status": item.get("status")}),
    )


def cluster_entry(item: Mapping[str, Any]) -> tuple[str, bool]:
    """A Cluster's name and whether it is Ready."""
    info = cluster_info(item)
    return info.name, info.ready


@dataclass(frozen=True)
class Source:
    """One kind the snapshot reads, the label selector it is read with, and its entry maker."""

    resource: ApiResource
    label_selector: str
    entry: Callable[[Mapping[str, Any]], Any]

    def entries(self, items: Iterable[Mapping[str, Any]]) -> list[Any]:
        """The entries of these objects (objects that make none are left out)."""
        return [made for made in map(self.entry, items) if made is not None]


# What the watch caches keep, in order: our workloads of each kind, then all bindings (they
# carry none of our labels, so they are read without a selector). Clusters are few and decide
# every job's observation: each tick LISTs them (``CLUSTERS``) instead.
SOURCES: tuple[Source, ...] = (
    *(
        Source(resource, OUR_SELECTOR, template_entry(str(kind)))
        for kind, resource in WORKLOAD_APIS.items()
    ),
    Source(RESOURCE_BINDING, "", binding_entry),
)
CLUSTERS = Source(CLUSTER, "", cluster_entry)


@dataclass(frozen=True)
class Snapshot:
    """Our workloads (by job id), the bindings (by namespace and name), cluster readiness."""

    templates: Mapping[str, Template]
    bindings: Mapping[tuple[str, str], Binding]
    cluster_ready: Mapping[str, bool]

    @property
    def not_ready(self) -> frozenset[str]:
        """Names of the clusters that are not Ready."""
        return frozenset(name for name, ready in self.cluster_ready.items() if not ready)

    def binding_of(self, template: Template) -> Binding | None:
        """The ResourceBinding Karmada made for this template, if it exists yet."""
        return self.bindings.get((template.namespace, template.binding_name))


def build_snapshot(entries: Sequence[Iterable[Any]], cluster_ready: Mapping[str, bool]) -> Snapshot:
    """The snapshot from the entries of each of ``SOURCES``, in that order, and readiness."""
    *workloads, bindings = entries
    templates = {t.job_id: t for kind in workloads for t in cast(Iterable[Template], kind)}
    return Snapshot(
        templates=templates,
        bindings={(b.namespace, b.name): b for b in cast(Iterable[Binding], bindings)},
        cluster_ready=cluster_ready,
    )
