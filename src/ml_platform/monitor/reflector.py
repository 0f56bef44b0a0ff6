"""A reflector: one kind's objects kept in memory by a LIST followed by a WATCH from the list's
resourceVersion, consumed by an asyncio task (the gateway's stream does the blocking reads).
Each object is kept as the entry its ``entry`` function makes of it (the whole document by
default).

A 410 Expired (or an ERROR event) re-LISTs; a broken stream re-watches from the last
resourceVersion seen, after a backoff. ``connected`` says whether the cache is following the
server right now: readers fall back to a LIST when it is not.

A server that lost or rolled back its state (an etcd restore, a Karmada replaced empty) may
never say 410: a watch from a resourceVersion it does not have just stays silent. So the
cache is also rebuilt by a LIST when resuming the watch fails, when the server shows a
resourceVersion older than one already seen (a bookmark or event, or ``request_relist`` from
a reader that compared), and after any loss of the stream longer than
``RELIST_AFTER_SECONDS``. Any other error (a defect) is logged with its traceback and also
re-LISTs, after a backoff: the task never ends on its own.

``on_change``, when set, is called with the entry of every object an event added, changed or
deleted: the monitor's event path marks that object's job for a sync.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import structlog

from ml_platform.karmada.errors import KarmadaRejected, KarmadaUnavailable
from ml_platform.karmada.gateway import KarmadaGateway, WatchEvent
from ml_platform.karmada.resources import ApiResource
from ml_platform.karmada.stream import Stream

log = structlog.get_logger()

BACKOFF_FIRST_SECONDS = 0.2
BACKOFF_MAX_SECONDS = 5.0
# Servers end each watch after this long (randomised so the kinds do not re-watch together).
WATCH_TIMEOUT_RANGE = (30, 60)
# A stream lost for longer than this is not resumed: the server may have restarted meanwhile.
RELIST_AFTER_SECONDS = 3.0


class WatchExpired(Exception):
    """The watch's resourceVersion is gone from the server's history: re-LIST."""


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    metadata = obj.get("metadata") or {}
    return (metadata.get("namespace") or "", metadata.get("name") or "")


def _rv(obj: Mapping[str, Any]) -> int:
    value = (obj.get("metadata") or {}).get("resourceVersion")
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


T = TypeVar("T")


def _whole(obj: Mapping[str, Any]) -> Any:
    return obj


class Reflector(Generic[T]):
    """The objects of one kind (optionally label-selected), kept current by LIST + WATCH."""

    def __init__(
        self,
        gateway: KarmadaGateway,
        resource: ApiResource,
        *,
        label_selector: str = "",
        entry: Callable[[Mapping[str, Any]], T | None] = _whole,
    ) -> None:
        self._gateway = gateway
        self.resource = resource
        self.label_selector = label_selector
        self._entry = entry
        self._items: dict[tuple[str, str], T] = {}
        self._stream: Stream[WatchEvent] | None = None
        self._task: asyncio.Task[None] | None = None
        # Highest resourceVersion applied (from the LIST, events and bookmarks).
        self.resource_version = 0
        self.connected = False
        # From the start of a LIST (the first, or after a 410) until the watch that follows it
        # is open: readers wait for this rather than LIST the kind themselves.
        self.syncing = False
        self.lists = 0
        self.on_change: Callable[[T], None] | None = None
        # Why the next (re)watch must start with a LIST; when the stream was lost (monotonic).
        self._relist_reason: str | None = None
        self._lost_at: float | None = None

    def start(self) -> None:
        """Start the LIST + WATCH task on the running event loop."""
        if self._task is not None:
            return
        self.syncing = True  # the task's first act is a LIST: readers wait from now on
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"reflector-{self.resource.plural}"
        )

    async def stop(self) -> None:
        """End the task; its open watch is closed and the stream's thread has ended."""
        task, self._task = self._task, None
        self.connected = False
        if task is not None:
            task.cancel()
            await asyncio.wait([task])

    @property
    def alive(self) -> bool:
        """Whether the task is running."""
        return self._task is not None and not self._task.done()

    def request_relist(self, reason: str) -> None:
        """Rebuild the cache by a LIST before trusting it again (the stream is closed now)."""
        log.warning(
            "monitor.reflector.relist_requested", resource=self.resource.plural, reason=reason
        )
        self._relist_reason = reason
        self.connected = False
        stream = self._stream
        if stream is not None:
            stream.close()

    def _relist_due(self) -> str | None:
        if self._relist_reason is not None:
            return self._relist_reason
        if self._lost_at is not None and time.monotonic() - self._lost_at > RELIST_AFTER_SECONDS:
            return f"stream lost for more than {RELIST_AFTER_SECONDS:g} s"
        return None

    def get(self, key: tuple[str, str]) -> T | None:
        """The entry of the object at (namespace, name), if cached."""
        return self._items.get(key)

    def items(self) -> list[T]:
        """The cached entries (a new list; entries are replaced, never changed in place)."""
        return list(self._items.values())

    async def _run(self) -> None:
        try:
            await self._follow()
        finally:
            self.connected = self.syncing = False

    async def _follow(self) -> None:
        backoff = BACKOFF_FIRST_SECONDS
        listed = False
        while True:
            try:
                reason = None if not listed else self._relist_due()
                if not listed or reason is not None:
                    if reason is not None:
                        log.info(
                            "monitor.reflector.relist", resource=self.resource.plural, reason=reason
                        )
                    await self._relist()
                    listed = True
                await self._watch_once()
                backoff = BACKOFF_FIRST_SECONDS  # a watch ended by its timeout is normal
            except WatchExpired as exc:
                log.info("monitor.reflector.expired", resource=self.resource.plural, error=str(exc))
                self.connected = False
                listed = False
            except (KarmadaUnavailable, KarmadaRejected, ValueError) as exc:
                self.connected = self.syncing = False
                if self._lost_at is None:
                    self._lost_at = time.monotonic()
                log.warning(
                    "monitor.reflector.failed", resource=self.resource.plural, error=str(exc)
                )
                # A short break resumes from the last version; see _relist_due for the rest.
                await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
                backoff = min(backoff * 2, BACKOFF_MAX_SECONDS)
            except Exception:
                # A defect (an entry maker, a decoder): the task must not die with the cache
                # silently stale. Say so loudly, back off, and trust nothing seen: re-LIST.
                log.exception("monitor.reflector.crashed", resource=self.resource.plural)
                self.connected = self.syncing = False
                listed = False
                await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
                backoff = min(backoff * 2, BACKOFF_MAX_SECONDS)

    async def _relist(self) -> None:
        entries: dict[tuple[str, str], T] = {}
        version = ""
        self.syncing = True
        async for items, page_version in self._gateway.list_pages(
            self.resource, label_selector=self.label_selector
        ):
            version = page_version
            for item in items:
                made = self._entry(item)
                if made is not None:
                    entries[_key(item)] = made
        self._items = entries
        self.resource_version = int(version or 0)
        self._relist_reason = None
        self._lost_at = None
        self.lists += 1

    async def _watch_once(self) -> None:
        async with self._gateway.watch(
            self.resource,
            resource_version=str(self.resource_version),
            label_selector=self.label_selector,
            timeout_seconds=random.randint(*WATCH_TIMEOUT_RANGE),
        ) as stream:
            try:
                await stream.open()
            except (KarmadaUnavailable, KarmadaRejected):
                # The server may not have our resourceVersion any more: never resume blindly.
                self._relist_reason = "resuming the watch failed"
                raise
            if self._relist_reason is not None:
                return  # requested while the watch was opening: LIST first
            self._lost_at = None
            self._stream = stream
            self.connected = True
            self.syncing = False
            try:
                async for event in stream:
                    self._apply(event)
            finally:
                self.connected = False
                self._stream = None

    def _apply(self, event: WatchEvent) -> None:
        kind = event.type
        obj = event.object
        if kind == "ERROR":
            # 410 Gone/Expired; any other error also means the stream cannot be trusted.
            raise WatchExpired(str(obj.get("message") or obj.get("reason") or "watch error"))
        version = _rv(obj)
        if 0 < version < self.resource_version:
            # Versions only grow on one server: this one lost state we saw.
            raise WatchExpired(
                f"server resourceVersion {version} is behind {self.resource_version}"
            )
        made = self._entry(obj) if kind in ("ADDED", "MODIFIED") else None
        old: T | None = None
        if made is not None:
            old = self._items.get(_key(obj))
            self._items[_key(obj)] = made
        elif kind in ("ADDED", "MODIFIED", "DELETED"):
            old = self._items.pop(_key(obj), None)
        self.resource_version = max(self.resource_version, version)
        changed = made if made is not None else old
        if changed is not None and self.on_change is not None:
            self.on_change(changed)
