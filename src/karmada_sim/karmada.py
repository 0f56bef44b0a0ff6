"""The Karmada control plane's controllers: policy detection, ResourceBindings, scheduling,
propagation to member clusters, status collection and write-back to resource templates.

Everything is keyed by the resource template (kind, namespace, name): events on templates,
policies, bindings and member objects mark the template, and one reconcile brings its binding,
its member objects and its status up to date.
"""

from __future__ import annotations

import copy
import uuid
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
import structlog

from . import interpreters
from .clock import Clock
from .dependencies import dependencies
from .errors import ApiError
from .members import MemberCluster
from .resources import (
    CLUSTER,
    CONFIGMAP,
    JOB,
    MPIJOB,
    PROPAGATION_POLICY,
    PVC,
    PYTORCHJOB,
    RAYJOB,
    RESOURCE_BINDING,
    SECRET,
    TFJOB,
    Resource,
)
from .scheduler import label_selector_matches, schedule
from .store import Store
from .workloads.common import owner_reference
from .workqueue import WorkQueue

log = structlog.get_logger()

# Kinds Karmada propagates in this simulator (resource templates in the control plane).
TEMPLATE_KINDS: tuple[Resource, ...] = (
    RAYJOB,
    PYTORCHJOB,
    TFJOB,
    MPIJOB,
    JOB,
    PVC,
    SECRET,
    CONFIGMAP,
)
_BY_API_KIND = {(r.api_version, r.kind): r for r in TEMPLATE_KINDS}

BINDING_FINALIZER = "karmada.io/binding-controller"
POLICY_ID_LABEL = "propagationpolicy.karmada.io/permanent-id"
BINDING_ID_LABEL = "resourcebinding.karmada.io/permanent-id"
WORK_ID_LABEL = "work.karmada.io/permanent-id"
MANAGED_LABEL = "karmada.io/managed"
POLICY_NAME_ANNOTATION = "propagationpolicy.karmada.io/name"
POLICY_NAMESPACE_ANNOTATION = "propagationpolicy.karmada.io/namespace"
BINDING_NAME_ANNOTATION = "resourcebinding.karmada.io/name"
BINDING_NAMESPACE_ANNOTATION = "resourcebinding.karmada.io/namespace"
WORK_NAME_ANNOTATION = "work.karmada.io/name"
WORK_NAMESPACE_ANNOTATION = "work.karmada.io/namespace"
TEMPLATE_UID_ANNOTATION = "resourcetemplate.karmada.io/uid"
TEMPLATE_GENERATION_ANNOTATION = "resourcetemplate.karmada.io/generation"
MANAGED_LABELS_ANNOTATION = "resourcetemplate.karmada.io/managed-labels"
MANAGED_ANNOTATIONS_ANNOTATION = "resourcetemplate.karmada.io/managed-annotations"
APPLIED_PLACEMENT_ANNOTATION = "policy.karmada.io/applied-placement"

# Labels/annotations of the policy claim on a template; Karmada does not copy them to members.
_CLAIM_KEYS = (POLICY_ID_LABEL, POLICY_NAME_ANNOTATION, POLICY_NAMESPACE_ANNOTATION)

TemplateKey = tuple[Resource, str, str]
# Simulated seconds before a template whose reconcile raised is tried again.
RETRY_SECONDS = 1.0


def binding_name(name: str, kind: str) -> str:
    """Karmada's ResourceBinding name for a template: `<name>-<kind>`, lower case."""
    return f"{name}-{kind}".lower()


def work_name(namespace: str, name: str, kind: str) -> str:
    """A stable Work name `<name>-<hash>` (Karmada hashes kind, namespace and name)."""
    digest = zlib.crc32(f"{kind}/{namespace}/{name}".encode())
    return f"{name}-{_safe_encode(digest)}"


def _safe_encode(number: int) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    text = ""
    while number:
        number, digit = divmod(number, len(alphabet))
        text += alphabet[digit]
    return text or alphabet[0]


