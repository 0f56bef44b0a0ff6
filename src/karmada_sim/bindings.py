"""The vocabulary the Karmada controllers share: which kinds are resource templates, the
names, labels and annotations Karmada puts on bindings and member objects, and small readers
of a ResourceBinding (its target clusters, conditions)."""

from __future__ import annotations

import zlib
from typing import Any

from .errors import ApiError
from .resources import (
    CONFIGMAP,
    JOB,
    MPIJOB,
    PVC,
    PYTORCHJOB,
    RAYJOB,
    RESOURCE_BINDING,
    SECRET,
    TFJOB,
    Resource,
)
from .store import Store

# Kinds Karmada propagates in this simulator (resource templates in the control plane).
TEMPLATE_KINDS: tuple[Resource, ...] = (
    RAYJOB,
    PYTORCHJOB,
    TFJOB,
    MPIJOB,
    JOB,
    PVC,
    SECRET,
    CONFIGMAP,
)
BY_API_KIND = {(r.api_version, r.kind): r for r in TEMPLATE_KINDS}

BINDING_FINALIZER = "karmada.io/binding-controller"
# Added by Karmada's PropagationPolicy mutating webhook on create (pkg/util/constants.go).
POLICY_FINALIZER = "karmada.io/propagation-policy-controller"
POLICY_ID_LABEL = "propagationpolicy.karmada.io/permanent-id"
BINDING_ID_LABEL = "resourcebinding.karmada.io/permanent-id"
WORK_ID_LABEL = "work.karmada.io/permanent-id"
MANAGED_LABEL = "karmada.io/managed"
POLICY_NAME_ANNOTATION = "propagationpolicy.karmada.io/name"
POLICY_NAMESPACE_ANNOTATION = "propagationpolicy.karmada.io/namespace"
BINDING_NAME_ANNOTATION = "resourcebinding.karmada.io/name"
BINDING_NAMESPACE_ANNOTATION = "resourcebinding.karmada.io/namespace"
WORK_NAME_ANNOTATION = "work.karmada.io/name"
WORK_NAMESPACE_ANNOTATION = "work.karmada.io/namespace"
TEMPLATE_UID_ANNOTATION = "resourcetemplate.karmada.io/uid"
TEMPLATE_GENERATION_ANNOTATION = "resourcetemplate.karmada.io/generation"
MANAGED_LABELS_ANNOTATION = "resourcetemplate.karmada.io/managed-labels"
MANAGED_ANNOTATIONS_ANNOTATION = "resourcetemplate.karmada.io/managed-annotations"
APPLIED_PLACEMENT_ANNOTATION = "policy.karmada.io/applied-placement"

# Labels/annotations of the policy claim on a template; Karmada does not copy them to members.
CLAIM_KEYS = (POLICY_ID_LABEL, POLICY_NAME_ANNOTATION, POLICY_NAMESPACE_ANNOTATION)

TemplateKey = tuple[Resource, str, str]


def binding_name(name: str, kind: str) -> str:
    """Karmada's ResourceBinding name for a template: `<name>-<kind>`, lower case."""
    return f"{name}-{kind}".lower()


def work_name(namespace: str, name: str, kind: str) -> str:
    """A stable Work name `<name>-<hash>` (Karmada hashes kind, namespace and name)."""
    digest = zlib.crc32(f"{kind}/{namespace}/{name}".encode())
    return f"{name}-{_safe_encode(digest)}"


def _safe_encode(number: int) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    text = ""
    while number:
        number, digit = divmod(number, len(alphabet))
        text += alphabet[digit]
    return text or alphabet[0]


def peek(store: Store, res: Resource, namespace: str, name: str) -> dict[str, Any] | None:
    """A read-only live view of an object (no copy), or None."""
    try:
        return store.get_entry(res, namespace, name).obj
    except ApiError:
        return None


def resource_ref(template: dict[str, Any]) -> dict[str, Any]:
    """A binding's spec.resource: the template it propagates, at its current version."""
    meta = template["metadata"]
    return {
        "apiVersion": template["apiVersion"],
        "kind": template["kind"],
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta["uid"],
        "resourceVersion": meta["resourceVersion"],
    }


def attached(binding: dict[str, Any]) -> bool:
    """Whether a binding exists only because workloads depend on its resource."""
    annotations = binding["metadata"].get("annotations") or {}
    return POLICY_NAME_ANNOTATION not in annotations and "requiredBy" in (binding.get("spec") or {})


def targets(binding: dict[str, Any]) -> list[str]:
    """Clusters a binding places its resource on: scheduled ones plus its requirers'."""
    spec = binding.get("spec") or {}
    names = {c["name"] for c in spec.get("clusters") or []}
    for requirer in spec.get("requiredBy") or []:
        names.update(c["name"] for c in requirer.get("clusters") or [])
    return sorted(names)


def evicting(binding: dict[str, Any]) -> list[str]:
    """Clusters a binding is being evicted from (graceful eviction tasks): the workload stays
    there until the task is done."""
    tasks = (binding.get("spec") or {}).get("gracefulEvictionTasks") or []
    return [str(task.get("fromCluster")) for task in tasks]


def owned_by(binding: dict[str, Any], template: dict[str, Any]) -> bool:
    uid = template["metadata"]["uid"]
    return any(ref.get("uid") == uid for ref in binding["metadata"].get("ownerReferences") or [])


def condition(status: dict[str, Any], type_: str) -> dict[str, Any] | None:
    """The condition of `type_` in a status, or None."""
    return next((c for c in status.get("conditions") or [] if c.get("type") == type_), None)


def set_condition(
    conditions: list[dict[str, Any]], type_: str, status: str, reason: str, message: str, now: str
) -> list[dict[str, Any]]:
    """Set one binding condition; an unchanged condition keeps its transition time."""
    old = condition({"conditions": conditions}, type_)
    transition = now
    if old is not None and old.get("status") == status:
        transition = old.get("lastTransitionTime", now)
    updated = {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transition,
    }
    result = [c for c in conditions if c.get("type") != type_] + [updated]
    order = {"Scheduled": 0, "FullyApplied": 1}
    result.sort(key=lambda c: order.get(str(c.get("type")), 9))
    return result


def write_binding_status(
    store: Store, binding: dict[str, Any], status: dict[str, Any]
) -> dict[str, Any]:
    """Write a binding's status unless it is unchanged; returns the binding as stored."""
    if status == (binding.get("status") or {}):
        return binding
    meta = binding["metadata"]
    return store.update_status(RESOURCE_BINDING, meta["namespace"], meta["name"], status)
