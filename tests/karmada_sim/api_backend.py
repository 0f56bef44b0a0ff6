"""A bare backend for the API-server tests: Stores with no controllers.

The HTTP layer is the thing under test here, so nothing reacts to writes: what a test creates
is exactly what it reads back. Karmada and member behaviour is tested against the Simulator.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from karmada_sim import errors
from karmada_sim.clock import Clock
from karmada_sim.resources import CLUSTER, POD, by_kind
from karmada_sim.store import Store


@dataclass
class BareMember:
    name: str
    store: Store
    ready: bool = True
    logs: dict[tuple[str, str, str], list[tuple[datetime, str]]] = field(default_factory=dict)


class BareBackend:
    """Karmada and member Stores plus the control hooks, with no reconciliation."""

    def __init__(self, clusters: tuple[str, ...] = ("member1", "member2")) -> None:
        self.clock = Clock()
        self.karmada = Store(name="karmada", clock=self.clock)
        self._members = {
            name: BareMember(name, Store(name=name, clock=self.clock)) for name in clusters
        }
        for name in clusters:
            self.karmada.create(CLUSTER, {"metadata": {"name": name}, "spec": {"syncMode": "Push"}})
        self.advanced: list[float] = []

    @property
    def members(self) -> Mapping[str, BareMember]:
        return self._members

    def store_for(self, cluster: str | None) -> Store:
        if cluster is None:
            return self.karmada
        member = self._members.get(cluster)
        if member is None:
            raise errors.not_found(CLUSTER, cluster)
        return member.store

    def add_log(self, cluster: str, namespace: str, pod: str, container: str, line: str) -> None:
        """Append a log line stamped with the simulated time."""
        key = (namespace, pod, container)
        self._members[cluster].logs.setdefault(key, []).append((self.clock.now(), line))

    def pod_log(
        self, cluster: str, namespace: str, pod: str, container: str | None
    ) -> list[tuple[datetime, str]]:
        obj: dict[str, Any] = self.store_for(cluster).get(POD, namespace, pod)
        names = [c["name"] for c in obj["spec"]["containers"]]
        if container is None:
            if len(names) != 1:
                raise errors.bad_request(
                    f"a container name must be specified for pod {pod}, choose one of: "
                    f"[{' '.join(names)}]"
                )
            container = names[0]
        if container not in names:
            raise errors.bad_request(f"container {container} is not valid for pod {pod}")
        return list(self._members[cluster].logs.get((namespace, pod, container), []))

    def set_cluster_ready(self, name: str, ready: bool) -> None:
        self._members[name].ready = ready

    def delete_member_object(
        self, cluster: str, api_version: str, kind: str, namespace: str, name: str
    ) -> None:
        res = by_kind(api_version, kind)
        if res is None:
            raise errors.bad_request(f"unknown kind {api_version} {kind}")
        self.store_for(cluster).delete(res, namespace or None, name)

    def advance(self, seconds: float) -> None:
        self.advanced.append(seconds)
        self.clock.advance(seconds)

    async def run(self) -> None:
        # Nothing to reconcile: wait until the server cancels us.
        await asyncio.Event().wait()
