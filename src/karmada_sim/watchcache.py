"""The apiserver's watch cache: a window of recent writes, fed from storage and delivered late.

A real kube-apiserver serves WATCH (and LIST at a resourceVersion) from a cache that an etcd
watch feeds: it trails the store by a few milliseconds or more, keeps a bounded window of
events (older resumes get 410 Gone) and waits up to 3 s for a resourceVersion it has not seen
yet before answering 504 "Too large resource version" (k8s.io/apiserver/pkg/storage/cacher:
watch_cache.go `waitUntilFreshAndBlock`, `blockTimeout`; `eventFreshDuration` = 75 s).
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from karmada_sim import errors
from karmada_sim.clock import Clock
from karmada_sim.resources import Resource
from karmada_sim.selectors import FieldSelector, LabelSelector, field_value

# At most this many events are kept (etcd's compaction in the simulator).
HISTORY_LIMIT = 50_000


@dataclass
class WatchCacheSettings:
    """How far the cache trails storage and how long it remembers (all in seconds)."""

    # Delay between a write and its delivery to watchers, plus up to `jitter_seconds` more.
    lag_seconds: float = 0.003
    jitter_seconds: float = 0.0
    # Events older than this (simulated time) are dropped: resuming before them is 410 Gone.
    window_seconds: float = 75.0
    # How long a request for a future resourceVersion waits before 504.
    too_large_wait_seconds: float = 3.0


def field_selectors(res: Resource) -> tuple[str, ...]:
    """The field selectors a resource accepts."""
    return ("metadata.name", "metadata.namespace", *res.extra_field_selectors)


@dataclass(frozen=True)
class View:
    """What watch filtering needs of one object version (kept instead of the whole object)."""

    namespace: str | None
    labels: dict[str, str] | None
    fields: dict[str, str]


def view(res: Resource, obj: dict[str, Any]) -> View:
    """The filtering view of one object."""
    meta = obj["metadata"]
    fields = {path: field_value(obj, path) for path in field_selectors(res)}
    return View(meta.get("namespace"), meta.get("labels"), fields)


@dataclass
class Event:
    """One write. `obj` and `old` are shared, never-mutated stored objects."""

    rv: int
    type: str
    res: Resource
    obj: dict[str, Any]
    old: dict[str, Any] | None
    now: View
    before: View | None
    at: float = 0.0  # simulated time of the write, in seconds since the epoch


class Watcher:
    """One open watch: its filter, the version it starts after, and its event queue."""

    def __init__(
        self,
        res: Resource,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        after_rv: int,
    ) -> None:
        self.res = res
        self.namespace = namespace
        self.labels = labels
        self.fields = fields
        self.after_rv = after_rv
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    def selects(self, view: View | None) -> bool:
        """Whether this watch's selectors match an object version."""
        if view is None:
            return False
        if self.namespace is not None and view.namespace != self.namespace:
            return False
        return self.labels.matches(view.labels) and self.fields.matches_values(view.fields)

    def translate(self, event: Event) -> str | None:
        """The event type as this watcher sees it: objects moving in or out become
        ADDED/DELETED; None when the watcher does not see the event at all."""
        if event.res != self.res or event.rv <= self.after_rv:
            return None
        now = self.selects(event.now)
        if event.type != "MODIFIED":
            return event.type if now else None
        before = self.selects(event.before)
        if now and before:
            return "MODIFIED"
        if now:
            return "ADDED"
        if before:
            return "DELETED"
        return None

    def offer(self, event: Event) -> None:
        """Queue the event if this watcher sees it."""
        seen = self.translate(event)
        if seen is not None:
            self.queue.put_nowait((seen, event.obj))


