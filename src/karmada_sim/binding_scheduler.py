"""Karmada's scheduler as a controller: decides a ResourceBinding's clusters (the algorithm
is in `scheduler`), records the decision and its `Scheduled` condition, and retries bindings
no cluster fits when clusters change."""

from __future__ import annotations

from typing import Any

import orjson
import structlog

from .bindings import (
    APPLIED_PLACEMENT_ANNOTATION,
    TemplateKey,
    condition,
    evicting,
    set_condition,
    write_binding_status,
)
from .clock import Clock
from .resources import CLUSTER, RESOURCE_BINDING
from .scheduler import schedule
from .store import Store

log = structlog.get_logger()


class BindingScheduler:
    """ResourceBinding placement -> spec.clusters."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.unscheduled: set[TemplateKey] = set()

    def schedule(self, key: TemplateKey, binding: dict[str, Any]) -> dict[str, Any]:
        """Schedule when the placement changed since the last decision or none succeeded yet.

        Like Karmada, the placement a decision was made for is kept in the binding's
        `policy.karmada.io/applied-placement` annotation; readiness changes alone do not move
        a scheduled workload. A binding left without clusters (failover evicted them) is
        scheduled again, away from the clusters it is being evicted from.
        """
        spec = binding.get("spec") or {}
        status = binding.get("status") or {}
        placement = spec.get("placement") or {}
        placement_json = orjson.dumps(placement, option=orjson.OPT_SORT_KEYS).decode()
        annotations = binding["metadata"].get("annotations") or {}
        scheduled = condition(status, "Scheduled")
        if (
            scheduled is not None
            and scheduled.get("status") == "True"
            and annotations.get(APPLIED_PLACEMENT_ANNOTATION) == placement_json
            and spec.get("clusters")
        ):
            return binding
        current = [c["name"] for c in spec.get("clusters") or []]
        clusters = list(self.store.items(CLUSTER))
        result = schedule(
            placement,
            clusters,
            current=current,
            replicas=int(spec.get("replicas") or 0),
            evicted=evicting(binding),
        )
        now = self.clock.timestamp()
        meta = binding["metadata"]
        if result.scheduled:
            self.unscheduled.discard(key)
            replicas = spec.get("replicas")
            targets = [
                {"name": n, **({"replicas": replicas} if replicas else {})} for n in result.clusters
            ]
            binding = self.store.patch(
                RESOURCE_BINDING,
                meta["namespace"],
                meta["name"],
                {
                    "metadata": {"annotations": {APPLIED_PLACEMENT_ANNOTATION: placement_json}},
                    "spec": {"clusters": targets},
                },
                patch_type="merge",
            )
            log.info(
                "karmada.binding.scheduled", binding=meta["name"], clusters=list(result.clusters)
            )
        else:
            self.unscheduled.add(key)
            log.info("karmada.binding.unschedulable", binding=meta["name"], message=result.message)
        new_status = dict(binding.get("status") or {})
        new_status["schedulerObservedGeneration"] = binding["metadata"].get("generation")
        if result.scheduled:
            new_status["lastScheduledTime"] = now
        new_status["conditions"] = set_condition(
            new_status.get("conditions") or [],
            "Scheduled",
            "True" if result.scheduled else "False",
            result.reason,
            result.message,
            now,
        )
        return write_binding_status(self.store, binding, new_status)
