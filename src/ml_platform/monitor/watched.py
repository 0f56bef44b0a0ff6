"""Karmada's state for the monitor: one watch cache (reflector) per workload kind and one for
ResourceBindings, read by the tick (``take``) and by the event path (``changed``).

Current by guarantee, not by timing. A real kube-apiserver serves watches from a cache that
trails etcd (KEP-2340: by milliseconds, under load by seconds) and sends bookmarks about once a
minute, so a stream that has been quiet for a while proves nothing: the write may still be on
its way. The monitor therefore never reads currency from quiet; it keeps three rules.

1. A cache is current for a decision made at time T only once it has applied an event or
   bookmark at or past R, the resourceVersion of a consistent read (a LIST without
   resourceVersion, served from etcd by quorum) made at or after T. Each tick makes that read:
   it LISTs the clusters (few, and every job's observation depends on them), which also gives
   R. A cache that holds a version past R was served by a server that has since lost state (an
   etcd restore): it is rebuilt by a LIST. Freshly LISTed caches (startup, a new leader, after
   a 410) are current by construction; a cache that is not following its stream is replaced by
   a LIST for the tick.
2. What a cache shows is never older than what was written from it. The caches show each object
   at some past resourceVersion; the sync remembers, per job, the versions of the template and
   binding it last wrote from and never writes from older ones (``sync.plan_changes``). A lagging
   cache can only delay a status, never move it back.
3. Absence is confirmed by a consistent read before an irreversible decision. A workload missing
   from a cache may not have arrived yet; before WorkloadMissing the tick GETs it without a
   resourceVersion (a quorum read) and only a 404 counts (``confirm_absent``).

The event path (``changed``) needs no currency proof: it writes what events just delivered, in
resourceVersion order per object, under rule 2, and never decides from absence.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import structlog

from ml_platform.karmada.gateway import KarmadaGateway, ObjectRef
from ml_platform.karmada.resources import CLUSTER
from ml_platform.monitor.reflector import Reflector
from ml_platform.monitor.snapshot import (
    CLUSTERS,
    SOURCES,
    Binding,
    Snapshot,
    Template,
    build_snapshot,
)
from ml_platform.workloads.kinds import WORKLOAD_APIS

log = structlog.get_logger()

# How long the tick waits for a cache that lost its stream to follow it again.
MAX_WAIT_SECONDS = 0.1
# How long it waits for a cache in the middle of its own LIST rather than LIST a second time.
LIST_WAIT_SECONDS = 60.0
POLL_SECONDS = 0.005

TemplateKey = tuple[int, tuple[str, str]]  # (index of its reflector, (namespace, name))


class WatchedSnapshots:
    """The watched resources kept by reflectors; ``take()`` builds the tick's ``Snapshot`` and
    ``changed()`` the snapshot of the jobs that watch events touched."""

    def __init__(self, gateway: KarmadaGateway) -> None:
        self._gateway = gateway
        self.reflectors: list[Reflector[Any]] = [
            Reflector(
                gateway, source.resource, label_selector=source.label_selector, entry=source.entry
            )
            for source in SOURCES
        ]
        *self._templates, self._bindings = self.reflectors
        # A binding names its template's kind (``spec.resource``): that kind's reflector.
        self._template_index = {
            resource.kind: index for index, resource in enumerate(WORKLOAD_APIS.values())
        }
        self.cluster_ready: Mapping[str, bool] = {}
        # Jobs touched by watch events since the event path last took them.
        self._touched: dict[str, TemplateKey] = {}
        self._touched_event = asyncio.Event()
        self._last_keys: dict[str, TemplateKey] = {}

    def start(self) -> None:
        """Start every reflector's task (each LISTs, then watches); their events mark jobs
        for the event path from then on."""
        for index, reflector in enumerate(self._templates):
            reflector.on_change = self._template_changed(index)
        self._bindings.on_change = self._binding_changed
        for reflector in self.reflectors:
            reflector.start()

    async def stop(self) -> None:
        """End every reflector's task (streams closed, their threads ended)."""
        await asyncio.gather(*(reflector.stop() for reflector in self.reflectors))

    @property
    def alive(self) -> bool:
        """Whether any reflector's task still runs."""
        return any(reflector.alive for reflector in self.reflectors)

    # --------------------------------------------------------------------- the tick

    async def take(self) -> Snapshot:
        """The tick's snapshot: clusters by a consistent LIST, the rest from the caches
        (rule 1 of the module docstring).

        Raises ``KarmadaUnavailable`` when the server cannot be reached (like a LIST would).
        """
        seen = [reflector.resource_version for reflector in self.reflectors]
        clusters, version = await self._gateway.list_with_version(CLUSTER)
        self.cluster_ready = dict(CLUSTERS.entries(clusters))
        target = int(version or 0)
        for reflector, cached in zip(self.reflectors, seen, strict=True):
            if cached > target:  # the server lost state: this cache holds what it forgot
                reflector.request_relist(f"server resourceVersion {target} is behind {cached}")
        pending = await self._wait_following()
        entries: list[Sequence[Any]] = []
        for source, reflector in zip(SOURCES, self.reflectors, strict=True):
            if reflector in pending:
                log.info("monitor.cache_not_following", resource=reflector.resource.plural)
                items = await self._gateway.list_objects(
                    source.resource, label_selector=source.label_selector
                )
                entries.append(source.entries(items))
            else:
                entries.append(reflector.items())
        return build_snapshot(entries, self.cluster_ready)

    async def _wait_following(self) -> list[Reflector[Any]]:
        """Wait for the caches that are not following their stream: up to
        ``LIST_WAIT_SECONDS`` for one in its own LIST, ``MAX_WAIT_SECONDS`` for the rest;
        the ones still not following."""
        started = time.monotonic()
        deadline = started + MAX_WAIT_SECONDS
        while True:
            now = time.monotonic()
            pending = [r for r in self.reflectors if not r.connected]
            if not pending:
                return pending
            if any(r.syncing for r in pending) and now < started + LIST_WAIT_SECONDS:
                deadline = now + MAX_WAIT_SECONDS  # once following, it may need a moment
            elif now >= deadline:
                return pending
            await asyncio.sleep(POLL_SECONDS)

    async def confirm_absent(self, refs: Mapping[str, ObjectRef]) -> set[str]:
        """The jobs whose workload a consistent read (GET without resourceVersion) does not
        find (rule 3); one GET each. Raises ``KarmadaUnavailable`` like the GET."""
        absent: set[str] = set()
        for job_id, ref in refs.items():
            if await self._gateway.get(ref) is None:
                absent.add(job_id)
            else:
                log.info("monitor.absence_not_confirmed", job_id=job_id, object=str(ref))
        return absent

    # --------------------------------------------------------------- the event path

    def _template_changed(self, index: int) -> Any:
        def changed(template: Template) -> None:
            self._touch(template.job_id, (index, (template.namespace, template.name)))

        return changed

    def _binding_changed(self, binding: Binding) -> None:
        index = self._template_index.get(binding.owner_kind)
        if index is None:
            return
        key = (binding.namespace, binding.owner_name)
        template = self._templates[index].get(key)
        if template is not None:
            self._touch(template.job_id, (index, key))

    def _touch(self, job_id: str, key: TemplateKey) -> None:
        self._touched[job_id] = key
        self._touched_event.set()

    def touch_again(self, job_ids: Iterable[str], snapshot: Snapshot | None = None) -> None:
        """Take these jobs into the next batch again: their write lost a race with the other
        path's (found in the event path's last batch, or in the tick's ``snapshot``)."""
        for job_id in job_ids:
            key = self._last_keys.get(job_id)
            template = snapshot.templates.get(job_id) if snapshot is not None else None
            if template is not None:
                index = self._template_index.get(template.kind)
                if index is not None:
                    key = (index, (template.namespace, template.name))
            if key is not None:
                self._touch(job_id, key)

    async def changed(self, window_seconds: float) -> Snapshot:
        """Wait for a watch event that touches one of our jobs, then ``window_seconds`` more
        to gather others; the snapshot of the touched jobs as the caches hold them now."""
        await self._touched_event.wait()
        await asyncio.sleep(window_seconds)
        self._touched_event.clear()
        touched, self._touched = self._touched, {}
        self._last_keys = touched
        templates: dict[str, Template] = {}
        bindings: dict[tuple[str, str], Binding] = {}
        for job_id, (index, key) in touched.items():
            template = self._templates[index].get(key)
            if template is None or template.job_id != job_id:
                continue  # deleted meanwhile: absence is for the tick to decide
            templates[job_id] = template
            binding_key = (template.namespace, template.binding_name)
            binding = self._bindings.get(binding_key)
            if binding is not None:
                bindings[binding_key] = binding
        return Snapshot(templates=templates, bindings=bindings, cluster_ready=self.cluster_ready)
