"""Manifests and small helpers for the Karmada and member-cluster tests."""

from __future__ import annotations

from typing import Any

from kubernetes import client

RAY = ("ray.io", "v1")
KUBEFLOW = ("kubeflow.org", "v1")
POLICY = ("policy.karmada.io", "v1alpha1")
WORK = ("work.karmada.io", "v1alpha2")
CLUSTERS = ("cluster.karmada.io", "v1alpha1")
ONE_CLUSTER = [{"spreadByField": "cluster", "maxGroups": 1, "minGroups": 1}]


def rayjob(
    name: str,
    *,
    annotations: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    workers: int = 1,
    **spec: Any,
) -> dict[str, Any]:
    """A RayJob with a head group and one worker group."""
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": name, "labels": labels or {}, "annotations": annotations or {}},
        "spec": {
            "entrypoint": "python /app/train.py",
            "rayClusterSpec": {
                "rayVersion": "2.40.0",
                "headGroupSpec": {
                    "rayStartParams": {},
                    "template": {
                        "spec": {"containers": [{"name": "ray-head", "image": "rayproject/ray"}]}
                    },
                },
                "workerGroupSpecs": [
                    {
                        "groupName": "workers",
                        "replicas": workers,
                        "rayStartParams": {},
                        "template": {
                            "spec": {
                                "containers": [{"name": "ray-worker", "image": "rayproject/ray"}]
                            }
                        },
                    }
                ],
            },
            **spec,
        },
    }


def pytorchjob(
    name: str,
    *,
    workers: int = 2,
    annotations: dict[str, str] | None = None,
    restart_policy: str = "OnFailure",
    **spec: Any,
) -> dict[str, Any]:
    """A PyTorchJob with one master and `workers` workers."""

    def replica(count: int) -> dict[str, Any]:
        return {
            "replicas": count,
            "restartPolicy": restart_policy,
            "template": {"spec": {"containers": [{"name": "pytorch", "image": "pytorch/pytorch"}]}},
        }

    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"pytorchReplicaSpecs": {"Master": replica(1), "Worker": replica(workers)}, **spec},
    }


def policy(
    name: str,
    *,
    kind: str = "RayJob",
    api_version: str = "ray.io/v1",
    target: str | None = None,
    placement: dict[str, Any] | None = None,
    priority: int | None = None,
    label_selector: dict[str, Any] | None = None,
    propagate_deps: bool = False,
) -> dict[str, Any]:
    """A PropagationPolicy selecting one kind (by name, labels, or all of it)."""
    selector: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    if target is not None:
        selector["name"] = target
    if label_selector is not None:
        selector["labelSelector"] = label_selector
    spec: dict[str, Any] = {
        "resourceSelectors": [selector],
        "placement": placement if placement is not None else {"spreadConstraints": ONE_CLUSTER},
    }
    if priority is not None:
        spec["priority"] = priority
    if propagate_deps:
        spec["propagateDeps"] = True
    return {
        "apiVersion": "policy.karmada.io/v1alpha1",
        "kind": "PropagationPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def create(
    api: client.ApiClient,
    group_version: tuple[str, str],
    ns: str,
    plural: str,
    body: dict[str, Any],
) -> dict[str, Any]:
    """Create a namespaced custom object."""
    result: dict[str, Any] = client.CustomObjectsApi(api).create_namespaced_custom_object(
        *group_version, ns, plural, body
    )
    return result


def get(
    api: client.ApiClient, group_version: tuple[str, str], ns: str, plural: str, name: str
) -> dict[str, Any]:
    """Read a namespaced custom object."""
    result: dict[str, Any] = client.CustomObjectsApi(api).get_namespaced_custom_object(
        *group_version, ns, plural, name
    )
    return result


def items(
    api: client.ApiClient, group_version: tuple[str, str], ns: str, plural: str
) -> list[dict[str, Any]]:
    """List a namespaced custom resource."""
    result = client.CustomObjectsApi(api).list_namespaced_custom_object(*group_version, ns, plural)
    return list(result["items"])


def binding_clusters(binding: dict[str, Any]) -> list[str]:
    """The cluster names a ResourceBinding is scheduled to."""
    return [c["name"] for c in binding["spec"].get("clusters") or []]


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    """One entry of `status.conditions`, or None."""
    return next(
        (c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == type_), None
    )


def pods(api: client.ApiClient, ns: str, selector: str = "") -> dict[str, Any]:
    """Pods of a namespace by name (CoreV1Api through whatever host `api` points at)."""
    result = client.CoreV1Api(api).list_namespaced_pod(ns, label_selector=selector)
    return {p.metadata.name: p for p in result.items}
