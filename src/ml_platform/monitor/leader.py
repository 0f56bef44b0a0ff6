"""Leader election: only one replica's monitor writes at a time.

On Postgres the leader holds a session-level advisory lock on a dedicated connection. If the
leader process dies or its connection breaks, Postgres releases the lock and another replica
takes it on its next tick. SQLite is single-process, so its one replica always leads.
"""

from __future__ import annotations

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = structlog.get_logger()

# An arbitrary, fixed 64-bit key that names "the ml-platform monitor" among advisory locks.
MONITOR_LOCK_KEY = 0x6D6C_706C_6D6F_6E31


class LeaderElection:
    """Tells, at each tick, whether this replica leads."""

    def __init__(self, engine: AsyncEngine, *, lock_key: int = MONITOR_LOCK_KEY) -> None:
        self._engine = engine
        self._key = lock_key
        self._connection: AsyncConnection | None = None
        self._always = engine.dialect.name != "postgresql"
        self.is_leader = self._always

    async def check(self) -> bool:
        """Keep or try to take the lead; False when another replica leads."""
        if self._always:
            self.is_leader = True
            return True
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                await self._connection.commit()
                return True
            except Exception:
                log.warning("monitor.leadership_lost", reason="lock connection failed")
                await self._drop()
                return False
        return await self._try_acquire()

    async def _try_acquire(self) -> bool:
        connection: AsyncConnection | None = None
        try:
            connection = await self._engine.connect()
            acquired = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            )
            # The lock is held by the session, not a transaction: end the implicit one.
            await connection.commit()
        except Exception as exc:
            log.warning("monitor.leader_check_failed", error=str(exc))
            if connection is not None:
                await connection.close()
            return False
        if not acquired:
            await connection.close()
            return False
        self._connection = connection
        self.is_leader = True
        log.info("monitor.leadership_acquired")
        return True

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        self.is_leader = False
        if connection is not None:
            try:
                await connection.invalidate()
            except Exception as exc:
                log.debug("monitor.lock_connection_close_failed", error=str(exc))

    async def release(self) -> None:
        """Give up the lead (at shutdown) so another replica takes over at once."""
        if self._connection is None:
            self.is_leader = False
            return
        try:
            await self._connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
            )
            await self._connection.commit()
            await self._connection.close()
        except Exception as exc:
            log.warning("monitor.lock_release_failed", error=str(exc))
            await self._drop()
        self._connection = None
        self.is_leader = False
