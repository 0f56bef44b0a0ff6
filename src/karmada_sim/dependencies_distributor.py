"""Karmada's dependencies distributor: a workload whose binding has `propagateDeps` needs
the ConfigMaps, Secrets and PVCs its interpreter names; each gets an attached ResourceBinding
whose `spec.requiredBy` lists the requiring bindings and places it on their clusters."""

from __future__ import annotations

import uuid
from typing import Any

from .bindings import (
    BINDING_FINALIZER,
    BINDING_ID_LABEL,
    TemplateKey,
    binding_name,
    resource_ref,
    targets,
)
from .resources import RESOURCE_BINDING, Resource
from .store import Store
from .workloads.common import owner_reference
from .workqueue import WorkQueue


class DependenciesDistributor:
    """Which dependency is required by which binding, on which clusters."""

    def __init__(self, store: Store, queue: WorkQueue[TemplateKey]) -> None:
        self.store = store
        self.queue = queue
        # dependency -> {requiring binding name: its clusters}; parent -> its dependencies
        self._required_by: dict[TemplateKey, dict[str, tuple[str, ...]]] = {}
        self._deps: dict[TemplateKey, set[TemplateKey]] = {}

    def required(self, key: TemplateKey) -> bool:
        """Whether some workload's binding needs this dependency now."""
        return bool(self._required_by.get(key))

    def require(
        self, parent: TemplateKey, binding: dict[str, Any] | None, wanted: set[TemplateKey]
    ) -> None:
        """Record which dependencies `parent` needs on which clusters; mark changed ones."""
        clusters = tuple(targets(binding)) if binding is not None else ()
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

    def ensure_attached_binding(
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
        ref = resource_ref(template)
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
                    "spec": {"resource": ref, "requiredBy": required_by},
                },
                namespace=meta["namespace"],
            )
        if (binding.get("spec") or {}).get("requiredBy") == required_by:
            return binding
        return self.store.patch(
            RESOURCE_BINDING,
            meta["namespace"],
            binding["metadata"]["name"],
            {"spec": {"requiredBy": required_by, "resource": ref}},
            patch_type="merge",
        )