class WatchCache:
    """Events from storage, delivered to watchers after a lag, with a bounded history."""

    def __init__(
        self, *, clock: Clock, settings: WatchCacheSettings, rng: random.Random | None = None
    ) -> None:
        self.clock = clock
        self.settings = settings
        self._rng = rng or random.Random()
        # Delivered events, oldest first; the cache is current up to `resource_version`.
        self.history: deque[Event] = deque()
        self.compacted_rv = 0
        self.resource_version = 0
        # Written but not yet delivered: (due loop time, event), in write order.
        self._pending: deque[tuple[float, Event]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._watchers: list[Watcher] = []
        self.on_deliver: list[Callable[[int], None]] = []

    # ------------------------------------------------------------------------- feeding

    def record(self, event: Event) -> None:
        """Take one write from storage; it reaches watchers after the configured lag."""
        event.at = self.clock.now().timestamp()
        loop = _running_loop()
        delay = self.settings.lag_seconds + self._rng.uniform(0, self.settings.jitter_seconds)
        if loop is None or delay <= 0:
            self._pending.append((0.0, event))
            self._deliver_due(float("inf"))
            return
        # Never earlier than the event before it: a watch sees writes in order.
        due = loop.time() + delay
        if self._pending:
            due = max(due, self._pending[-1][0])
        self._pending.append((due, event))
        if self._timer is None:
            self._timer = loop.call_at(due, self._on_timer)

    def flush(self) -> None:
        """Deliver everything written so far (shutdown, compaction, restore)."""
        self._deliver_due(float("inf"))

    def _on_timer(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        self._deliver_due(loop.time())
        if self._pending:
            self._timer = loop.call_at(self._pending[0][0], self._on_timer)

    def _deliver_due(self, now: float) -> None:
        delivered = False
        while self._pending and self._pending[0][0] <= now:
            _, event = self._pending.popleft()
            self._append(event)
            for watcher in self._watchers:
                watcher.offer(event)
            delivered = True
        if delivered:
            self._expire_old()
            for callback in list(self.on_deliver):
                callback(self.resource_version)

    def _append(self, event: Event) -> None:
        self.history.append(event)
        self.resource_version = event.rv
        if len(self.history) > HISTORY_LIMIT:
            self.compacted_rv = self.history.popleft().rv

    def _expire_old(self) -> None:
        horizon = self.clock.now().timestamp() - self.settings.window_seconds
        while self.history and self.history[0].at < horizon:
            self.compacted_rv = self.history.popleft().rv

    def events_after(self, resource_version: int) -> list[Event]:
        """Every write after `resource_version`, delivered or not, oldest first."""
        found = [event for event in self.history if event.rv > resource_version]
        found.extend(event for _, event in self._pending if event.rv > resource_version)
        return found

    def compact(self) -> None:
        """Forget all history: resuming from any earlier version is 410 Gone."""
        self.flush()
        self.history.clear()
        self.compacted_rv = self.resource_version

    def reset(self, resource_version: int) -> None:
        """Start over at `resource_version` with no history (after a restore): open watches
        end with 410 Gone, as a restarted apiserver drops them and their resume is too old."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending.clear()
        self.history.clear()
        self.resource_version = self.compacted_rv = resource_version
        status = errors.gone(f"too old resource version: restored at {resource_version}")
        for watcher in self._watchers:
            watcher.queue.put_nowait(("ERROR", status.status()))
        self._watchers.clear()

    # ------------------------------------------------------------------------ watching

    def add(self, watcher: Watcher, *, replay_from: int | None) -> None:
        """Register a watcher; with `replay_from`, first queue the cached events after it.

        A version older than the window queues one ERROR event (410 Gone), as the apiserver
        sends it inside the watch stream.
        """
        if replay_from is not None:
            self.expire()
            if replay_from < self.compacted_rv:
                status = errors.gone(
                    f"too old resource version: {replay_from} ({self.compacted_rv + 1})"
                ).status()
                watcher.queue.put_nowait(("ERROR", status))
            else:
                watcher.after_rv = replay_from
                for event in self.history:
                    if event.rv > replay_from:
                        watcher.offer(event)
        self._watchers.append(watcher)

    def remove(self, watcher: Watcher) -> None:
        """Stop delivering events to a watcher."""
        if watcher in self._watchers:
            self._watchers.remove(watcher)

    def expire(self) -> None:
        """Drop events that have left the window (also done on every delivery)."""
        self._expire_old()

    async def wait_fresh(self, resource_version: int) -> None:
        """Wait until the cache has reached `resource_version`; 504 after the configured wait."""
        if self.resource_version >= resource_version:
            return
        ready = asyncio.Event()

        def check(current: int) -> None:
            if current >= resource_version:
                ready.set()

        self.on_deliver.append(check)
        try:
            await asyncio.wait_for(ready.wait(), self.settings.too_large_wait_seconds)
        except TimeoutError:
            raise errors.too_large_resource_version(
                resource_version, self.resource_version
            ) from None
        finally:
            self.on_deliver.remove(check)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
