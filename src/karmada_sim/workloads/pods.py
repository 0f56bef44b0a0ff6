"""Pods of simulated workloads: creation from a pod template, phase changes, deletion."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from .. import resources
from .blockers import Blocker, find_blocker
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
    node = f"{ctx.cluster}-node-{ctx.rng.randint(1, 3)}"
    blocker = find_blocker(ctx.store, namespace, spec)
    if blocker is None or blocker.stage != "schedule":
        spec["nodeName"] = node
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
    if blocker is not None:
        pod["status"] = _blocked_status(ctx, pod, blocker)
    created = ctx.store.create(resources.POD, pod, namespace=namespace)
    if blocker is not None:
        _record_event(ctx, created, blocker)
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
    in-place restarts by the kubelet). Callers check `blocked` first."""
    pod = ctx.store.find(resources.POD, namespace, name)
    if pod is None:
        return
    if not pod["spec"].get("nodeName"):
        _bind(ctx, pod)
    started = rfc3339(from_epoch(at))
    first_start = (pod.get("status") or {}).get("startTime", started)
    status = {
        "phase": "Running",
        "qosClass": pod.get("status", {}).get("qosClass", "BestEffort"),
        "hostIP": _host_ip(pod),
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


def blocked(ctx: MemberContext, namespace: str, names: list[str]) -> bool:
    """Whether any of the named pods is still held by a missing claim, Secret or ConfigMap
    (each shows why); a pod that is gone or already running does not hold."""
    held = False
    for name in names:
        pod = ctx.store.find(resources.POD, namespace, name)
        if pod is None or (pod.get("status") or {}).get("phase", "Pending") != "Pending":
            continue
        blocker = find_blocker(ctx.store, namespace, pod["spec"])
        if blocker is None:
            continue
        held = True
        if blocker.stage != "schedule" and not pod["spec"].get("nodeName"):
            _bind(ctx, pod)
        status = _blocked_status(ctx, pod, blocker)
        if status != pod.get("status"):
            ctx.store.update_status(resources.POD, namespace, name, status)
            _record_event(ctx, pod, blocker)
    return held


def postpone(ctx: MemberContext, namespace: str, names: list[str], seconds: float) -> None:
    """Shift the planned log output of held pods by the time they waited."""
    for name in names:
        for script in (ctx.logs.containers(namespace, name) or {}).values():
            script.started += seconds
            script.run_start += seconds
            if script.end is not None:
                script.end += seconds


def _host_ip(pod: dict[str, Any]) -> str:
    return "192.168.0." + str(sum(map(ord, pod["spec"].get("nodeName", ""))) % 250 + 2)


def _bind(ctx: MemberContext, pod: dict[str, Any]) -> None:
    """The scheduler binds the pod to a node (pods/binding sets spec.nodeName)."""
    meta = pod["metadata"]
    node = f"{ctx.cluster}-node-{ctx.rng.randint(1, 3)}"
    ctx.store.patch(
        resources.POD,
        meta["namespace"],
        meta["name"],
        {"spec": {"nodeName": node}},
        patch_type="merge",
    )
    pod["spec"]["nodeName"] = node


def _blocked_status(ctx: MemberContext, pod: dict[str, Any], blocker: Blocker) -> dict[str, Any]:
    """A Pending pod's status as the scheduler or kubelet leaves it while `blocker` holds."""
    old = pod.get("status") or {}
    qos = old.get("qosClass", "BestEffort")
    if blocker.stage == "schedule":
        return {
            "phase": "Pending",
            "qosClass": qos,
            "conditions": [
                _condition(
                    old,
                    "PodScheduled",
                    "False",
                    _ts(ctx),
                    "Unschedulable",
                    blocker.scheduling_message,
                )
            ],
        }
    reason = "ContainerCreating" if blocker.stage == "mount" else "CreateContainerConfigError"
    waiting: dict[str, str] = {"reason": reason}
    if blocker.stage == "config":
        waiting["message"] = blocker.message
    containers = pod["spec"].get("containers") or []
    names = " ".join(c["name"] for c in containers)
    now = _ts(ctx)
    return {
        "phase": "Pending",
        "qosClass": qos,
        "hostIP": _host_ip(pod),
        "startTime": old.get("startTime", now),
        "conditions": [
            _condition(
                old,
                "PodReadyToStartContainers",
                "True" if blocker.stage == "config" else "False",
                now,
            ),
            _condition(old, "Initialized", "True", now),
            _condition(
                old,
                "Ready",
                "False",
                now,
                "ContainersNotReady",
                f"containers with unready status: [{names}]",
            ),
            _condition(
                old,
                "ContainersReady",
                "False",
                now,
                "ContainersNotReady",
                f"containers with unready status: [{names}]",
            ),
            _condition(old, "PodScheduled", "True", now),
        ],
        "containerStatuses": [
            {
                "name": c["name"],
                "image": c.get("image", ""),
                "imageID": "",
                "ready": False,
                "started": False,
                "restartCount": 0,
                "state": {"waiting": dict(waiting)},
            }
            for c in containers
        ],
    }


def _condition(
    old: dict[str, Any],
    type_: str,
    status: str,
    now: str,
    reason: str | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    """A pod condition; its lastTransitionTime moves only when its status changes."""
    previous = next((c for c in old.get("conditions") or [] if c.get("type") == type_), None)
    since = previous["lastTransitionTime"] if previous and previous.get("status") == status else now
    condition: dict[str, Any] = {"type": type_, "status": status, "lastTransitionTime": since}
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def _record_event(ctx: MemberContext, pod: dict[str, Any], blocker: Blocker) -> None:
    """The Warning event `kubectl describe pod` shows for the blocker."""
    reason, message, component = blocker.event
    meta = pod["metadata"]
    now = _ts(ctx)
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{ctx.rng.getrandbits(64):x}"},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta.get("uid", ""),
        },
        "reason": reason,
        "message": message,
        "type": "Warning",
        "source": {"component": component},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    ctx.store.create(resources.EVENT, event, namespace=meta["namespace"])


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
