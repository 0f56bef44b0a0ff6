"""The simulator: a Karmada control plane and its member clusters on one asyncio loop, plus
the test controls (cluster readiness, deleting behind Karmada's back, simulated time)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from . import errors, resources, statefile
from .clock import Clock
from .karmada import KarmadaController
from .members import ClusterSpec, MemberCluster
from .resources import CLUSTER, NAMESPACE, Resource
from .scheduler import NOT_READY_TAINT
from .store import Snapshot, Store
from .versions import CURRENT, KarmadaVersion
from .watchcache import WatchCacheSettings
from .workloads.common import Timings

__all__ = ["ClusterSpec", "Simulator", "Timings"]

log = structlog.get_logger()

KUBERNETES_VERSION = "v1.31.0"
DEFAULT_SAVE_INTERVAL_SECONDS = 5.0
# How far a restore moves the resourceVersion counter on (etcdutl's documented example).
RESTORE_BUMP = 1_000_000_000
# Bound the passes of one reconcile: each pass handles what the previous one changed.
MAX_PASSES = 64
# Objects one step of the background loop handles before letting HTTP requests in.
STEP_BUDGET = 50
# The Cluster objects' resourceSummary is refreshed at most this often (wall seconds).
SUMMARY_INTERVAL = 1.0


class Simulator:
    """Karmada plus member clusters; every method runs on the simulator's event loop thread."""

    def __init__(
        self,
        clusters: Sequence[ClusterSpec],
        *,
        timings: Timings | None = None,
        clock: Clock | None = None,
        seed: int | None = None,
        watch_cache: WatchCacheSettings | None = None,
        namespaces: Sequence[str] = (),
        karmada_version: str = CURRENT,
        failover: bool = False,
        state_file: Path | None = None,
        save_interval_seconds: float = DEFAULT_SAVE_INTERVAL_SECONDS,
    ) -> None:
        """`watch_cache` sets how far watches trail writes; `namespaces` are created at start
        (as an operator would before submitting work; others answer 404 on create);
        `karmada_version` is the Karmada release whose interpreters decide which kinds take
        their dependencies along and get status written back (e.g. "1.15", "v1.18.2");
        `failover` enables Karmada's Failover feature gate (off by default, as in Karmada):
        a NotReady cluster's workloads are evicted and scheduled elsewhere.
        `state_file`, when given, is loaded at start and written every
        `save_interval_seconds` (wall time) and when the loop stops (see `statefile`)."""
        if not clusters:
            raise ValueError("the simulator needs at least one member cluster")
        names = [c.name for c in clusters]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate cluster names in {names}")
        self.clock = clock or Clock()
        self.timings = timings or Timings()
        rng = random.Random(seed)
        self.karmada = Store(name="karmada", clock=self.clock, watch_cache=watch_cache)
        self._members = {
            spec.name: MemberCluster(
                spec,
                clock=self.clock,
                timings=self.timings,
                rng=random.Random(rng.random()),
                watch_cache=watch_cache,
            )
            for spec in clusters
        }
        self.karmada.add_listener(self._sync_namespace)
        for namespace in namespaces:
            self.karmada.namespaces.ensure(namespace)
        self.controller = KarmadaController(
            self.karmada,
            self._members,
            clock=self.clock,
            version=KarmadaVersion.parse(karmada_version),
            failover=failover,
        )
        self.failover = failover
        for spec in clusters:
            cluster = self._cluster_object(spec)
            status = cluster.pop("status")
            self.karmada.create(CLUSTER, cluster)
            self.karmada.update_status(CLUSTER, None, spec.name, status)
        self._summary_at = 0.0
        self._wake: asyncio.Event | None = None
        self.clock.on_advance(self._on_advance)
        self.state_file = state_file
        self._save_interval = save_interval_seconds
        self._snapshots: list[Snapshot] = []
        if state_file is not None:
            self._load_state(state_file, namespaces)

    # -- state file, snapshots ------------------------------------------------------------

    def _load_state(self, path: Path, namespaces: Sequence[str]) -> None:
        state = statefile.read(path)
        if state is None:
            return
        self.karmada.restore(state.karmada)
        for name, resource_version in state.member_versions.items():
            if name in self._members:
                self._members[name].store.continue_from(resource_version)
        for namespace in namespaces:
            self.karmada.namespaces.ensure(namespace)
        log.info(
            "sim.state.loaded",
            path=str(path),
            objects=len(state.karmada.objects),
            resource_version=state.karmada.resource_version,
        )

    def save_state(self) -> None:
        """Write the state file now (nothing without one)."""
        if self.state_file is None:
            return
        versions = {name: int(m.store.resource_version) for name, m in self._members.items()}
        statefile.write(self.state_file, statefile.State(self.karmada.snapshot(), versions))

    def take_snapshot(self) -> tuple[int, str]:
        """Remember the Karmada control plane's state; returns (snapshot id, its
        resourceVersion)."""
        snapshot = self.karmada.snapshot()
        self._snapshots.append(snapshot)
        return len(self._snapshots), str(snapshot.resource_version)

    def restore_snapshot(self, snapshot_id: int) -> str:
        """Roll the Karmada control plane back to a snapshot, as an etcd restore would (the
        member clusters keep their own state); returns the new resourceVersion."""
        if not 1 <= snapshot_id <= len(self._snapshots):
            raise errors.ApiError(
                404, "NotFound", f'snapshot "{snapshot_id}" not found', {"kind": "snapshots"}
            )
        self.karmada.restore(self._snapshots[snapshot_id - 1], bump=RESTORE_BUMP)
        self._on_advance()
        return self.karmada.resource_version

    def _sync_namespace(self, kind: str, res: Resource, obj: dict[str, Any]) -> None:
        """Karmada's namespace-sync controller: a namespace made on Karmada appears in every
        member (reserved karmada-* namespaces excepted)."""
        if res != NAMESPACE or kind != "ADDED":
            return
        name = obj["metadata"]["name"]
        if not name.startswith("karmada-"):
            for member in self._members.values():
                member.store.namespaces.ensure(name)

    @property
    def members(self) -> Mapping[str, MemberCluster]:
        """Member clusters by name."""
        return self._members

    # -- loop -----------------------------------------------------------------------------

    async def run(self, interval: float = 0.05) -> None:
        """Reconcile every `interval` wall seconds (and right after time advances) until
        cancelled."""
        self._wake = asyncio.Event()
        save_at = time.monotonic() + self._save_interval
        try:
            while True:
                if self.state_file is not None and time.monotonic() >= save_at:
                    self._save_quietly()
                    save_at = time.monotonic() + self._save_interval
                busy = False
                try:
                    busy = self.reconcile(budget=STEP_BUDGET) >= STEP_BUDGET
                except Exception:
                    # A controller bug must not stop the whole simulator; it is logged loudly.
                    log.exception("sim.reconcile.failed")
                if busy:
                    # More is queued: let the API server answer requests, then go on.
                    await asyncio.sleep(0)
                    continue
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=interval)
        finally:
            self._wake = None
            self._save_quietly()

    def _save_quietly(self) -> None:
        try:
            self.save_state()
        except OSError:
            # A full disk must not stop the simulator; the previous file stays intact.
            log.exception("sim.state.save_failed", path=str(self.state_file))

    def _on_advance(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def reconcile(self, budget: int | None = None) -> int:
        """Run the controllers until nothing is left to do now, or until about `budget`
        objects were handled; returns how many were handled."""
        total = 0
        for _ in range(MAX_PASSES):
            handled = 0
            controllers: list[KarmadaController | MemberCluster] = [
                self.controller,
                *self._members.values(),
            ]
            for controller in controllers:
                left = None if budget is None else budget - total - handled
                if left is not None and left <= 0:
                    break
                handled += controller.reconcile(left)
            total += handled
            if handled == 0 or (budget is not None and total >= budget):
                break
        self._refresh_summaries()
        return total

    def _refresh_summaries(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._summary_at < SUMMARY_INTERVAL:
            return
        self._summary_at = now
        for member in self._members.values():
            summary = member.take_resource_summary()
            if summary is None or not member.ready:
                continue
            cluster = self.karmada.get(CLUSTER, None, member.name)
            status = {**(cluster.get("status") or {}), "resourceSummary": summary}
            if status != cluster.get("status"):
                self.karmada.update_status(CLUSTER, None, member.name, status)

    # -- test controls --------------------------------------------------------------------

    def set_cluster_ready(self, name: str, ready: bool) -> None:
        """Flip a member cluster Ready/NotReady.

        NotReady: the Cluster gets Ready=False/ClusterNotReady and the
        `cluster.karmada.io/not-ready:NoSchedule` taint, so new bindings avoid it; its
        workloads keep running but Karmada neither updates them nor collects their status
        until it is Ready again (and the cluster proxy answers 503). With failover on it
        also gets `cluster.karmada.io/not-ready:NoExecute` (as a ClusterTaintPolicy for
        Ready!=True adds it), and the taint manager moves its workloads elsewhere.
        """
        member = self._member(name)
        member.ready = ready
        cluster = self.karmada.get(CLUSTER, None, name)
        spec = dict(cluster.get("spec") or {})
        taints = [t for t in spec.get("taints") or [] if t.get("key") != NOT_READY_TAINT]
        if not ready:
            effects = ("NoSchedule", "NoExecute") if self.failover else ("NoSchedule",)
            taints.extend(
                {"key": NOT_READY_TAINT, "effect": effect, "timeAdded": self.clock.timestamp()}
                for effect in effects
            )
        if taints:
            spec["taints"] = taints
        else:
            spec.pop("taints", None)
        if spec != cluster.get("spec"):
            self.karmada.replace(CLUSTER, {**cluster, "spec": spec})
        status = dict(self.karmada.get(CLUSTER, None, name).get("status") or {})
        status["conditions"] = [_ready_condition(ready, self.clock.timestamp())]
        self.karmada.update_status(CLUSTER, None, name, status)
        log.info("sim.cluster.readiness", cluster=name, ready=ready)
        self.controller.cluster_changed(name)
        self.reconcile()

    def delete_member_object(
        self, cluster: str, api_version: str, kind: str, namespace: str, name: str
    ) -> None:
        """Delete an object in a member cluster without telling Karmada (it re-applies it)."""
        res = resources.by_kind(api_version, kind)
        if res is None:
            raise errors.bad_request(f"no kind {kind!r} is registered for version {api_version!r}")
        self._member(cluster).store.delete(res, namespace if res.namespaced else None, name)
        log.info("sim.member.object_deleted", cluster=cluster, kind=kind, name=name)

    def advance(self, seconds: float) -> None:
        """Move simulated time forward and run everything that became due."""
        self.clock.advance(seconds)
        self.reconcile()

    def store_for(self, cluster: str | None) -> Store:
        """The Karmada control plane's store (None) or a member cluster's; unknown -> 404."""
        if cluster is None:
            return self.karmada
        return self._member(cluster).store

    def pod_log(
        self, cluster: str, namespace: str, pod: str, container: str | None
    ) -> list[tuple[datetime, str]]:
        """The (timestamp, line) pairs a member pod's container printed so far."""
        return self._member(cluster).pod_log(namespace, pod, container)

    def _member(self, name: str) -> MemberCluster:
        member = self._members.get(name)
        if member is None:
            raise errors.not_found(CLUSTER, name)
        return member

    # -- Cluster objects ------------------------------------------------------------------

    def _cluster_object(self, spec: ClusterSpec) -> dict[str, Any]:
        member = self._members[spec.name]
        cluster_spec: dict[str, Any] = {
            "syncMode": "Push",
            "apiEndpoint": f"https://{spec.name}.sim.ml-platform.local:6443",
            "provider": spec.provider,
            "secretRef": {"namespace": "karmada-cluster", "name": spec.name},
            "impersonatorSecretRef": {
                "namespace": "karmada-cluster",
                "name": f"{spec.name}-impersonator",
            },
        }
        if spec.region:
            cluster_spec["region"] = spec.region
        if spec.zone:
            cluster_spec["zones"] = [spec.zone]
        return {
            "apiVersion": CLUSTER.api_version,
            "kind": CLUSTER.kind,
            "metadata": {"name": spec.name, "labels": dict(spec.labels)},
            "spec": cluster_spec,
            "status": {
                "kubernetesVersion": KUBERNETES_VERSION,
                "apiEnablements": _api_enablements(member),
                "conditions": [_ready_condition(True, self.clock.timestamp())],
                "nodeSummary": {"totalNum": 3, "readyNum": 3},
                "resourceSummary": member.take_resource_summary(),
            },
        }


def _ready_condition(ready: bool, now: str) -> dict[str, Any]:
    if ready:
        return {
            "type": "Ready",
            "status": "True",
            "reason": "ClusterReady",
            "message": "cluster is healthy and ready to accept workloads",
            "lastTransitionTime": now,
        }
    return {
        "type": "Ready",
        "status": "False",
        "reason": "ClusterNotReady",
        "message": "cluster is reachable but health endpoint responded without ok",
        "lastTransitionTime": now,
    }


def _api_enablements(member: MemberCluster) -> list[dict[str, Any]]:
    served = (
        resources.POD,
        resources.SECRET,
        resources.CONFIGMAP,
        resources.PVC,
        resources.RAYCLUSTER,
        *member.kinds,
    )
    by_group: dict[str, list[dict[str, str]]] = {}
    for res in served:
        by_group.setdefault(res.api_version, []).append({"name": res.plural, "kind": res.kind})
    return [{"groupVersion": gv, "resources": items} for gv, items in sorted(by_group.items())]
