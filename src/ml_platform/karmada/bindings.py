"""Where Karmada keeps the ResourceBinding of one of our workloads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ml_platform.karmada.gateway import ObjectRef
from ml_platform.karmada.resources import RESOURCE_BINDING

# Karmada notes the binding's name on the workload template it made the binding for.
BINDING_NAME_ANNOTATION = "resourcebinding.karmada.io/name"


class PlacedJob(Protocol):
    """What ``binding_ref`` reads of a job (a stored ``TrainingJob`` is one)."""

    @property
    def id(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def workload_kind(self) -> str: ...
    @property
    def workload_name(self) -> str | None: ...


def binding_name(workload_name: str, kind: str, annotations: Mapping[str, Any] | None) -> str:
    """The binding's name: the one the template's annotation gives, else Karmada's rule
    (``GenerateBindingName``: ``<name>-<kind>``, lowercased)."""
    named = (annotations or {}).get(BINDING_NAME_ANNOTATION)
    return named if isinstance(named, str) and named else f"{workload_name}-{kind}".lower()


def binding_ref(job: PlacedJob, annotations: Mapping[str, Any] | None = None) -> ObjectRef:
    """The ResourceBinding of the job's workload; ``annotations`` are the workload template's
    when it has been read (without them the name follows Karmada's rule)."""
    name = binding_name(job.workload_name or job.id, job.workload_kind, annotations)
    return ObjectRef(RESOURCE_BINDING, job.namespace, name)
