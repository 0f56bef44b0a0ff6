"""The snapshot from watch caches: one reflector per snapshot resource, read at each tick after a
single cheap LIST that tells how current the caches must be.

Correctness: the tick must see every change made before it started. The one-item LIST returns
the server's resourceVersion R at the tick's start. A cache is current once it applied an
event or bookmark at R or later, or (resourceVersions are shared by all kinds, so a quiet kind
never reaches R) once its stream delivered nothing for ``SETTLE_SECONDS`` after R was known:
the server queues a write's events before answering the write, so they are already on the way.
The wait is bounded by ``MAX_WAIT_SECONDS``; a cache that is not following its stream then is
replaced by a LIST for this tick. A cache in the middle of its own LIST and the WATCH that
follows it (at startup, or after a 410) is waited for, up to ``LIST_WAIT_SECONDS``, rather than
listed a second time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import structlog

from ml_platform.karmada.gateway import KarmadaGateway
from ml_platform.karmada.resources import CLUSTER
from ml_platform.monitor.reflector import Reflector
from ml_platform.monitor.snapshot import SOURCES, Snapshot, build_snapshot

log = structlog.get_logger()

SETTLE_SECONDS = 0.025
MAX_WAIT_SECONDS = 0.1
LIST_WAIT_SECONDS = 60.0
POLL_SECONDS = 0.005


class WatchedSnapshots:
    """The snapshot resources kept by reflectors; ``take()`` builds a current ``Snapshot``."""

    def __init__(self, gateway: KarmadaGateway) -> None:
        self._gateway = gateway
        self.reflectors: list[Reflector[Any]] = [
            Reflector(
                gateway, source.resource, label_selector=source.label_selector, entry=source.entry
            )
            for source in SOURCES
        ]

    def start(self) -> None:
        """Start every reflector's task (each LISTs, then watches)."""
        for reflector in self.reflectors:
            reflector.start()

    async def stop(self) -> None:
        """End every reflector's task (streams closed, their threads ended)."""
        await asyncio.gather(*(reflector.stop() for reflector in self.reflectors))

    @property
    def alive(self) -> bool:
        """Whether any reflector's task still runs."""
        return any(reflector.alive for reflector in self.reflectors)

    async def take(self) -> Snapshot:
        """A snapshot at least as new as the server's state when called.

        Raises ``KarmadaUnavailable`` when the server cannot be reached (like a LIST would).
        """
        seen = [reflector.resource_version for reflector in self.reflectors]
        target = int(await self._gateway.current_resource_version(CLUSTER) or 0)
        known_at = time.monotonic()
        for reflector, version in zip(self.reflectors, seen, strict=True):
            if version > target:  # the server lost state: this cache holds what it forgot
                reflector.request_relist(f"server resourceVersion {target} is behind {version}")
        deadline = known_at + MAX_WAIT_SECONDS
        while True:
            now = time.monotonic()
            pending = [r for r in self.reflectors if not _current(r, target, known_at, now)]
            if not pending:
                break
            if any(r.syncing for r in pending) and now < known_at + LIST_WAIT_SECONDS:
                deadline = now + MAX_WAIT_SECONDS  # once following, it may need a moment
            elif now >= deadline:
                break
            await asyncio.sleep(POLL_SECONDS)
        entries: list[Sequence[Any]] = []
        for source, reflector in zip(SOURCES, self.reflectors, strict=True):
            if reflector in pending:
                log.info("monitor.cache_not_current", resource=reflector.resource.plural)
                items = await self._gateway.list_objects(
                    source.resource, label_selector=source.label_selector
                )
                entries.append(source.entries(items))
            else:
                entries.append(reflector.items())
        return build_snapshot(entries)


def _current(reflector: Reflector[Any], target: int, known_at: float, now: float) -> bool:
    if not reflector.connected:
        return False
    if reflector.resource_version >= target:
        return True
    quiet_since = max(known_at, reflector.last_event_at)
    return now - quiet_since >= SETTLE_SECONDS
