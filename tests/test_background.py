"""Stopping background services at shutdown: newest first, one shared deadline."""

from __future__ import annotations

import asyncio
import time

from ml_platform.app import stop_services


class Service:
    """A minimal background service: a task that runs until stopped."""

    def __init__(self, name: str, stopped: list[str], *, hangs: bool = False) -> None:
        self.name = name
        self.stopped = stopped
        self.hangs = hangs
        self.task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    async def start(self) -> None:
        self.task = asyncio.create_task(asyncio.sleep(3600))

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.sleep(0.01)
        if self.hangs:
            await asyncio.sleep(3600)
        self.stopped.append(self.name)


async def test_services_stop_newest_first_within_budget() -> None:
    stopped: list[str] = []
    services = [
        Service("hanging", stopped, hangs=True),
        Service("middle", stopped),
        Service("last", stopped),
    ]
    for service in services:
        await service.start()
    started = time.perf_counter()
    await stop_services(services, 0.3)
    assert time.perf_counter() - started < 1
    assert stopped == ["last", "middle"]
    await asyncio.sleep(0)
    assert not any(service.running for service in services)
