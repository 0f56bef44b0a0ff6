"""Karmada's execution controller: applies a Work's manifest to its member cluster and
deletes it from there, skipping applies whose source has not changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from .bindings import BINDING_NAME_ANNOTATION, peek
from .members import MemberCluster
from .resources import Resource

log = structlog.get_logger()


class Execution:
    """Work -> member cluster objects."""

    def __init__(self) -> None:
        # (cluster, kind, namespace, name) -> what the member copy was last built from
        self._applied: dict[tuple[str, Resource, str, str], tuple[Any, ...]] = {}

    def forget(self, cluster: str, res: Resource, namespace: str, name: str) -> None:
        """The Work is gone: the next apply to this cluster starts afresh."""
        self._applied.pop((cluster, res, namespace, name), None)

    def apply(
        self,
        member: MemberCluster,
        res: Resource,
        template: dict[str, Any],
        manifest: Callable[[], dict[str, Any]],
    ) -> None:
        """Create or update the member's copy of `template`; `manifest` builds the Work's
        manifest (only called when the template changed since the last apply)."""
        meta = template["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        existing = peek(member.store, res, namespace, name)
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
        desired = manifest()
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

    def remove_from(
        self,
        member: MemberCluster,
        res: Resource,
        namespace: str,
        name: str,
        binding: dict[str, Any],
    ) -> None:
        """Delete the member's copy when this binding put it there."""
        existing = member.store.find(res, namespace, name)
        if existing is None or existing["metadata"].get("deletionTimestamp"):
            return
        annotations = existing["metadata"].get("annotations") or {}
        if annotations.get(BINDING_NAME_ANNOTATION) != binding["metadata"]["name"]:
            return  # not ours (created directly in the member cluster)
        member.store.delete(res, namespace, name, propagation_policy="Background")
        log.debug("karmada.work.deleted", cluster=member.name, kind=res.kind, name=name)


def _same_content(existing: dict[str, Any], desired: dict[str, Any]) -> bool:
    """Whether a member object already carries the desired spec, labels and annotations."""
    for key, value in desired.items():
        if key == "metadata":
            continue
        if existing.get(key) != value:
            return False
    emeta, dmeta = existing["metadata"], desired["metadata"]
    return (emeta.get("labels") or {}) == dmeta["labels"] and (
        emeta.get("annotations") or {}
    ) == dmeta["annotations"]
