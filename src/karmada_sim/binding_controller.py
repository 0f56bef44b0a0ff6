"""Karmada's binding controller: turns a scheduled ResourceBinding into one Work per target
cluster (the member object's manifest with Karmada's labels and annotations) and, when the
binding goes, removes its member objects before releasing the binding's finalizer."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from functools import partial
from typing import Any

import structlog

from .bindings import (
    BINDING_FINALIZER,
    BINDING_ID_LABEL,
    BINDING_NAME_ANNOTATION,
    BINDING_NAMESPACE_ANNOTATION,
    CLAIM_KEYS,
    MANAGED_ANNOTATIONS_ANNOTATION,
    MANAGED_LABEL,
    MANAGED_LABELS_ANNOTATION,
    TEMPLATE_GENERATION_ANNOTATION,
    TEMPLATE_UID_ANNOTATION,
    WORK_ID_LABEL,
    WORK_NAME_ANNOTATION,
    WORK_NAMESPACE_ANNOTATION,
    evicting,
    targets,
    work_name,
)
from .execution import Execution
from .members import MemberCluster
from .resources import RESOURCE_BINDING, Resource
from .store import Store

log = structlog.get_logger()


class BindingController:
    """ResourceBinding -> Works on its target clusters."""

    def __init__(
        self, store: Store, members: Mapping[str, MemberCluster], execution: Execution
    ) -> None:
        self.store = store
        self.members = members
        self.execution = execution
        self._work_ids: dict[tuple[str, str, str], str] = {}

    def propagate(self, res: Resource, template: dict[str, Any], binding: dict[str, Any]) -> None:
        """Put the template on the binding's target clusters and take it off the others."""
        wanted = set(targets(binding)) | set(evicting(binding))
        meta = template["metadata"]
        for member in self.members.values():
            if not member.ready:
                continue  # Push mode: an unreachable cluster gets no updates until it is back
            if member.name in wanted:
                self.execution.apply(
                    member, res, template, partial(self._desired, member, res, template, binding)
                )
            else:
                self.execution.remove_from(member, res, meta["namespace"], meta["name"], binding)

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
        labels = {k: v for k, v in (meta.get("labels") or {}).items() if k not in CLAIM_KEYS}
        annotations = {
            k: v for k, v in (meta.get("annotations") or {}).items() if k not in CLAIM_KEYS
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

    def release(self, res: Resource, binding: dict[str, Any]) -> bool:
        """Delete a binding's member objects, then let the binding go; False while a
        NotReady cluster still holds one."""
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
            self.execution.remove_from(member, res, namespace, name, binding)
        if waiting:
            return False
        for cluster in self.members:
            self._work_ids.pop((meta["namespace"], meta["name"], cluster), None)
            self.execution.forget(cluster, res, namespace, name)
        if self.store.find(RESOURCE_BINDING, meta["namespace"], meta["name"]) is not None:
            self.store.remove_finalizer(
                RESOURCE_BINDING, meta["namespace"], meta["name"], BINDING_FINALIZER
            )
            log.info("karmada.binding.removed", binding=meta["name"], namespace=meta["namespace"])
        return True
