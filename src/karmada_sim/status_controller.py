"""Karmada's status controllers: collect each member object's status into its binding's
`status.aggregatedStatus` (with the `FullyApplied` condition) and write the aggregate back to
the resource template through the kind's interpreter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import interpreters
from .bindings import peek, set_condition, targets, write_binding_status
from .clock import Clock
from .members import MemberCluster
from .resources import Resource
from .store import Store
from .versions import KarmadaVersion, interprets_status


class StatusController:
    """Member statuses -> binding status -> template status."""

    def __init__(
        self,
        store: Store,
        members: Mapping[str, MemberCluster],
        clock: Clock,
        version: KarmadaVersion,
    ) -> None:
        self.store = store
        self.members = members
        self.clock = clock
        self.version = version

    def collect(self, res: Resource, template: dict[str, Any], binding: dict[str, Any]) -> None:
        """Collect member statuses into the binding, then aggregate them into the template."""
        meta = template["metadata"]
        status = binding.get("status") or {}
        previous = {item.get("clusterName"): item for item in status.get("aggregatedStatus") or []}
        items: list[dict[str, Any]] = []
        for cluster in targets(binding):
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
            obj = peek(member.store, res, meta["namespace"], meta["name"])
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
            # Without an interpreter Karmada still reflects the whole status, health Unknown.
            interpreted = interprets_status(res, self.version)
            item["health"] = (
                interpreters.health(res, obj.get("status")) if interpreted else interpreters.UNKNOWN
            )
            items.append(item)
        now = self.clock.timestamp()
        applied = bool(items) and all(i.get("applied") for i in items)
        new_status = dict(status)
        new_status["aggregatedStatus"] = items
        if items:
            new_status["conditions"] = set_condition(
                status.get("conditions") or [],
                "FullyApplied",
                "True" if applied else "False",
                "FullyAppliedSuccess" if applied else "FullyAppliedFailed",
                "All works have been successfully applied"
                if applied
                else "Failed to apply all works, see status.aggregatedStatus for details",
                now,
            )
        write_binding_status(self.store, binding, new_status)
        if res.status_subresource and interprets_status(res, self.version):
            aggregated = interpreters.aggregate(res, template, items, now=now)
            if aggregated is not None and aggregated != (template.get("status") or {}):
                self.store.update_status(res, meta["namespace"], meta["name"], aggregated)
