"""Karmada's cluster failover, off unless enabled (feature gate `Failover`, default false in
karmada-io/karmada v1.18.2 pkg/features/features.go):

- the NoExecute taint manager (pkg/controllers/cluster/taint_manager.go) evicts a binding
  from a cluster with a NoExecute taint its placement does not tolerate (or tolerates only
  for `tolerationSeconds`, counted from the taint's `timeAdded`): the cluster leaves
  `spec.clusters` and becomes a graceful eviction task (reason TaintUntolerated, producer
  TaintManager), so the scheduler places the workload elsewhere;
- the graceful eviction controller (pkg/controllers/gracefuleviction/evictiontask.go) drops
  a task once every newly scheduled cluster reports the workload Healthy, or after the
  task's gracePeriodSeconds (default `--graceful-eviction-timeout`, 10 minutes). Until then
  the workload stays on the evicted cluster too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from .bindings import TemplateKey, evicting
from .clock import Clock
from .resources import CLUSTER, RESOURCE_BINDING
from .scheduler import toleration_for
from .store import Store
from .workqueue import WorkQueue

log = structlog.get_logger()

GRACEFUL_EVICTION_TIMEOUT_SECONDS = 600.0


class Failover:
    """Taint-based eviction and graceful eviction of ResourceBindings."""

    def __init__(self, store: Store, clock: Clock, queue: WorkQueue[TemplateKey]) -> None:
        self.store = store
        self.clock = clock
        self.queue = queue

    def evict(self, key: TemplateKey, binding: dict[str, Any]) -> dict[str, Any]:
        """Move clusters whose NoExecute taints the binding does not tolerate (any more) into
        graceful eviction tasks; look again when a toleration runs out."""
        spec = binding.get("spec") or {}
        tolerations = (spec.get("placement") or {}).get("clusterTolerations") or []
        now = self.clock.now()
        evicted: list[str] = []
        for target in spec.get("clusters") or []:
            cluster = self.store.find(CLUSTER, None, target["name"])
            for taint in ((cluster or {}).get("spec") or {}).get("taints") or []:
                if taint.get("effect") != "NoExecute":
                    continue
                toleration = toleration_for(taint, tolerations)
                if toleration is None:
                    evicted.append(target["name"])
                    break
                seconds = toleration.get("tolerationSeconds")
                if seconds is None:
                    continue  # tolerated for good
                added = _parse(taint.get("timeAdded")) or now
                due = added.timestamp() + float(seconds)
                if due <= now.timestamp():
                    evicted.append(target["name"])
                    break
                self.queue.schedule(key, due)
        if not evicted:
            return binding
        stamp = self.clock.timestamp()
        tasks = [
            *(spec.get("gracefulEvictionTasks") or []),
            *(
                {
                    "fromCluster": name,
                    "purgeMode": "Gracefully",
                    "reason": "TaintUntolerated",
                    "producer": "TaintManager",
                    "creationTimestamp": stamp,
                }
                for name in evicted
                if name not in evicting(binding)
            ),
        ]
        kept = [c for c in spec.get("clusters") or [] if c["name"] not in evicted]
        meta = binding["metadata"]
        log.info("karmada.binding.evicted", binding=meta["name"], clusters=evicted)
        return self.store.patch(
            RESOURCE_BINDING,
            meta["namespace"],
            meta["name"],
            {"spec": {"clusters": kept, "gracefulEvictionTasks": tasks}},
            patch_type="merge",
        )

    def assess(self, key: TemplateKey, binding: dict[str, Any]) -> dict[str, Any]:
        """Drop eviction tasks whose workload is healthy elsewhere or whose time is up."""
        spec = binding.get("spec") or {}
        tasks = spec.get("gracefulEvictionTasks") or []
        if not tasks:
            return binding
        scheduled = {c["name"] for c in spec.get("clusters") or []}
        health = {
            item.get("clusterName"): item.get("health")
            for item in (binding.get("status") or {}).get("aggregatedStatus") or []
        }
        healthy = bool(scheduled) and all(health.get(c) == "Healthy" for c in scheduled)
        now = self.clock.now().timestamp()
        kept = []
        for task in tasks:
            created = _parse(task.get("creationTimestamp"))
            timeout = float(task.get("gracePeriodSeconds") or GRACEFUL_EVICTION_TIMEOUT_SECONDS)
            due = (created.timestamp() if created else now) + timeout
            if healthy or due <= now:
                continue
            kept.append(task)
            self.queue.schedule(key, due)
        if len(kept) == len(tasks):
            return binding
        meta = binding["metadata"]
        return self.store.patch(
            RESOURCE_BINDING,
            meta["namespace"],
            meta["name"],
            {"spec": {"gracefulEvictionTasks": kept or None}},
            patch_type="merge",
        )


def _parse(stamp: object) -> datetime | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
