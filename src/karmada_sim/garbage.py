"""The garbage collector: owner references, cascading deletion, orphaning, foreground release.

Kept apart from storage as in Kubernetes, where the garbage-collector controller (not the
apiserver) deletes dependents; here it runs synchronously inside the write that frees them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from karmada_sim.resources import Resource

if TYPE_CHECKING:
    from karmada_sim.store import Entry, Key, Store

_DependentKey = tuple[Resource, str, str]  # (resource, namespace or "", name)


class GarbageCollector:
    """Indexes owner references of one store and collects dependents of deleted owners."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # owner uid -> keys of dependents naming it in ownerReferences
        self._dependents: dict[str, set[_DependentKey]] = {}
        # uid -> where the object lives, for owner lookups
        self._by_uid: dict[str, tuple[Resource, Key]] = {}

    def track(
        self, res: Resource, key: Key, old: dict[str, Any] | None, new: dict[str, Any] | None
    ) -> None:
        """Update the indexes after a write (`new`) or a removal (`new` is None)."""
        if new is not None:
            self._by_uid[new["metadata"]["uid"]] = (res, key)
        elif old is not None:
            self._by_uid.pop(old["metadata"]["uid"], None)
        old_uids = _owner_uids(old)
        new_uids = _owner_uids(new)
        ref_key = (res, key[0], key[1])
        for uid in old_uids - new_uids:
            deps = self._dependents.get(uid)
            if deps is not None:
                deps.discard(ref_key)
                if not deps:
                    del self._dependents[uid]
        for uid in new_uids - old_uids:
            self._dependents.setdefault(uid, set()).add(ref_key)

    def live_dependents(self, uid: str) -> list[tuple[Resource, Entry]]:
        """The existing objects that name `uid` as an owner, in a stable order."""
        found = []
        for res, namespace, name in sorted(
            self._dependents.get(uid, ()), key=lambda d: (d[0].plural, d[1], d[2])
        ):
            entry = self.store.table(res).entries.get((namespace, name))
            if entry is not None:
                found.append((res, entry))
        return found

    def blocking_dependents(self, uid: str) -> bool:
        """Whether a dependent with `blockOwnerDeletion` still holds the owner."""
        for _, entry in self.live_dependents(uid):
            for ref in entry.obj["metadata"].get("ownerReferences") or []:
                if ref.get("uid") == uid and ref.get("blockOwnerDeletion"):
                    return True
        return False

    def orphan(self, uid: str) -> None:
        """Drop the owner reference to `uid` from every dependent (propagationPolicy=Orphan)."""
        for res, entry in self.live_dependents(uid):
            meta = entry.obj["metadata"]
            refs = [r for r in meta.get("ownerReferences") or [] if r.get("uid") != uid]
            new = dict(entry.obj)
            new["metadata"] = {**meta, "ownerReferences": refs}
            if not refs:
                del new["metadata"]["ownerReferences"]
            key = self.store.key(res, meta.get("namespace"), meta["name"])
            self.store.write(res, key, new, entry.obj, "MODIFIED")

    def collect(self, uid: str) -> None:
        """Delete dependents whose owner `uid` is gone or deleting in the foreground."""
        for res, entry in self.live_dependents(uid):
            meta = entry.obj["metadata"]
            if meta.get("deletionTimestamp"):
                continue
            others = [
                r
                for r in meta.get("ownerReferences") or []
                if r.get("uid") != uid and str(r.get("uid")) in self._by_uid
            ]
            if others:
                continue
            self.store.delete(
                res, meta.get("namespace"), meta["name"], propagation_policy="Background"
            )

    def release_foreground_owners(self, removed: dict[str, Any]) -> None:
        """Finish owners deleting in the foreground once their last blocking dependent went."""
        for ref in removed["metadata"].get("ownerReferences") or []:
            owner = self._find_by_uid(str(ref.get("uid")))
            if owner is not None:
                self.finish_foreground(*owner)

    def finish_foreground(self, res: Resource, meta: dict[str, Any]) -> None:
        """Drop an owner's foregroundDeletion finalizer when no dependent with
        blockOwnerDeletion is left (garbagecollector.processDeletingDependentsItem)."""
        if "foregroundDeletion" not in (meta.get("finalizers") or []):
            return
        if self.store.find(res, meta.get("namespace"), meta["name"]) is None:
            return
        if not self.blocking_dependents(meta["uid"]):
            self.store.remove_finalizer(
                res, meta.get("namespace"), meta["name"], "foregroundDeletion"
            )

    def _find_by_uid(self, uid: str) -> tuple[Resource, dict[str, Any]] | None:
        found = self._by_uid.get(uid)
        if found is None:
            return None
        res, key = found
        entry = self.store.table(res).entries.get(key)
        return (res, entry.obj["metadata"]) if entry is not None else None


def _owner_uids(obj: dict[str, Any] | None) -> set[str]:
    refs = (obj or {}).get("metadata", {}).get("ownerReferences") or []
    return {str(ref.get("uid")) for ref in refs}