class PolicyIndex:
    """PropagationPolicies by what they select, so matching one template is not a scan."""

    def __init__(self) -> None:
        self._named: dict[tuple[str, str, str, str], set[str]] = {}
        self._generic: dict[tuple[str, str, str], set[str]] = {}
        self._policies: dict[tuple[str, str], dict[str, Any]] = {}

    def _selector_keys(
        self, policy: dict[str, Any]
    ) -> Iterable[tuple[tuple[str, str, str, str] | None, tuple[str, str, str]]]:
        namespace = policy["metadata"]["namespace"]
        for selector in (policy.get("spec") or {}).get("resourceSelectors") or []:
            target_ns = selector.get("namespace") or namespace
            if target_ns != namespace:
                continue  # a PropagationPolicy only selects in its own namespace
            api_version, kind = selector.get("apiVersion", ""), selector.get("kind", "")
            if selector.get("name"):
                yield (
                    (namespace, api_version, kind, selector["name"]),
                    (namespace, api_version, kind),
                )
            else:
                yield None, (namespace, api_version, kind)

    def put(self, policy: dict[str, Any]) -> None:
        """Index (or re-index) a policy."""
        self.remove(policy["metadata"]["namespace"], policy["metadata"]["name"])
        name = policy["metadata"]["name"]
        self._policies[(policy["metadata"]["namespace"], name)] = policy
        for named, generic in self._selector_keys(policy):
            if named is not None:
                self._named.setdefault(named, set()).add(name)
            else:
                self._generic.setdefault(generic, set()).add(name)

    def remove(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Drop a policy from the index; returns what was indexed."""
        policy = self._policies.pop((namespace, name), None)
        if policy is None:
            return None
        for named, generic in self._selector_keys(policy):
            bucket = self._named.get(named) if named is not None else self._generic.get(generic)
            if bucket is not None:
                bucket.discard(name)
        return policy

    def targets(
        self, policy: dict[str, Any]
    ) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str, str]]]:
        """What a policy may select: (generic (ns, apiVersion, kind), named keys)."""
        generic, named = [], []
        for named_key, generic_key in self._selector_keys(policy):
            if named_key is None:
                generic.append(generic_key)
            else:
                named.append(named_key)
        return generic, named

    def claimant(self, template: dict[str, Any]) -> dict[str, Any] | None:
        """The policy that claims `template` now, as Karmada's detector decides.

        A template already claimed by a live policy that still selects it stays with that
        policy; another matching policy takes it over only with `preemption: Always` and a
        higher priority (Karmada: "Policy Preemption"). Otherwise the best match claims it.
        """
        best = self.match(template)
        annotations = template["metadata"].get("annotations") or {}
        held = self._policies.get(
            (
                annotations.get(POLICY_NAMESPACE_ANNOTATION, ""),
                annotations.get(POLICY_NAME_ANNOTATION, ""),
            )
        )
        if (
            held is None
            or held["metadata"].get("deletionTimestamp")
            or _selector_specificity(held, template) < 0
            or best is None
            or best is held
        ):
            return best
        best_spec, held_spec = best.get("spec") or {}, held.get("spec") or {}
        if best_spec.get("preemption") == "Always" and int(best_spec.get("priority") or 0) > int(
            held_spec.get("priority") or 0
        ):
            return best
        return held

    def match(self, template: dict[str, Any]) -> dict[str, Any] | None:
        """The best policy for an unclaimed `template`: highest priority, then the most
        specific selector (name > labelSelector > kind only), then the smallest name."""
        meta = template["metadata"]
        namespace, api_version, kind = (
            meta.get("namespace", ""),
            template["apiVersion"],
            template["kind"],
        )
        names = self._named.get(
            (namespace, api_version, kind, meta["name"]), set()
        ) | self._generic.get((namespace, api_version, kind), set())
        best: tuple[int, int, str] | None = None
        chosen = None
        for policy_name in names:
            policy = self._policies[(namespace, policy_name)]
            if policy["metadata"].get("deletionTimestamp"):
                continue
            specificity = _selector_specificity(policy, template)
            if specificity < 0:
                continue
            priority = int((policy.get("spec") or {}).get("priority") or 0)
            rank = (priority, specificity, policy_name)
            if (
                best is None
                or (rank[0], rank[1]) > (best[0], best[1])
                or ((rank[0], rank[1]) == (best[0], best[1]) and rank[2] < best[2])
            ):
                best, chosen = rank, policy
        return chosen


def _selector_specificity(policy: dict[str, Any], template: dict[str, Any]) -> int:
    """-1 when no selector matches; 2 by name, 1 by labelSelector, 0 by kind only."""
    meta = template["metadata"]
    best = -1
    for selector in (policy.get("spec") or {}).get("resourceSelectors") or []:
        if (
            selector.get("apiVersion") != template["apiVersion"]
            or selector.get("kind") != template["kind"]
        ):
            continue
        if selector.get("name") and selector["name"] != meta["name"]:
            continue
        if not label_selector_matches(selector.get("labelSelector"), meta.get("labels") or {}):
            continue
        best = max(best, 2 if selector.get("name") else 1 if selector.get("labelSelector") else 0)
    return best


class KarmadaController:
    """Detector, scheduler, binding and status controllers of the Karmada control plane."""

    def __init__(self, store: Store, members: Mapping[str, MemberCluster], *, clock: Clock) -> None:
        self.store = store
        self.members = members
        self.clock = clock
        self.queue: WorkQueue[TemplateKey] = WorkQueue()
        self.policies = PolicyIndex()
        self._generations: dict[TemplateKey, int] = {}
        self._work_ids: dict[tuple[str, str, str], str] = {}
        self._unscheduled: set[TemplateKey] = set()
        self._placements: dict[tuple[str, str], tuple[str, ...]] = {}
        self._applied: dict[tuple[str, Resource, str, str], tuple[Any, ...]] = {}
        # dependency -> {requiring binding name: its clusters}; parent -> its dependencies
        self._required_by: dict[TemplateKey, dict[str, tuple[str, ...]]] = {}
        self._deps: dict[TemplateKey, set[TemplateKey]] = {}
        self._load: Counter[str] = Counter()
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
            self._count_placement(event, obj)
            target = (obj.get("spec") or {}).get("resource") or {}
            kind = _BY_API_KIND.get((target.get("apiVersion", ""), target.get("kind", "")))
            if kind is not None:
                self.queue.mark((kind, target.get("namespace", ""), target.get("name", "")))
        elif res == CLUSTER:
            for key in list(self._unscheduled):
                self.queue.mark(key)

    def _count_placement(self, event: str, binding: dict[str, Any]) -> None:
        """Keep per-cluster binding counts current (the scheduler's tie-breaker)."""
        key = (binding["metadata"]["namespace"], binding["metadata"]["name"])
        before = self._placements.pop(key, ())
        for name in before:
            self._load[name] -= 1
        if event == "DELETED":
            return
        after = tuple(c["name"] for c in (binding.get("spec") or {}).get("clusters") or [])
        if after:
            self._placements[key] = after
            for name in after:
                self._load[name] += 1

    def _on_policy(self, event: str, policy: dict[str, Any]) -> None:
        meta = policy["metadata"]
        previous = self.policies.remove(meta["namespace"], meta["name"])
        if event != "DELETED":
            self.policies.put(policy)
        for version in (previous, policy):
            if version is None:
                continue
            generic, named = self.policies.targets(version)
            for namespace, api_version, kind, name in named:
                res = _BY_API_KIND.get((api_version, kind))
                if res is not None:
                    self.queue.mark((res, namespace, name))
            for namespace, api_version, kind in generic:
                res = _BY_API_KIND.get((api_version, kind))
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
        for key in list(self._unscheduled):
            self.queue.mark(key)
        for binding in self.store.items(RESOURCE_BINDING):
            if name in _targets(binding) or binding["metadata"].get("deletionTimestamp"):
                target = binding["spec"]["resource"]
                res = _BY_API_KIND.get((target.get("apiVersion", ""), target.get("kind", "")))
                if res is not None:
                    self.queue.mark((res, target.get("namespace", ""), target.get("name", "")))

    # -- reconcile ------------------------------------------------------------------------

    def reconcile(self, limit: int | None = None) -> int:
        """Handle templates that changed (at most `limit`); returns how many were handled."""
        now = self.clock.now().timestamp()
        keys = self.queue.pop_ready(now, limit)
        for key in keys:
            try:
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
        template = _peek(self.store, res, namespace, name)
        binding = _peek(self.store, RESOURCE_BINDING, namespace, binding_name(name, res.kind))
        if binding is not None and template is not None and not _owned_by(binding, template):
            # A binding left over from an earlier object with this name: clean it up first.
            self._release(res, binding)
            return
        if template is None or template["metadata"].get("deletionTimestamp"):
            self._unscheduled.discard(key)
            self._generations.pop(key, None)
            self._require(key, None, set())
            if binding is not None:
                self._release(res, binding)
            return
        if binding is not None and binding["metadata"].get("deletionTimestamp"):
            self._require(key, None, set())
            self._release(res, binding)
            return
        policy = self.policies.claimant(template)
        if policy is not None:
            policy = self._ensure_policy_id(policy)
            template = self._claim(res, template, policy)
            binding = self._ensure_binding(res, template, policy, binding)
        elif self._required_by.get(key):
            binding = self._ensure_attached_binding(res, template, binding)
        elif binding is not None and _attached(binding):
            # No workload needs this dependency any more.
            self._release(res, binding)
            return
        elif POLICY_NAME_ANNOTATION in (template["metadata"].get("annotations") or {}):
            # Its policy is gone: Karmada drops the claim but keeps binding and workloads.
            template = self._unclaim(res, template)
            if binding is not None:
                binding = self._unclaim(RESOURCE_BINDING, binding)
        if binding is None:
            return  # no policy, no binding: nothing runs
        if not _attached(binding):
            binding = self._schedule(key, binding)
        self._propagate(res, template, binding)
        self._collect(res, template, binding)
        wanted: set[TemplateKey] = set()
        if (binding.get("spec") or {}).get("propagateDeps"):
            wanted = {(kind, namespace, dep) for kind, dep in dependencies(res, template)}
        self._require(key, binding, wanted)

    # -- detector -------------------------------------------------------------------------

    def _ensure_policy_id(self, policy: dict[str, Any]) -> dict[str, Any]:
        labels = policy["metadata"].get("labels") or {}
        if POLICY_ID_LABEL in labels:
            return policy
        meta = policy["metadata"]
        return self.store.patch(
            PROPAGATION_POLICY,
            meta["namespace"],
            meta["name"],
            {"metadata": {"labels": {POLICY_ID_LABEL: str(uuid.uuid4())}}},
            patch_type="merge",
        )

    def _claim(
        self, res: Resource, template: dict[str, Any], policy: dict[str, Any]
    ) -> dict[str, Any]:
        """Mark the template as claimed by `policy`, as Karmada's detector does."""
        meta = template["metadata"]
        policy_meta = policy["metadata"]
        wanted_labels = {POLICY_ID_LABEL: policy_meta["labels"][POLICY_ID_LABEL]}
        wanted_annotations = {
            POLICY_NAME_ANNOTATION: policy_meta["name"],
            POLICY_NAMESPACE_ANNOTATION: policy_meta["namespace"],
        }
        labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
        if all(labels.get(k) == v for k, v in wanted_labels.items()) and all(
            annotations.get(k) == v for k, v in wanted_annotations.items()
        ):
            return template
        return self.store.patch(
            res,
            meta["namespace"],
            meta["name"],
            {"metadata": {"labels": wanted_labels, "annotations": wanted_annotations}},
            patch_type="merge",
        )

    def _unclaim(self, res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        """Remove a (deleted) policy's claim labels and annotations from `obj`."""
        meta = obj["metadata"]
        return self.store.patch(
            res,
            meta.get("namespace"),
            meta["name"],
            {
                "metadata": {
                    "labels": {POLICY_ID_LABEL: None},
                    "annotations": {
                        POLICY_NAME_ANNOTATION: None,
                        POLICY_NAMESPACE_ANNOTATION: None,
                    },
                }
            },
            patch_type="merge",
        )

    def _ensure_binding(
        self,
        res: Resource,
        template: dict[str, Any],
        policy: dict[str, Any],
        binding: dict[str, Any] | None,
    ) -> dict[str, Any]:
        meta = template["metadata"]
        key = (res, meta["namespace"], meta["name"])
        policy_spec = policy.get("spec") or {}
        generation = int(meta.get("generation") or 0)
        resource_ref = _resource_ref(template)
        if binding is None:
            spec: dict[str, Any] = {
                "resource": resource_ref,
                "placement": copy.deepcopy(policy_spec.get("placement") or {}),
                "conflictResolution": policy_spec.get("conflictResolution", "Abort"),
                "schedulerName": policy_spec.get("schedulerName", "default-scheduler"),
            }
            if policy_spec.get("propagateDeps"):
                spec["propagateDeps"] = True
            if res == JOB:
                spec["replicas"] = int((template.get("spec") or {}).get("parallelism", 1))
            self._generations[key] = generation
            created = self.store.create(
                RESOURCE_BINDING,
                {
                    "apiVersion": RESOURCE_BINDING.api_version,
                    "kind": RESOURCE_BINDING.kind,
                    "metadata": {
                        "name": binding_name(meta["name"], res.kind),
                        "namespace": meta["namespace"],
                        "labels": {
                            BINDING_ID_LABEL: str(uuid.uuid4()),
                            POLICY_ID_LABEL: policy["metadata"]["labels"][POLICY_ID_LABEL],
                        },
                        "annotations": {
                            POLICY_NAME_ANNOTATION: policy["metadata"]["name"],
                            POLICY_NAMESPACE_ANNOTATION: policy["metadata"]["namespace"],
                        },
                        "ownerReferences": [owner_reference(template)],
                        "finalizers": [BINDING_FINALIZER],
                    },
                    "spec": spec,
                },
                namespace=meta["namespace"],
            )
            log.info(
                "karmada.binding.created",
                binding=created["metadata"]["name"],
                namespace=meta["namespace"],
                policy=policy["metadata"]["name"],
            )
            return created
        patch: dict[str, Any] = {}
        spec = binding.get("spec") or {}
        placement = policy_spec.get("placement") or {}
        if spec.get("placement") != placement:
            patch["placement"] = copy.deepcopy(placement)
        # The detector refreshes the reference on template spec changes, not on status writes.
        if (
            self._generations.get(key) != generation
            or spec.get("resource", {}).get("uid") != meta["uid"]
        ):
            patch["resource"] = resource_ref
            self._generations[key] = generation
        annotations = binding["metadata"].get("annotations") or {}
        meta_patch: dict[str, Any] = {}
        if annotations.get(POLICY_NAME_ANNOTATION) != policy["metadata"]["name"]:
            meta_patch = {
                "annotations": {POLICY_NAME_ANNOTATION: policy["metadata"]["name"]},
                "labels": {POLICY_ID_LABEL: policy["metadata"]["labels"][POLICY_ID_LABEL]},
            }
        if not patch and not meta_patch:
            return binding
        body: dict[str, Any] = {}
        if patch:
            body["spec"] = patch
        if meta_patch:
            body["metadata"] = meta_patch
        return self.store.patch(
            RESOURCE_BINDING,
            meta["namespace"],
            binding["metadata"]["name"],
            body,
            patch_type="merge",
        )

    # -- scheduler ------------------------------------------------------------------------

    def _schedule(self, key: TemplateKey, binding: dict[str, Any]) -> dict[str, Any]:
        """Schedule when the placement changed since the last decision or none succeeded yet.

        Like Karmada, the placement a decision was made for is kept in the binding's
        `policy.karmada.io/applied-placement` annotation; readiness changes alone do not move
        a scheduled workload (no failover).
        """
        spec = binding.get("spec") or {}
        status = binding.get("status") or {}
        placement = spec.get("placement") or {}
        placement_json = orjson.dumps(placement, option=orjson.OPT_SORT_KEYS).decode()
        annotations = binding["metadata"].get("annotations") or {}
        scheduled = _condition(status, "Scheduled")
        if (
            scheduled is not None
            and scheduled.get("status") == "True"
            and annotations.get(APPLIED_PLACEMENT_ANNOTATION) == placement_json
        ):
            return binding
        current = [c["name"] for c in spec.get("clusters") or []]
        clusters = list(self.store.items(CLUSTER))
        result = schedule(placement, clusters, current=current, load=self._load)
        now = self.clock.timestamp()
        meta = binding["metadata"]
        if result.scheduled:
            self._unscheduled.discard(key)
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
            self._unscheduled.add(key)
            log.info("karmada.binding.unschedulable", binding=meta["name"], message=result.message)
        new_status = dict(binding.get("status") or {})
        new_status["schedulerObservedGeneration"] = binding["metadata"].get("generation")
        if result.scheduled:
            new_status["lastScheduledTime"] = now
        new_status["conditions"] = _set_condition(
            new_status.get("conditions") or [],
            "Scheduled",
            "True" if result.scheduled else "False",
            result.reason,
            result.message,
            now,
        )
        return self._write_binding_status(binding, new_status)

    # -- binding controller: propagation --------------------------------------------------

    def _propagate(self, res: Resource, template: dict[str, Any], binding: dict[str, Any]) -> None:
        targets = set(_targets(binding))
        meta = template["metadata"]
        for member in self.members.values():
            if not member.ready:
                continue  # Push mode: an unreachable cluster gets no updates until it is back
            if member.name in targets:
                self._apply(member, res, template, binding)
            else:
                self._remove_from(member, res, meta["namespace"], meta["name"], binding)

    def _desired(
        self,
        member: MemberCluster,
        res: Resource,
        template: dict[str, Any],
        binding: dict[str, Any],
    ) -> dict[str, Any]:
        meta = template["metadata"]
        bmeta = binding["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        work_key = (namespace, bmeta["name"], member.name)
        work_id = self._work_ids.setdefault(work_key, str(uuid.uuid4()))
        labels = {k: v for k, v in (meta.get("labels") or {}).items() if k not in _CLAIM_KEYS}
        annotations = {
            k: v for k, v in (meta.get("annotations") or {}).items() if k not in _CLAIM_KEYS
        }
        managed_labels = ",".join(sorted(labels))
        managed_annotations = ",".join(sorted(annotations))
        labels.update(
            {
                MANAGED_LABEL: "true",
                BINDING_ID_LABEL: (bmeta.get("labels") or {}).get(BINDING_ID_LABEL, ""),
                WORK_ID_LABEL: work_id,
            }
        )
        annotations.update(
            {
                BINDING_NAME_ANNOTATION: bmeta["name"],
                BINDING_NAMESPACE_ANNOTATION: namespace,
                WORK_NAME_ANNOTATION: work_name(namespace, name, res.kind),
                WORK_NAMESPACE_ANNOTATION: f"karmada-es-{member.name}",
                TEMPLATE_UID_ANNOTATION: meta["uid"],
                TEMPLATE_GENERATION_ANNOTATION: str(meta.get("generation", 0)),
                MANAGED_LABELS_ANNOTATION: managed_labels,
                MANAGED_ANNOTATIONS_ANNOTATION: managed_annotations,
            }
        )
        desired = {
            k: copy.deepcopy(v) for k, v in template.items() if k not in ("metadata", "status")
        }
        desired["metadata"] = {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "annotations": annotations,
        }
        return desired

    def _apply(
        self,
        member: MemberCluster,
        res: Resource,
        template: dict[str, Any],
        binding: dict[str, Any],
    ) -> None:
        meta = template["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        existing = _peek(member.store, res, namespace, name)
        if existing is not None and existing["metadata"].get("deletionTimestamp"):
            return  # the old object is still going away; apply once it is gone
        # What the member copy derives from; unchanged means nothing to re-apply (status
        # write-backs to the template do not count).
        fingerprint = (
            meta["uid"],
            meta.get("generation") or meta["resourceVersion"],
            tuple(sorted((meta.get("labels") or {}).items())),
            tuple(sorted((meta.get("annotations") or {}).items())),
            None if existing is None else existing["metadata"]["uid"],
        )
        applied_key = (member.name, res, namespace, name)
        if existing is not None and self._applied.get(applied_key) == fingerprint:
            return
        desired = self._desired(member, res, template, binding)
        if existing is None:
            # Karmada's namespace-sync controller creates the namespace in every member.
            member.store.namespaces.ensure(namespace)
            created = member.store.create(res, desired, namespace=namespace)
            self._applied[applied_key] = (*fingerprint[:4], created["metadata"]["uid"])
            log.debug("karmada.work.applied", cluster=member.name, kind=res.kind, name=name)
            return
        self._applied[applied_key] = fingerprint
        if _same_content(existing, desired):
            return
        updated = {k: v for k, v in desired.items() if k != "metadata"}
        updated["metadata"] = {
            **existing["metadata"],
            "labels": desired["metadata"]["labels"],
            "annotations": desired["metadata"]["annotations"],
        }
        if "status" in existing:
            updated["status"] = existing["status"]
        member.store.replace(res, updated)
        log.debug("karmada.work.updated", cluster=member.name, kind=res.kind, name=name)

    def _remove_from(
        self,
        member: MemberCluster,
        res: Resource,
        namespace: str,
        name: str,
        binding: dict[str, Any],
    ) -> None:
        existing = member.store.find(res, namespace, name)
        if existing is None or existing["metadata"].get("deletionTimestamp"):
            return
        annotations = existing["metadata"].get("annotations") or {}
        if annotations.get(BINDING_NAME_ANNOTATION) != binding["metadata"]["name"]:
            return  # not ours (created directly in the member cluster)
        member.store.delete(res, namespace, name, propagation_policy="Background")
        log.debug("karmada.work.deleted", cluster=member.name, kind=res.kind, name=name)

    def _release(self, res: Resource, binding: dict[str, Any]) -> None:
        """Delete a binding's member objects, then let the binding go."""
        meta = binding["metadata"]
        target = (binding.get("spec") or {}).get("resource") or {}
        namespace, name = target.get("namespace", meta["namespace"]), target.get("name", "")
        if not meta.get("deletionTimestamp"):
            self.store.delete(
                RESOURCE_BINDING, meta["namespace"], meta["name"], propagation_policy="Background"
            )
            binding = self.store.find(RESOURCE_BINDING, meta["namespace"], meta["name"]) or binding
        waiting = False
        for member in self.members.values():
            existing = member.store.find(res, namespace, name)
            if existing is None:
                continue
            if not member.ready:
                waiting = True  # the Work keeps its finalizer until the cluster is reachable
                continue
            self._remove_from(member, res, namespace, name, binding)
        if waiting:
            return
        self._unscheduled.discard((res, namespace, name))
        for cluster in self.members:
            self._work_ids.pop((meta["namespace"], meta["name"], cluster), None)
            self._applied.pop((cluster, res, namespace, name), None)
        if self.store.find(RESOURCE_BINDING, meta["namespace"], meta["name"]) is not None:
            self.store.remove_finalizer(
                RESOURCE_BINDING, meta["namespace"], meta["name"], BINDING_FINALIZER
            )
            log.info("karmada.binding.removed", binding=meta["name"], namespace=meta["namespace"])

    # -- dependencies distributor ---------------------------------------------------------

    def _require(
        self, parent: TemplateKey, binding: dict[str, Any] | None, wanted: set[TemplateKey]
    ) -> None:
        """Record which dependencies `parent` needs on which clusters; mark changed ones."""
        clusters = tuple(_targets(binding)) if binding is not None else ()
        previous = self._deps.pop(parent, set())
        if wanted:
            self._deps[parent] = wanted
        parent_binding = binding_name(parent[2], parent[0].kind)
        for dep in previous | wanted:
            requirers = self._required_by.setdefault(dep, {})
            before = requirers.get(parent_binding)
            if dep in wanted and clusters:
                requirers[parent_binding] = clusters
            else:
                requirers.pop(parent_binding, None)
            if not requirers:
                del self._required_by[dep]
            if requirers.get(parent_binding) != before:
                self.queue.mark(dep)

    def _ensure_attached_binding(
        self, res: Resource, template: dict[str, Any], binding: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The binding Karmada attaches to a dependency: placed where its requirers run."""
        meta = template["metadata"]
        key = (res, meta["namespace"], meta["name"])
        required_by = [
            {
                "namespace": meta["namespace"],
                "name": parent,
                "clusters": [{"name": c} for c in clusters],
            }
            for parent, clusters in sorted(self._required_by.get(key, {}).items())
        ]
        resource_ref = _resource_ref(template)
        if binding is None:
            return self.store.create(
                RESOURCE_BINDING,
                {
                    "apiVersion": RESOURCE_BINDING.api_version,
                    "kind": RESOURCE_BINDING.kind,
                    "metadata": {
                        "name": binding_name(meta["name"], res.kind),
                        "namespace": meta["namespace"],
                        "labels": {BINDING_ID_LABEL: str(uuid.uuid4())},
                        "ownerReferences": [owner_reference(template)],
                        "finalizers": [BINDING_FINALIZER],
                    },
                    "spec": {"resource": resource_ref, "requiredBy": required_by},
                },
                namespace=meta["namespace"],
            )
        if (binding.get("spec") or {}).get("requiredBy") == required_by:
            return binding
        return self.store.patch(
            RESOURCE_BINDING,
            meta["namespace"],
            binding["metadata"]["name"],
            {"spec": {"requiredBy": required_by, "resource": resource_ref}},
            patch_type="merge",
        )

    # -- status controller ----------------------------------------------------------------

    def _collect(self, res: Resource, template: dict[str, Any], binding: dict[str, Any]) -> None:
        meta = template["metadata"]
        status = binding.get("status") or {}
        previous = {item.get("clusterName"): item for item in status.get("aggregatedStatus") or []}
        items: list[dict[str, Any]] = []
        for cluster in _targets(binding):
            member = self.members.get(cluster)
            if member is None:
                continue
            if not member.ready:
                # Status collection stops for an unreachable cluster: the last report stays.
                items.append(
                    previous.get(cluster)
                    or {
                        "clusterName": cluster,
                        "applied": False,
                        "appliedMessage": f"cluster({cluster}) is not ready",
                        "health": interpreters.UNKNOWN,
                    }
                )
                continue
            obj = _peek(member.store, res, meta["namespace"], meta["name"])
            if obj is None:
                items.append(
                    {
                        "clusterName": cluster,
                        "applied": False,
                        "appliedMessage": f'{res.group_resource} "{meta["name"]}" not found',
                        "health": interpreters.UNKNOWN,
                    }
                )
                continue
            item: dict[str, Any] = {"clusterName": cluster}
            if obj.get("status"):
                item["status"] = obj["status"]
            item["applied"] = True
            item["health"] = interpreters.health(res, obj.get("status"))
            items.append(item)
        now = self.clock.timestamp()
        applied = bool(items) and all(i.get("applied") for i in items)
        new_status = dict(status)
        new_status["aggregatedStatus"] = items
        if items:
            new_status["conditions"] = _set_condition(
                status.get("conditions") or [],
                "FullyApplied",
                "True" if applied else "False",
                "FullyAppliedSuccess" if applied else "FullyAppliedFailed",
                "All works have been successfully applied"
                if applied
                else "Failed to apply all works, see status.aggregatedStatus for details",
                now,
            )
        self._write_binding_status(binding, new_status)
        if res.status_subresource:
            aggregated = interpreters.aggregate(res, template, items, now=now)
            if aggregated is not None and aggregated != (template.get("status") or {}):
                self.store.update_status(res, meta["namespace"], meta["name"], aggregated)

    def _write_binding_status(
        self, binding: dict[str, Any], status: dict[str, Any]
    ) -> dict[str, Any]:
        if status == (binding.get("status") or {}):
            return binding
        meta = binding["metadata"]
        return self.store.update_status(RESOURCE_BINDING, meta["namespace"], meta["name"], status)


# -- helpers ------------------------------------------------------------------------------


def _peek(store: Store, res: Resource, namespace: str, name: str) -> dict[str, Any] | None:
    """A read-only live view of an object (no copy), or None."""
    try:
        return store.get_entry(res, namespace, name).obj
    except ApiError:
        return None


def _resource_ref(template: dict[str, Any]) -> dict[str, Any]:
    """A binding's spec.resource: the template it propagates, at its current version."""
    meta = template["metadata"]
    return {
        "apiVersion": template["apiVersion"],
        "kind": template["kind"],
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta["uid"],
        "resourceVersion": meta["resourceVersion"],
    }


def _attached(binding: dict[str, Any]) -> bool:
    """Whether a binding exists only because workloads depend on its resource."""
    annotations = binding["metadata"].get("annotations") or {}
    return POLICY_NAME_ANNOTATION not in annotations and "requiredBy" in (binding.get("spec") or {})


def _targets(binding: dict[str, Any]) -> list[str]:
    """Clusters a binding places its resource on: scheduled ones plus its requirers'."""
    spec = binding.get("spec") or {}
    names = {c["name"] for c in spec.get("clusters") or []}
    for requirer in spec.get("requiredBy") or []:
        names.update(c["name"] for c in requirer.get("clusters") or [])
    return sorted(names)


def _owned_by(binding: dict[str, Any], template: dict[str, Any]) -> bool:
    uid = template["metadata"]["uid"]
    return any(ref.get("uid") == uid for ref in binding["metadata"].get("ownerReferences") or [])


def _condition(status: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == type_), None)


def _set_condition(
    conditions: list[dict[str, Any]], type_: str, status: str, reason: str, message: str, now: str
) -> list[dict[str, Any]]:
    """Set one binding condition; an unchanged condition keeps its transition time."""
    old = _condition({"conditions": conditions}, type_)
    transition = now
    if old is not None and old.get("status") == status:
        transition = old.get("lastTransitionTime", now)
    updated = {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transition,
    }
    result = [c for c in conditions if c.get("type") != type_] + [updated]
    order = {"Scheduled": 0, "FullyApplied": 1}
    result.sort(key=lambda c: order.get(str(c.get("type")), 9))
    return result


def _same_content(existing: dict[str, Any], desired: dict[str, Any]) -> bool:
    for key, value in desired.items():
        if key == "metadata":
            continue
        if existing.get(key) != value:
            return False
    emeta, dmeta = existing["metadata"], desired["metadata"]
    return (emeta.get("labels") or {}) == dmeta["labels"] and (
        emeta.get("annotations") or {}
    ) == dmeta["annotations"]
