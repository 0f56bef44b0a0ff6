"""Helpers every member-cluster workload controller shares: timings, test-control annotations,
random names, timestamps and the per-cluster context a controller works in."""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..clock import Clock
from ..resources import Resource
from ..store import Store
from .logs import LogBook

OUTCOME_ANNOTATION = "sim.ml-platform.io/outcome"
DURATION_ANNOTATION = "sim.ml-platform.io/duration-seconds"
INIT_ANNOTATION = "sim.ml-platform.io/init-seconds"

# Kubernetes' generateName alphabet (no vowels, no confusable digits).
_K8S_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# KubeRay builds its names from lowercase alphanumerics.
_KUBERAY_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits


@dataclass
class Timings:
    """How long simulated workloads take, in simulated seconds.

    The defaults make `ml-platform dev` feel like a small real cluster; tests shorten them or
    override them per workload with the `sim.ml-platform.io/*` annotations.
    """

    initializing_seconds: float = 2.0
    """Pods scheduled and containers started (RayCluster ready, PyTorchJob Running)."""
    running_seconds: float = 5.0
    """Training time once the workload runs."""
    pending_seconds: float = 1.0
    """RayJob: submitter pod start until the Ray job reports RUNNING."""
    log_interval_seconds: float = 1.0
    """Simulated seconds between two training log lines."""


@dataclass(frozen=True)
class Plan:
    """What one workload will do: its outcome and durations, from annotations or timings."""

    succeed: bool
    init_seconds: float
    run_seconds: float


def plan_for(obj: dict[str, Any], timings: Timings) -> Plan:
    """Read the test-control annotations of `obj`, falling back to `timings`."""
    annotations = obj.get("metadata", {}).get("annotations") or {}
    outcome = str(annotations.get(OUTCOME_ANNOTATION, "succeed")).strip().lower()
    return Plan(
        succeed=outcome not in ("fail", "failed", "failure"),
        init_seconds=_seconds(annotations.get(INIT_ANNOTATION), timings.initializing_seconds),
        run_seconds=_seconds(annotations.get(DURATION_ANNOTATION), timings.running_seconds),
    )


def _seconds(value: object, default: float) -> float:
    if value is None:
        return default
    try:
        seconds = float(str(value))
    except ValueError:
        return default
    return max(seconds, 0.0)


def rfc3339(moment: datetime) -> str:
    """Format like the apiserver does for metav1.Time: second precision, `Z` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_epoch(seconds: float) -> datetime:
    """A tz-aware UTC datetime from epoch seconds."""
    return datetime.fromtimestamp(seconds, tz=UTC)


@dataclass
class MemberContext:
    """What a workload controller of one member cluster may use."""

    cluster: str
    store: Store
    clock: Clock
    timings: Timings
    logs: LogBook
    rng: random.Random = field(default_factory=random.Random)
    on_pods_changed: Callable[[], None] = field(default=lambda: None)

    def now(self) -> float:
        """Simulated time as epoch seconds."""
        return self.clock.now().timestamp()

    def pod_suffix(self) -> str:
        """A 5-character suffix like the ones generateName produces."""
        return "".join(self.rng.choice(_K8S_SUFFIX_ALPHABET) for _ in range(5))

    def kuberay_suffix(self) -> str:
        """A 5-character lowercase alphanumeric suffix as KubeRay uses for ids and names."""
        return "".join(self.rng.choice(_KUBERAY_SUFFIX_ALPHABET) for _ in range(5))

    def pod_ip(self) -> str:
        """A plausible pod IP in a per-cluster range."""
        return (
            f"10.{self.rng.randint(64, 127)}.{self.rng.randint(0, 255)}.{self.rng.randint(2, 254)}"
        )


def owner_reference(owner: dict[str, Any], *, controller: bool = True) -> dict[str, Any]:
    """An ownerReference to `owner` as controllers write them."""
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def set_condition(
    conditions: list[dict[str, Any]],
    *,
    type_: str,
    status: str,
    reason: str,
    message: str,
    now: str,
    stamp: str = "lastUpdateTime",
) -> list[dict[str, Any]]:
    """Return `conditions` with one condition set.

    `stamp` is the field refreshed on every write (`lastUpdateTime` for Kubeflow,
    `lastProbeTime` for batch/v1); `lastTransitionTime` moves only when the status changes.
    """
    result: list[dict[str, Any]] = []
    found = False
    for condition in conditions:
        if condition.get("type") != type_:
            result.append(condition)
            continue
        found = True
        updated = dict(condition)
        if condition.get("status") != status:
            updated["lastTransitionTime"] = now
        updated.update({"status": status, "reason": reason, "message": message, stamp: now})
        result.append(updated)
    if not found:
        result.append(
            {
                "type": type_,
                "status": status,
                "reason": reason,
                "message": message,
                stamp: now,
                "lastTransitionTime": now,
            }
        )
    return result


def condition_true(status: dict[str, Any], type_: str) -> bool:
    """Whether `status.conditions` holds `type_` with status True."""
    return any(
        c.get("type") == type_ and c.get("status") == "True" for c in status.get("conditions") or []
    )


def earliest(*moments: float | None) -> float | None:
    """The soonest of the given moments that are set, or None."""
    present = [m for m in moments if m is not None]
    return min(present) if present else None


def write_status(
    ctx: MemberContext, res: Resource, obj: dict[str, Any], status: dict[str, Any]
) -> float:
    """Store `status` when it differs; ask to be reconciled again right away."""
    if status != (obj.get("status") or {}):
        meta = obj["metadata"]
        ctx.store.update_status(res, meta["namespace"], meta["name"], status)
    return ctx.now()
