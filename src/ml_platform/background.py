"""Background services that live as long as the app (the monitor joins this list)."""

from __future__ import annotations

from typing import Protocol


class BackgroundService(Protocol):
    """Something the lifespan starts after the database is ready and stops before disposal."""

    @property
    def name(self) -> str:
        """Short name for logs and /health."""
        ...

    @property
    def running(self) -> bool:
        """Whether the service is currently running."""
        ...

    async def start(self) -> None:
        """Start running in the background; return promptly."""
        ...

    async def stop(self) -> None:
        """Stop and wait until stopped."""
        ...
