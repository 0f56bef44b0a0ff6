"""Simulated time: wall time plus an offset that tests can move forward without sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class Clock:
    """Simulated time = wall time + an offset that tests can advance."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._wakers: list[Callable[[], None]] = []

    @property
    def offset_seconds(self) -> float:
        """How far simulated time is ahead of the wall clock."""
        return self._offset

    def now(self) -> datetime:
        """The current simulated time, timezone-aware UTC."""
        return datetime.now(UTC) + timedelta(seconds=self._offset)

    def advance(self, seconds: float) -> None:
        """Move simulated time forward and wake everyone waiting on it."""
        if seconds < 0:
            raise ValueError("simulated time only moves forward")
        self._offset += seconds
        for wake in list(self._wakers):
            wake()

    def on_advance(self, wake: Callable[[], None]) -> None:
        """Register a callback run synchronously after every `advance`."""
        self._wakers.append(wake)

    def timestamp(self) -> str:
        """The current simulated time as Kubernetes writes it: RFC 3339, seconds, `Z`."""
        return format_time(self.now())


def format_time(moment: datetime) -> str:
    """Format a datetime the way the apiserver serialises `metav1.Time`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp as written in object metadata or status."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
