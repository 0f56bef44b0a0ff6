"""Pods of simulated workloads: creation from a pod template, phase changes, deletion."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from .. import resources
from .common import MemberContext, from_epoch, owner_reference, rfc3339
from .logs import LogScript


def create_pod(
    ctx: MemberContext,
    *,
    name: str,
    namespace: str,
    labels: dict[str, str],
    owner: dict[str, Any],
    template: dict[str, Any] | None,
    default_container: str,
    script: LogScript,
    annotations: dict[str, str] | None = None,
    generate_name: str | None = None,
) -> str:
    """Create a Pending pod from `template`; its first container prints `script`.

    `generate_name` records the prefix a controller asked for when `name` ends in a random
    suffix (as `metadata.generateName` shows on real pods).

    Returns the pod IP it will get once running.
    """
    template = copy.deepcopy(template or {})
    spec = template.get("spec") or {}
    containers = spec.get("containers") or [{"name": default_container, "image": "busybox"}]
    for container in containers:
        container.setdefault("name", default_container)
        container.setdefault("image", "busybox")
    spec["containers"] = containers
    spec.setdefault("restartPolicy", "Never")
    spec["nodeName"] = f"{ctx.cluster}-node-{ctx.rng.randint(1, 3)}"
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "labels": {**(template.get("metadata", {}).get("labels") or {}), **labels},
        "ownerReferences": [owner_reference(owner)],
    }
    if annotations:
        metadata["annotations"] = annotations
    if generate_name:
        metadata["generateName"] = generate_name
    ip = ctx.pod_ip()
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": spec,
        "status": {
            "phase": "Pending",
            "qosClass": "BestEffort",
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": _ts(ctx)}
            ],
        },
    }
    ctx.store.create(resources.POD, pod, namespace=namespace)
    scripts = {containers[0]["name"]: script}
    for sidecar in containers[1:]:
        scripts[sidecar["name"]] = LogScript(
            role="sidecar",
            title=name,
            started=script.started,
            run_start=script.run_start,
            end=None,
        )
    ctx.logs.add(namespace, name, scripts)
    ctx.on_pods_changed()
    return ip


def start_pod(
    ctx: MemberContext, namespace: str, name: str, *, at: float, ip: str, restarts: int = 0
) -> None:
    """Move a pod to Running with every container running since `at` (after `restarts`
    in-place restarts by the kubelet)."""
    pod = ctx.store.find(resources.POD, namespace, name)
    if pod is None:
        return
    started = rfc3339(from_epoch(at))
    first_start = (pod.get("status") or {}).get("startTime", started)
    status = {
        "phase": "Running",
        "qosClass": pod.get("status", {}).get("qosClass", "BestEffort"),
        "hostIP": "192.168.0." + str(sum(map(ord, pod["spec"].get("nodeName", ""))) % 250 + 2),
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": first_start,
        "conditions": [
            {"type": t, "status": "True", "lastTransitionTime": started}
            for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
        ],
        "containerStatuses": [
            {
                "name": c["name"],
                "image": c.get("image", ""),
                "imageID": _image_id(c.get("image", "")),
                "containerID": f"containerd://{ctx.rng.getrandbits(256):064x}",
                "ready": True,
                "started": True,
                "restartCount": restarts,
                "state": {"running": {"startedAt": started}},
            }
            for c in pod["spec"]["containers"]
        ],
    }
    ctx.store.update_status(resources.POD, namespace, name, status)
    ctx.on_pods_changed()


def finish_pod(
    ctx: MemberContext, namespace: str, name: str, *, at: float, succeeded: bool
) -> None:
    """Move a pod to Succeeded or Failed; its containers terminated at `at`."""
    pod = ctx.store.find(resources.POD, namespace, name)
    if pod is None or pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
        return
    status = copy.deepcopy(pod.get("status") or {})
    finished = rfc3339(from_epoch(at))
    started = status.get("startTime", finished)
    status["phase"] = "Succeeded" if succeeded else "Failed"
    status["conditions"] = [
        {**c, "status": "False", "lastTransitionTime": finished, "reason": "PodCompleted"}
        if c.get("type") in ("Ready", "ContainersReady")
        else c
        for c in status.get("conditions") or []
    ]
    status["containerStatuses"] = [
        {
            **cs,
            "ready": False,
            "started": False,
            "state": {
                "terminated": {
                    "exitCode": 0 if succeeded else 1,
                    "reason": "Completed" if succeeded else "Error",
                    "startedAt": started,
                    "finishedAt": finished,
                }
            },
        }
        for cs in status.get("containerStatuses") or []
    ]
    ctx.store.update_status(resources.POD, namespace, name, status)
    ctx.logs.stop(namespace, name, at)
    ctx.on_pods_changed()


def delete_pod(ctx: MemberContext, namespace: str, name: str, *, at: float) -> None:
    """Delete a pod (its logs go with it)."""
    ctx.logs.stop(namespace, name, at)
    if ctx.store.find(resources.POD, namespace, name) is not None:
        ctx.store.delete(resources.POD, namespace, name)
    ctx.logs.remove(namespace, name)
    ctx.on_pods_changed()


def _image_id(image: str) -> str:
    digest = hashlib.sha256(image.encode()).hexdigest()
    return f"{image.split(':')[0]}@sha256:{digest}"


def _ts(ctx: MemberContext) -> str:
    return rfc3339(ctx.clock.now())
