"""Namespace lifecycle: existence checks on create, Terminating, and removal once empty.

As in Kubernetes (the NamespaceLifecycle admission plugin and the namespace controller): a
create in a namespace that does not exist is 404 NotFound, one in a Terminating namespace is
403 Forbidden, and a deleted namespace goes once every object in it is gone.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from karmada_sim import errors
from karmada_sim.resources import NAMESPACE

if TYPE_CHECKING:
    from karmada_sim.store import Store

# Namespaces every API server starts with.
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


class NamespaceLifecycle:
    """The namespace rules of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def admit(self, namespace: str) -> None:
        """Allow a create in `namespace`: 404 when it does not exist, 403 while terminating."""
        existing = self.store.table(NAMESPACE).entries.get(("", namespace))
        if existing is None:
            raise errors.ApiError(
                404,
                "NotFound",
                f'namespaces "{namespace}" not found',
                {"name": namespace, "kind": "namespaces"},
            )
        if existing.obj["metadata"].get("deletionTimestamp"):
            raise errors.ApiError(
                403,
                "Forbidden",
                f"unable to create new content in namespace {namespace} because it is "
                "being terminated",
                {"name": namespace, "kind": "namespaces"},
            )

    def ensure(self, namespace: str) -> None:
        """Create `namespace` unless it exists: what a controller does before writing into it
        (Karmada's namespace sync and cluster join, the apiserver's system namespaces)."""
        if ("", namespace) in self.store.table(NAMESPACE).entries:
            return
        obj = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": namespace,
                "uid": str(uuid.uuid4()),
                "creationTimestamp": self.store.clock.timestamp(),
                "labels": {"kubernetes.io/metadata.name": namespace},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
        self.store.write(NAMESPACE, ("", namespace), obj, None, "ADDED")

    def terminate(self, name: str) -> dict[str, Any]:
        """Mark a namespace Terminating, delete its contents, remove it once it is empty."""
        key = ("", name)
        entry = self.store.table(NAMESPACE).entries[key]
        if entry.obj["metadata"].get("deletionTimestamp"):
            return entry.copy()
        new = dict(entry.obj)
        new["metadata"] = {
            **entry.obj["metadata"],
            "deletionTimestamp": self.store.clock.timestamp(),
        }
        new["status"] = {**(entry.obj.get("status") or {}), "phase": "Terminating"}
        self.store.write(NAMESPACE, key, new, entry.obj, "MODIFIED")
        last = self.store.table(NAMESPACE).entries[key].copy()
        for res in self.store.namespaced_resources():
            for obj_name in self.store.names_in(res, name):
                # An earlier deletion may have collected this one already.
                if (name, obj_name) in self.store.table(res).entries:
                    self.store.delete(res, name, obj_name, propagation_policy="Background")
        # Removal happens in `finish` once the last object is gone (maybe already).
        self.finish(name)
        return last

    def finish(self, name: str) -> None:
        """Remove a Terminating namespace that has become empty."""
        entry = self.store.table(NAMESPACE).entries.get(("", name))
        if entry is None or not entry.obj["metadata"].get("deletionTimestamp"):
            return
        if any(self.store.names_in(res, name) for res in self.store.namespaced_resources()):
            return
        self.store.remove(NAMESPACE, ("", name), entry.obj)
