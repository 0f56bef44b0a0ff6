"""A periodic background service: ``run_once()`` every interval, timed from the start of the
previous run, never overlapping, surviving errors, stopping promptly."""

from __future__ import annotations

import asyncio
import contextlib
import time
from abc import ABC, abstractmethod

import structlog

log = structlog.get_logger()


class LoopService(ABC):
    """Runs ``run_once`` every ``interval`` seconds until stopped.

    A run that overruns the interval is followed at once by the next one (missed ticks are
    skipped, not queued). An exception in a run is logged and the loop goes on; cancellation
    propagates. ``stop()`` lets a run in progress finish (it holds the transaction) and returns
    within one run plus a moment.
    """

    def __init__(self, *, name: str, interval_seconds: float) -> None:
        self._name = name
        self.interval = interval_seconds
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.runs = 0
        self.failures = 0

    @property
    def name(self) -> str:
        """Short name for logs and /health."""
        return self._name

    @property
    def running(self) -> bool:
        """Whether the loop task is alive."""
        return self._task is not None and not self._task.done()

    @abstractmethod
    async def run_once(self) -> None:
        """One iteration of the service's work."""

    async def start(self) -> None:
        """Start the loop in the background."""
        if self.running:
            return
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._loop(), name=self._name)

    async def stop(self) -> None:
        """Ask the loop to stop after the current run and wait for it."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await self._task
        finally:
            self._task = None

    async def _loop(self) -> None:
        log.info("service.started", service=self._name, interval=self.interval)
        while not self._stopping.is_set():
            started = time.monotonic()
            await self._run_guarded()
            elapsed = time.monotonic() - started
            if elapsed > self.interval:
                log.warning("service.overrun", service=self._name, seconds=round(elapsed, 3))
            delay = max(0.0, self.interval - elapsed)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
        log.info("service.stopped", service=self._name, runs=self.runs)

    async def _run_guarded(self) -> None:
        # Cancellation propagates: a run's work is one transaction, which then rolls back.
        try:
            await self.run_once()
        except Exception:
            self.failures += 1
            log.exception("service.run_failed", service=self._name)
        finally:
            self.runs += 1
