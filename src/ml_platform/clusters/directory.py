"""A short-lived cache of Karmada's cluster list, so frequent checks stay cheap."""

from __future__ import annotations

import asyncio
import time

from ml_platform.karmada.gateway import ClusterInfo, KarmadaGateway

DEFAULT_TTL_SECONDS = 5.0


class ClusterDirectory:
    """Karmada's member clusters, re-read at most once per ``ttl_seconds``."""

    def __init__(self, *, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        self._ttl = ttl_seconds
        self._clusters: list[ClusterInfo] = []
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    async def clusters(self, gateway: KarmadaGateway) -> list[ClusterInfo]:
        """The cluster list, from the cache when fresh; raises ``KarmadaUnavailable``."""
        async with self._lock:  # one refresh at a time; concurrent callers share its result
            fresh = self._read_at is not None and time.monotonic() - self._read_at < self._ttl
            if not fresh:
                self._clusters = await gateway.clusters()
                self._read_at = time.monotonic()
            return list(self._clusters)

    def forget(self) -> None:
        """Drop the cached list (the next call reads Karmada again)."""
        self._read_at = None
