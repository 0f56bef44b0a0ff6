"""The Karmada control plane: routes events to the controllers and reconciles one resource
template at a time through them, in Karmada's order — detector (policy claim and binding),
scheduler, binding controller and execution (Works on member clusters), dependencies
distributor, status controllers.

Everything is keyed by the resource template (kind, namespace, name): events on templates,
policies, bindings and member objects mark the template, and one reconcile brings its binding,
its member objects and its status up to date.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from .binding_controller import BindingController
from .binding_scheduler import BindingScheduler
from .bindings import (
    BY_API_KIND,
    MANAGED_LABEL,
    POLICY_NAME_ANNOTATION,
    TEMPLATE_KINDS,
    TemplateKey,
    attached,
    binding_name,
    owned_by,
    peek,
    targets,
)
from .clock import Clock
from .dependencies import dependencies
from .dependencies_distributor import DependenciesDistributor
from .detector import Detector
from .execution import Execution
from .failover import Failover
from .members import MemberCluster
from .resources import CLUSTER, PROPAGATION_POLICY, RESOURCE_BINDING, Resource
from .status_controller import StatusController
from .store import Store
from .versions import CURRENT, KarmadaVersion
from .workqueue import WorkQueue

log = structlog.get_logger()

# Simulated seconds before a template whose reconcile raised is tried again.
RETRY_SECONDS = 1.0


class KarmadaController:
    """Detector, scheduler, binding, execution and status controllers of the Karmada control
    plane, driven by one work queue of resource templates."""

    def __init__(
        self,
        store: Store,
        members: Mapping[str, MemberCluster],
        *,
        clock: Clock,
        version: KarmadaVersion | None = None,
        failover: bool = False,
    ) -> None:
        """`version` is the Karmada release to behave as (default `versions.CURRENT`);
        `failover` turns on the Failover feature gate (taint-based and graceful eviction)."""
        self.version = version or KarmadaVersion.parse(CURRENT)
        self.store = store
        self.members = members
        self.clock = clock
        self.queue: WorkQueue[TemplateKey] = WorkQueue()
        self.detector = Detector(store)
        self.scheduler = BindingScheduler(store, clock)
        self.bindings = BindingController(store, members, Execution())
        self.distributor = DependenciesDistributor(store, self.queue)
        self.status = StatusController(store, members, clock, self.version)
        self.failover = Failover(store, clock, self.queue) if failover else None
        store.add_admission(self.detector.admit)
        store.add_listener(self._on_event)
        for member in members.values():
            member.add_listener(self._on_member_event)

    # -- events ---------------------------------------------------------------------------

    def _on_event(self, event: str, res: Resource, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        if res in TEMPLATE_KINDS:
            self.queue.mark((res, meta.get("namespace", ""), meta["name"]))
        elif res == PROPAGATION_POLICY:
            self._on_policy(event, obj)
        elif res == RESOURCE_BINDING:
            target = (obj.get("spec") or {}).get("resource") or {}
            kind = BY_API_KIND.get((target.get("apiVersion", ""), target.get("kind", "")))
            if kind is not None:
                self.queue.mark((kind, target.get("namespace", ""), target.get("name", "")))
        elif res == CLUSTER:
            for key in list(self.scheduler.unscheduled):
                self.queue.mark(key)

    def _on_policy(self, event: str, policy: dict[str, Any]) -> None:
        policies = self.detector.policies
        meta = policy["metadata"]
        if meta.get("deletionTimestamp"):
            # Held by its finalizer: the detector releases it from the same queue.
            self.queue.mark((PROPAGATION_POLICY, meta["namespace"], meta["name"]))
        previous = policies.remove(meta["namespace"], meta["name"])
        if event != "DELETED":
            policies.put(policy)
        for version in (previous, policy):
            if version is None:
                continue
            generic, named = policies.targets(version)
            for namespace, api_version, kind, name in named:
                res = BY_API_KIND.get((api_version, kind))
                if res is not None:
                    self.queue.mark((res, namespace, name))
            for namespace, api_version, kind in generic:
                res = BY_API_KIND.get((api_version, kind))
                if res is not None:
                    for template in self.store.items(res, namespace):
                        self.queue.mark((res, namespace, template["metadata"]["name"]))

    def _on_member_event(self, event: str, res: Resource, obj: dict[str, Any]) -> None:
        if res not in TEMPLATE_KINDS:
            return
        labels = obj["metadata"].get("labels") or {}
        if labels.get(MANAGED_LABEL) == "true":
            self.queue.mark((res, obj["metadata"].get("namespace", ""), obj["metadata"]["name"]))

    def cluster_changed(self, name: str) -> None:
        """A cluster's readiness changed: retry unscheduled bindings, resync its workloads."""
        for key in list(self.scheduler.unscheduled):
            self.queue.mark(key)
        for binding in self.store.items(RESOURCE_BINDING):
            if (
                self.failover is not None
                or name in targets(binding)
                or binding["metadata"].get("deletionTimestamp")
            ):
                target = binding["spec"]["resource"]
                res = BY_API_KIND.get((target.get("apiVersion", ""), target.get("kind", "")))
                if res is not None:
                    self.queue.mark((res, target.get("namespace", ""), target.get("name", "")))

    # -- reconcile ------------------------------------------------------------------------

    def reconcile(self, limit: int | None = None) -> int:
        """Handle templates (and deleted policies) that changed, at most `limit`; returns how
        many were handled."""
        now = self.clock.now().timestamp()
        keys = self.queue.pop_ready(now, limit)
        for key in keys:
            try:
                if key[0] == PROPAGATION_POLICY:
                    self.detector.release_policy(key[1], key[2])
                else:
                    self.reconcile_template(*key)
            except Exception:
                # One broken template must not starve the rest: log it and try again later.
                log.exception(
                    "karmada.reconcile_failed", kind=key[0].kind, namespace=key[1], name=key[2]
                )
                self.queue.schedule(key, now + RETRY_SECONDS)
        return len(keys)

    def reconcile_template(self, res: Resource, namespace: str, name: str) -> None:
        """Bring one template's binding, member objects and status up to date."""
        key = (res, namespace, name)
        template = peek(self.store, res, namespace, name)
        binding = peek(self.store, RESOURCE_BINDING, namespace, binding_name(name, res.kind))
        if binding is not None and template is not None and not owned_by(binding, template):
            # A binding left over from an earlier object with this name: clean it up first.
            self._release(key, binding)
            return
        if template is None or template["metadata"].get("deletionTimestamp"):
            self.scheduler.unscheduled.discard(key)
            self.detector.forget(key)
            self.distributor.require(key, None, set())
            if binding is not None:
                self._release(key, binding)
            return
        if binding is not None and binding["metadata"].get("deletionTimestamp"):
            self.distributor.require(key, None, set())
            self._release(key, binding)
            return
        detector = self.detector
        policy = detector.policies.claimant(template)
        if policy is not None:
            policy = detector.ensure_policy_id(policy)
            template = detector.claim(res, template, policy)
            binding = detector.ensure_binding(res, template, policy, binding)
        elif self.distributor.required(key):
            binding = self.distributor.ensure_attached_binding(res, template, binding)
        elif binding is not None and attached(binding):
            # No workload needs this dependency any more.
            self._release(key, binding)
            return
        elif POLICY_NAME_ANNOTATION in (template["metadata"].get("annotations") or {}):
            # Its policy is gone: Karmada drops the claim but keeps binding and workloads.
            template = detector.unclaim(res, template)
            if binding is not None:
                binding = detector.unclaim(RESOURCE_BINDING, binding)
        if binding is None:
            return  # no policy, no binding: nothing runs
        if not attached(binding):
            if self.failover is not None:
                binding = self.failover.evict(key, binding)
            binding = self.scheduler.schedule(key, binding)
        self.bindings.propagate(res, template, binding)
        self.status.collect(res, template, binding)
        if self.failover is not None:
            self.failover.assess(
                key,
                peek(self.store, RESOURCE_BINDING, namespace, binding["metadata"]["name"])
                or binding,
            )
        wanted: set[TemplateKey] = set()
        if (binding.get("spec") or {}).get("propagateDeps"):
            wanted = {
                (kind, namespace, dep) for kind, dep in dependencies(res, template, self.version)
            }
        self.distributor.require(key, binding, wanted)

    def _release(self, key: TemplateKey, binding: dict[str, Any]) -> None:
        if self.bindings.release(key[0], binding):
            self.scheduler.unscheduled.discard(key)
