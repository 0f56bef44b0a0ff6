"""Karmada's resource detector: which PropagationPolicy claims a resource template (the
PolicyIndex), the claim labels and annotations on the template, and the template's
ResourceBinding made from the claiming policy."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable
from typing import Any

import structlog

from .bindings import (
    BINDING_FINALIZER,
    BINDING_ID_LABEL,
    BY_API_KIND,
    POLICY_FINALIZER,
    POLICY_ID_LABEL,
    POLICY_NAME_ANNOTATION,
    POLICY_NAMESPACE_ANNOTATION,
    TemplateKey,
    binding_name,
    peek,
    resource_ref,
)
from .resources import JOB, PROPAGATION_POLICY, RESOURCE_BINDING, Resource
from .scheduler import label_selector_matches
from .store import Store
from .workloads.common import owner_reference

log = structlog.get_logger()


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


class Detector:
    """Karmada's resource detector: claims templates for policies and keeps their
    ResourceBindings in step with template and policy."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.policies = PolicyIndex()
        self._generations: dict[TemplateKey, int] = {}

    def forget(self, key: TemplateKey) -> None:
        """The template is gone: drop what was remembered about it."""
        self._generations.pop(key, None)

    def admit(self, res: Resource, obj: dict[str, Any]) -> None:
        """Karmada's PropagationPolicy mutating webhook on create: the permanent-id label and
        the finalizer that keeps a deleted policy until the detector has released what it
        claimed (pkg/webhook/propagationpolicy/mutating.go)."""
        if res != PROPAGATION_POLICY:
            return
        meta = obj["metadata"]
        meta["labels"] = {**(meta.get("labels") or {}), POLICY_ID_LABEL: str(uuid.uuid4())}
        finalizers = list(meta.get("finalizers") or [])
        if POLICY_FINALIZER not in finalizers:
            finalizers.append(POLICY_FINALIZER)
        meta["finalizers"] = finalizers

    def release_policy(self, namespace: str, name: str) -> None:
        """A deleted policy: remove its claim (permanent-id label, name and namespace
        annotations) from the templates it claimed and their bindings, then its finalizer.
        Bindings and member objects stay; a template may be claimed by another policy next.
        (Karmada: detector ReconcilePropagationPolicy -> handlePolicyDeletion.)"""
        policy = peek(self.store, PROPAGATION_POLICY, namespace, name)
        if policy is None or not policy["metadata"].get("deletionTimestamp"):
            return
        policy_id = (policy["metadata"].get("labels") or {}).get(POLICY_ID_LABEL)
        generic, named = self.policies.targets(policy)
        kinds = {BY_API_KIND.get((key[1], key[2])) for key in [*generic, *named]}
        for res in kinds:
            if res is None or policy_id is None:
                continue
            for template in list(self.store.items(res, namespace)):
                if (template["metadata"].get("labels") or {}).get(POLICY_ID_LABEL) != policy_id:
                    continue
                self.unclaim(res, template)
                binding = peek(
                    self.store,
                    RESOURCE_BINDING,
                    namespace,
                    binding_name(template["metadata"]["name"], res.kind),
                )
                if (
                    binding is not None
                    and (binding["metadata"].get("labels") or {}).get(POLICY_ID_LABEL) == policy_id
                ):
                    self.unclaim(RESOURCE_BINDING, binding)
        self.store.remove_finalizer(PROPAGATION_POLICY, namespace, name, POLICY_FINALIZER)
        log.info("karmada.policy.released", policy=name, namespace=namespace)

    def ensure_policy_id(self, policy: dict[str, Any]) -> dict[str, Any]:
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

    def claim(
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

    def unclaim(self, res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
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

    def ensure_binding(
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
        ref = resource_ref(template)
        if binding is None:
            spec: dict[str, Any] = {
                "resource": ref,
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
            patch["resource"] = ref
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
