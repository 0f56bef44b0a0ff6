"""A controller work queue: keys marked dirty by events plus keys due at a simulated time.

Controllers never scan everything on a tick; they handle the keys this queue hands out, so a
pass costs what changed, not how many objects exist.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    """Dirty keys (insertion ordered, deduplicated) and one timer per key (the earliest)."""

    def __init__(self) -> None:
        self._dirty: dict[K, None] = {}
        self._due: dict[K, float] = {}
        self._timers: list[tuple[float, int, K]] = []
        self._seq = 0

    def mark(self, key: K) -> None:
        """Handle `key` on the next pass."""
        self._dirty[key] = None

    def schedule(self, key: K, at: float) -> None:
        """Handle `key` once simulated time reaches `at` (epoch seconds)."""
        current = self._due.get(key)
        if current is not None and current <= at:
            return
        self._due[key] = at
        self._seq += 1
        heapq.heappush(self._timers, (at, self._seq, key))

    def pop_ready(self, now: float, limit: int | None = None) -> list[K]:
        """Keys that are dirty or due by `now` (at most `limit`); they leave the queue."""
        while self._timers and self._timers[0][0] <= now:
            at, _, key = heapq.heappop(self._timers)
            if self._due.get(key) == at:
                del self._due[key]
                self._dirty[key] = None
        if limit is None or len(self._dirty) <= limit:
            ready = list(self._dirty)
            self._dirty.clear()
            return ready
        ready = []
        for key in self._dirty:
            ready.append(key)
            if len(ready) == limit:
                break
        for key in ready:
            del self._dirty[key]
        return ready

    def next_due(self) -> float | None:
        """The earliest pending timer, if any (stale entries may make it early, never late)."""
        return self._timers[0][0] if self._timers else None
