"""`Table` responses (what `kubectl get` asks for), with each kind's printer columns."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from karmada_sim import resources as r
from karmada_sim.clock import parse_time
from karmada_sim.resources import Resource

Cell = str | int
Column = tuple[str, str, Callable[[dict[str, Any], datetime], Cell]]  # name, type, value


def human_duration(seconds: float) -> str:
    """A duration the way kubectl's AGE column shows it (apimachinery `HumanDuration`)."""
    if seconds < -1:
        return "<invalid>"
    s = max(int(seconds), 0)
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if s < 120:
        return f"{s}s"
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y{days % 365}d" if days < 365 * 8 else f"{days // 365}y"


def _since(value: Any, now: datetime) -> str:
    if not value:
        return "<unknown>"
    return human_duration((now - parse_time(str(value))).total_seconds())


def _get(obj: dict[str, Any], *path: str) -> Any:
    node: Any = obj
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _text(obj: dict[str, Any], *path: str) -> str:
    value = _get(obj, *path)
    return "" if value is None else str(value)


def _condition(obj: dict[str, Any], type_: str) -> str:
    for cond in _get(obj, "status", "conditions") or []:
        if cond.get("type") == type_:
            return str(cond.get("status", ""))
    return ""


def _last_condition(obj: dict[str, Any]) -> str:
    conditions = [c for c in _get(obj, "status", "conditions") or [] if c.get("status") == "True"]
    return str(conditions[-1]["type"]) if conditions else ""


def _pod_ready(obj: dict[str, Any]) -> str:
    statuses = _get(obj, "status", "containerStatuses") or []
    containers = _get(obj, "spec", "containers") or []
    return f"{sum(1 for s in statuses if s.get('ready'))}/{len(containers)}"


def _pod_status(obj: dict[str, Any]) -> str:
    if _get(obj, "metadata", "deletionTimestamp"):
        return "Terminating"
    for status in _get(obj, "status", "containerStatuses") or []:
        waiting = _get(status, "state", "waiting", "reason")
        if waiting:
            return str(waiting)
    return _text(obj, "status", "phase") or "Pending"


def _job_status(obj: dict[str, Any]) -> str:
    for type_ in ("Complete", "Failed", "Suspended"):
        if _condition(obj, type_) == "True":
            return type_
    return "Running"


_AGE: Column = (
    "Age",
    "string",
    lambda o, now: _since(_get(o, "metadata", "creationTimestamp"), now),
)

_COLUMNS: dict[Resource, list[Column]] = {
    r.RAYJOB: [
        ("Job Status", "string", lambda o, _: _text(o, "status", "jobStatus")),
        ("Deployment Status", "string", lambda o, _: _text(o, "status", "jobDeploymentStatus")),
        ("Ray Cluster Name", "string", lambda o, _: _text(o, "status", "rayClusterName")),
        ("Start Time", "string", lambda o, _: _text(o, "status", "startTime")),
        ("End Time", "string", lambda o, _: _text(o, "status", "endTime")),
    ],
    r.RAYCLUSTER: [("Status", "string", lambda o, _: _text(o, "status", "state"))],
    r.PYTORCHJOB: [("State", "string", lambda o, _: _last_condition(o))],
    r.TFJOB: [("State", "string", lambda o, _: _last_condition(o))],
    r.MPIJOB: [("State", "string", lambda o, _: _last_condition(o))],
    r.JOB: [
        ("Status", "string", lambda o, _: _job_status(o)),
        (
            "Completions",
            "string",
            lambda o, _: (
                f"{_get(o, 'status', 'succeeded') or 0}/{_get(o, 'spec', 'completions') or 1}"
            ),
        ),
    ],
    r.POD: [
        ("Ready", "string", lambda o, _: _pod_ready(o)),
        ("Status", "string", lambda o, _: _pod_status(o)),
        (
            "Restarts",
            "integer",
            lambda o, _: sum(
                int(s.get("restartCount", 0)) for s in _get(o, "status", "containerStatuses") or []
            ),
        ),
    ],
    r.NAMESPACE: [("Status", "string", lambda o, _: _text(o, "status", "phase"))],
    r.CONFIGMAP: [("Data", "integer", lambda o, _: len(o.get("data") or {}))],
    r.SECRET: [
        ("Type", "string", lambda o, _: _text(o, "type") or "Opaque"),
        ("Data", "integer", lambda o, _: len(o.get("data") or {})),
    ],
    r.PVC: [
        ("Status", "string", lambda o, _: _text(o, "status", "phase")),
        ("Volume", "string", lambda o, _: _text(o, "spec", "volumeName")),
        ("Capacity", "string", lambda o, _: _text(o, "status", "capacity", "storage")),
    ],
    r.PROPAGATION_POLICY: [
        ("Conflict-Resolution", "string", lambda o, _: _text(o, "spec", "conflictResolution")),
        ("Priority", "integer", lambda o, _: int(_get(o, "spec", "priority") or 0)),
    ],
    r.RESOURCE_BINDING: [
        ("Scheduled", "string", lambda o, _: _condition(o, "Scheduled")),
        ("FullyApplied", "string", lambda o, _: _condition(o, "FullyApplied")),
    ],
    r.CLUSTER: [
        ("Version", "string", lambda o, _: _text(o, "status", "kubernetesVersion")),
        ("Mode", "string", lambda o, _: _text(o, "spec", "syncMode")),
        ("Ready", "string", lambda o, _: _condition(o, "Ready")),
    ],
}


def wants_table(accept: str) -> bool:
    """Whether an Accept header asks for a meta.k8s.io Table (kubectl get does)."""
    return "as=Table" in accept


def table(
    res: Resource,
    objects: Iterable[dict[str, Any]],
    now: datetime,
    *,
    resource_version: str,
    continue_token: str = "",
) -> dict[str, Any]:
    """A `meta.k8s.io/v1` Table of objects, with PartialObjectMetadata rows."""
    columns: list[Column] = [
        ("Name", "string", lambda o, _: str(o["metadata"]["name"])),
        *_COLUMNS.get(res, []),
        _AGE,
    ]
    definitions = [
        {
            "name": name,
            "type": kind,
            "format": "name" if name == "Name" else "",
            "description": "",
            "priority": 0,
        }
        for name, kind, _ in columns
    ]
    rows = [
        {
            "cells": [value(obj, now) for _, _, value in columns],
            "object": {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj["metadata"],
            },
        }
        for obj in objects
    ]
    meta: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        meta["continue"] = continue_token
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": definitions,
        "rows": rows,
    }
