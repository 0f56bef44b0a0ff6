"""A member cluster: its own API objects (a Store), the workload controllers that run what
Karmada gives it, pod logs, and the capacity it reports to the Karmada Cluster object."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import structlog

from . import errors, resources
from .clock import Clock
from .resources import Resource
from .store import Store
from .watchcache import WatchCacheSettings
from .workloads.batchjob import BatchJobController
from .workloads.common import MemberContext, Timings
from .workloads.logs import LogBook
from .workloads.pytorchjob import MPI, PYTORCH, TENSORFLOW, KubeflowJobController
from .workloads.rayjob import RayJobController
from .workqueue import WorkQueue

log = structlog.get_logger()

# Simulated seconds before an object whose reconcile raised is tried again.
RETRY_SECONDS = 1.0
_CLUSTER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

# What each simulated cluster offers (3 nodes); `allocated` grows with running pods.
NODES = 3
ALLOCATABLE = {"cpu": 96_000, "memory": 384 * 1024**3, "pods": 330, "nvidia.com/gpu": 8}


@dataclass(frozen=True)
class ClusterSpec:
    """A member cluster to simulate: its name and where it is."""

    name: str
    region: str | None = None
    zone: str | None = None
    provider: str = "ml-platform-sim"
    labels: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> ClusterSpec:
        """Parse `member1`, `member1@eu-west` or `member1@eu-west/a`."""
        name, _, where = text.strip().partition("@")
        region, _, zone = where.partition("/")
        if not _CLUSTER_NAME.match(name) or len(name) > 48:
            raise ValueError(f"invalid cluster name {name!r}: use lowercase letters, digits, '-'")
        return cls(name=name, region=region or None, zone=zone or None)


class Controller(Protocol):
    """A workload controller: reconcile one object, say when to look again."""

    resource: Resource

    def reconcile(self, namespace: str, name: str) -> float | None: ...


MemberKey = tuple[Resource, str, str]


class MemberCluster:
    """One simulated member cluster."""

    def __init__(
        self,
        spec: ClusterSpec,
        *,
        clock: Clock,
        timings: Timings,
        rng: random.Random | None = None,
        watch_cache: WatchCacheSettings | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.clock = clock
        self.store = Store(name=spec.name, clock=clock, watch_cache=watch_cache)
        self.ready = True
        self.logs = LogBook()
        self.queue: WorkQueue[MemberKey] = WorkQueue()
        self._pods_changed = True
        ctx = MemberContext(
            cluster=spec.name,
            store=self.store,
            clock=clock,
            timings=timings,
            logs=self.logs,
            rng=rng or random.Random(),
            on_pods_changed=self._mark_pods_changed,
        )
        controllers: list[Controller] = [
            RayJobController(ctx),
            KubeflowJobController(ctx, PYTORCH),
            KubeflowJobController(ctx, TENSORFLOW),
            KubeflowJobController(ctx, MPI),
            BatchJobController(ctx),
        ]
        self._controllers: dict[Resource, Controller] = {c.resource: c for c in controllers}
        self.store.add_listener(self._on_event)

    @property
    def kinds(self) -> tuple[Resource, ...]:
        """The workload kinds this cluster runs."""
        return tuple(self._controllers)

    def add_listener(self, listener: Callable[[str, Resource, dict[str, Any]], None]) -> None:
        """Observe every write to this cluster's objects (Karmada's status collection)."""
        self.store.add_listener(listener)

    def _on_event(self, event: str, res: Resource, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        if res in self._controllers or res == resources.PVC:
            self.queue.mark((res, meta.get("namespace", ""), meta["name"]))
        if (event == "ADDED" and res == resources.PVC) or (
            event != "DELETED" and res in (resources.SECRET, resources.CONFIGMAP)
        ):
            # Pods waiting for this object (scheduler requeue, kubelet mount retry) try again.
            namespace = meta.get("namespace", "")
            for kind in self._controllers:
                for name in self.store.names_in(kind, namespace):
                    self.queue.mark((kind, namespace, name))
        elif res == resources.POD:
            if event == "DELETED":
                self.logs.remove(meta.get("namespace", ""), meta["name"])
            self._pods_changed = True

    def _mark_pods_changed(self) -> None:
        self._pods_changed = True

    def reconcile(self, limit: int | None = None) -> int:
        """Handle objects that changed or are due (at most `limit`); returns how many."""
        now = self.clock.now().timestamp()
        keys = self.queue.pop_ready(now, limit)
        for key in keys:
            res, namespace, name = key
            if res == resources.PVC:
                self._bind_claim(namespace, name)
                continue
            try:
                due = self._controllers[res].reconcile(namespace, name)
            except Exception:
                # One broken object must not starve the rest: log it and try again later.
                log.exception(
                    "sim.member.reconcile_failed",
                    cluster=self.name,
                    kind=res.kind,
                    namespace=namespace,
                    name=name,
                )
                self.queue.schedule(key, now + RETRY_SECONDS)
                continue
            if due is not None:
                if due <= now:
                    self.queue.mark(key)
                else:
                    self.queue.schedule(key, due)
        return len(keys)

    def _bind_claim(self, namespace: str, name: str) -> None:
        """A provisioner binds every claim at once (there is no storage to wait for)."""
        claim = self.store.find(resources.PVC, namespace, name)
        if claim is None or claim["metadata"].get("deletionTimestamp"):
            return
        spec = claim.get("spec") or {}
        status = {
            "phase": "Bound",
            "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
            "capacity": {
                "storage": ((spec.get("resources") or {}).get("requests") or {}).get(
                    "storage", "1Gi"
                )
            },
        }
        if claim.get("status") != status:
            self.store.update_status(resources.PVC, namespace, name, status)

    # -- pods/log -------------------------------------------------------------------------

    def pod_log(
        self, namespace: str, pod: str, container: str | None
    ) -> list[tuple[datetime, str]]:
        """(timestamp, line) pairs a container printed so far, as the kubelet would serve."""
        obj = self.store.find(resources.POD, namespace, pod)
        if obj is None:
            raise errors.not_found(resources.POD, pod)
        names = [c.get("name", "") for c in (obj.get("spec") or {}).get("containers") or []]
        if container is None:
            if len(names) > 1:
                raise errors.bad_request(
                    f"a container name must be specified for pod {pod}, "
                    f"choose one of: [{' '.join(names)}]"
                )
            container = names[0] if names else ""
        elif container not in names:
            raise errors.bad_request(f"container {container} is not valid for pod {pod}")
        if (obj.get("status") or {}).get("phase", "Pending") == "Pending":
            raise errors.bad_request(
                f'container "{container}" in pod "{pod}" is waiting to start: ContainerCreating'
            )
        scripts = self.logs.containers(namespace, pod) or {}
        script = scripts.get(container)
        return [] if script is None else script.lines(self.clock.now().timestamp())

    # -- capacity -------------------------------------------------------------------------

    def take_resource_summary(self) -> dict[str, Any] | None:
        """The Cluster's resourceSummary when pods changed since the last call, else None."""
        if not self._pods_changed:
            return None
        self._pods_changed = False
        cpu = memory = gpus = pods = 0
        for pod in self.store.items(resources.POD):
            if (pod.get("status") or {}).get("phase") not in ("Pending", "Running"):
                continue
            pods += 1
            for container in (pod.get("spec") or {}).get("containers") or []:
                requests = (container.get("resources") or {}).get("requests") or {}
                cpu += _millicores(requests.get("cpu", "0"))
                memory += _bytes(requests.get("memory", "0"))
                gpus += int(float(str(requests.get("nvidia.com/gpu", "0"))))
        return {
            "allocatable": _quantities(ALLOCATABLE),
            "allocated": _quantities(
                {"cpu": cpu, "memory": memory, "pods": pods, "nvidia.com/gpu": gpus}
            ),
            "allocating": _quantities({"cpu": 0, "memory": 0, "pods": 0}),
        }


def _millicores(value: object) -> int:
    text = str(value)
    if text.endswith("m"):
        return int(float(text[:-1]))
    return int(float(text) * 1000)


_UNITS = {
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
}


def _bytes(value: object) -> int:
    text = str(value)
    for suffix, factor in _UNITS.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(float(text))


def _quantities(values: dict[str, int]) -> dict[str, str]:
    result = {}
    for key, value in values.items():
        if key == "cpu":
            result[key] = f"{value // 1000}" if value % 1000 == 0 else f"{value}m"
        elif key == "memory":
            result[key] = f"{value // 1024**2}Mi" if value % 1024**2 == 0 else str(value)
        else:
            result[key] = str(value)
    return result
