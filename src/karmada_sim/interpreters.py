"""Karmada's resource interpreters for the kinds ml-platform propagates: how member statuses
are judged (health) and folded into the template's status (aggregation, v1.16+ write-back).

RayJob and Kubeflow kinds follow Karmada's built-in third-party customizations; batch/v1 Job
follows `helper.ParsingJobStatus`; other kinds have no aggregation (status left alone) and
report health `Unknown` unless Karmada has a native rule for them (PVC, Pod).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from .resources import JOB, MPIJOB, POD, PVC, PYTORCHJOB, RAYJOB, TFJOB, Resource

HEALTHY = "Healthy"
UNHEALTHY = "Unhealthy"
UNKNOWN = "Unknown"

DEPLOYMENT_RANK = {
    "": 0,
    "Initializing": 1,
    "Waiting": 2,
    "Suspending": 3,
    "Suspended": 3,
    "Retrying": 4,
    "Running": 5,
    "Complete": 6,
    "ValidationFailed": 7,
    "Failed": 8,
}
JOB_STATUS_RANK = {"": 0, "PENDING": 1, "RUNNING": 2, "SUCCEEDED": 3, "STOPPED": 4, "FAILED": 5}

KUBEFLOW = (PYTORCHJOB, TFJOB, MPIJOB)

AggregatedItem = dict[str, Any]
"""One `status.aggregatedStatus[]` entry: clusterName, status, applied, health."""


def health(res: Resource, status: dict[str, Any] | None) -> str:
    """The health Karmada reports for a member object with this status."""
    if res == RAYJOB:
        return HEALTHY if _rayjob_healthy(status) else UNHEALTHY
    if res in KUBEFLOW:
        if not status or status.get("conditions") is None:
            return UNHEALTHY
        failed = any(
            c.get("type") == "Failed" and c.get("status") == "True" for c in status["conditions"]
        )
        return UNHEALTHY if failed else HEALTHY
    if res == PVC:
        return HEALTHY if (status or {}).get("phase") == "Bound" else UNHEALTHY
    if res == POD:
        return HEALTHY if _pod_healthy(status or {}) else UNHEALTHY
    return UNKNOWN


def _rayjob_healthy(status: dict[str, Any] | None) -> bool:
    if not status:
        return False
    deployment = status.get("jobDeploymentStatus")
    return deployment == "Running" or (
        deployment == "Complete" and status.get("jobStatus") == "SUCCEEDED"
    )


def _pod_healthy(status: dict[str, Any]) -> bool:
    if status.get("phase") == "Succeeded":
        return True
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions", [])
    )
    return status.get("phase") == "Running" and ready


def aggregate(
    res: Resource, template: dict[str, Any], items: Sequence[AggregatedItem], *, now: str
) -> dict[str, Any] | None:
    """The template status Karmada writes back, or None when it leaves the status alone."""
    current = copy.deepcopy(template.get("status") or {})
    if not items:
        return None
    if res == RAYJOB:
        return _aggregate_rayjob(current, items)
    if res in KUBEFLOW:
        return _aggregate_kubeflow(res, current, items, now=now)
    if res == JOB:
        return _aggregate_job(current, items, now=now)
    if res == PVC:
        return _aggregate_claim(current, items)
    return None


def _aggregate_claim(current: dict[str, Any], items: Sequence[AggregatedItem]) -> dict[str, Any]:
    """A claim is Bound only when bound everywhere; Lost anywhere wins over Pending."""
    phases = {(item.get("status") or {}).get("phase", "Pending") for item in items}
    phase = "Lost" if "Lost" in phases else "Pending" if phases - {"Bound"} else "Bound"
    return {**current, "phase": phase}


def _aggregate_rayjob(current: dict[str, Any], items: Sequence[AggregatedItem]) -> dict[str, Any]:
    if len(items) == 1:
        return copy.deepcopy(items[0].get("status") or {})
    worst_deployment: str | None = None
    deployment_rank = -1
    worst_job: str | None = None
    job_rank = -1
    reason = message = None
    for item in items:
        status = item.get("status") or {}
        deployment = status.get("jobDeploymentStatus")
        if deployment is not None and DEPLOYMENT_RANK.get(deployment, 0) > deployment_rank:
            deployment_rank = DEPLOYMENT_RANK.get(deployment, 0)
            worst_deployment = deployment
            reason, message = status.get("reason"), status.get("message")
        job_status = status.get("jobStatus")
        if job_status and JOB_STATUS_RANK.get(job_status, 0) > job_rank:
            job_rank = JOB_STATUS_RANK.get(job_status, 0)
            worst_job = job_status
    # Lua assigns nil for fields no cluster reported, which removes them.
    for key, value in (
        ("jobStatus", worst_job),
        ("jobDeploymentStatus", worst_deployment),
        ("reason", reason),
        ("message", message),
    ):
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
    return current


def _aggregate_kubeflow(
    res: Resource, current: dict[str, Any], items: Sequence[AggregatedItem], *, now: str
) -> dict[str, Any]:
    start: str | None = None
    completion: str | None = None
    replicas: dict[str, dict[str, int]] = {}
    created = running = False
    succeeded_clusters = 0
    failed_clusters: list[str] = []
    for item in items:
        status = item.get("status") or {}
        if status.get("startTime") and (start is None or status["startTime"] < start):
            start = status["startTime"]
        if status.get("completionTime") and (
            completion is None or status["completionTime"] > completion
        ):
            completion = status["completionTime"]
        for replica_type, counts in (status.get("replicaStatuses") or {}).items():
            total = replicas.setdefault(replica_type, {"active": 0, "failed": 0, "succeeded": 0})
            for counter in ("active", "failed", "succeeded"):
                total[counter] += int((counts or {}).get(counter) or 0)
        true_types = {
            c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"
        }
        created = created or "Created" in true_types
        running = running or "Running" in true_types
        if "Succeeded" in true_types:
            succeeded_clusters += 1
        elif "Failed" in true_types:
            failed_clusters.append(item.get("clusterName", ""))
    kind = res.kind
    finished = bool(failed_clusters) or succeeded_clusters == len(items)
    conditions: list[dict[str, Any]] = []
    if created:
        conditions.append(
            _condition("Created", "True", f"{kind}Created", f"{kind} is created.", now)
        )
    if running or finished:
        conditions.append(
            _condition(
                "Running",
                "False" if finished else "True",
                f"{kind}Running",
                f"{kind} is running.",
                now,
            )
        )
    if failed_clusters:
        conditions.append(
            _condition(
                "Failed",
                "True",
                f"{kind}Failed",
                f"{kind} executed failed in member clusters: {', '.join(failed_clusters)}",
                now,
            )
        )
    if succeeded_clusters == len(items):
        conditions.append(
            _condition("Succeeded", "True", "Completed", f"{kind} completed successfully", now)
        )
        if completion is not None:
            current["completionTime"] = completion
    _keep_stamps(current.get("conditions") or [], conditions)
    if start is not None:
        current["startTime"] = start
    else:
        current.pop("startTime", None)
    current["replicaStatuses"] = {
        t: {k: v for k, v in counts.items() if v} for t, counts in replicas.items()
    }
    current["conditions"] = conditions
    return _omit_empty(current)


def _aggregate_job(
    current: dict[str, Any], items: Sequence[AggregatedItem], *, now: str
) -> dict[str, Any] | None:
    if _job_finished(current):
        # Karmada never touches a finished Job's status again.
        return None
    failed_clusters: list[str] = []
    successful = started = completed = 0
    success_criteria = failure_target = 0
    start: str | None = None
    completion: str | None = None
    result: dict[str, Any] = {}
    active = succeeded = failed = 0
    for item in items:
        status = item.get("status") or {}
        active += int(status.get("active") or 0)
        succeeded += int(status.get("succeeded") or 0)
        failed += int(status.get("failed") or 0)
        finished = _job_finished(status)
        if finished == "Complete":
            successful += 1
        elif finished == "Failed":
            failed_clusters.append(item.get("clusterName", ""))
        true_types = {
            c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"
        }
        success_criteria += "SuccessCriteriaMet" in true_types
        failure_target += "FailureTarget" in true_types
        if status.get("startTime"):
            started += 1
            if start is None or status["startTime"] < start:
                start = status["startTime"]
        if status.get("completionTime"):
            completed += 1
            if completion is None or status["completionTime"] > completion:
                completion = status["completionTime"]
    for key, value in (("active", active), ("succeeded", succeeded), ("failed", failed)):
        if value:
            result[key] = value
    conditions: list[dict[str, Any]] = []
    if failed_clusters:
        message = f"Job executed failed in member clusters {','.join(failed_clusters)}"
        if failure_target:
            conditions.append(_job_condition("FailureTarget", "JobFailed", message, now))
        conditions.append(_job_condition("Failed", "JobFailed", message, now))
    if successful == len(items):
        conditions.append(_job_condition("Complete", "Completed", "Job completed", now))
        if success_criteria == len(items):
            conditions.append(
                _job_condition(
                    "SuccessCriteriaMet",
                    "CompletionsReached",
                    "All member clusters have met success criteria",
                    now,
                )
            )
    if conditions:
        _keep_stamps(current.get("conditions") or [], conditions)
        result["conditions"] = conditions
    if current.get("startTime"):
        result["startTime"] = current["startTime"]
    elif start is not None and started == len(items):
        result["startTime"] = start
    if completion is not None and completed == len(items):
        result["completionTime"] = completion
    return result


def _keep_stamps(previous: list[dict[str, Any]], conditions: list[dict[str, Any]]) -> None:
    """Reuse earlier timestamps of unchanged conditions, so a steady aggregate is no write."""
    before = {c.get("type"): c for c in previous}
    for condition in conditions:
        old = before.get(condition["type"])
        if old is not None and old.get("status") == condition["status"]:
            for stamp in ("lastTransitionTime", "lastUpdateTime", "lastProbeTime"):
                if stamp in old:
                    condition[stamp] = old[stamp]


def _job_finished(status: dict[str, Any]) -> str | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return str(condition["type"])
    return None


def _condition(type_: str, status: str, reason: str, message: str, now: str) -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
    }


def _job_condition(type_: str, reason: str, message: str, now: str) -> dict[str, Any]:
    return {
        "type": type_,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastProbeTime": now,
        "lastTransitionTime": now,
    }


def _omit_empty(value: dict[str, Any]) -> dict[str, Any]:
    """Drop empty maps and zero values the way the Kubeflow interpreters' omitEmpty does."""
    result: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            inner = _omit_empty(item)
            if inner:
                result[key] = inner
        elif item not in (None, 0, "", "0s"):
            result[key] = item
    return result
