"""A job's stored request as the bytes the API writes, kept per process.

Decoding and re-encoding a job's request was the largest cost of a page of jobs, and on
Postgres turning the stored ``jsonb`` back into text was the largest cost of the page's
query. A request never changes once its job is created, so its bytes are kept by job (id and
creation time: a job created again under the same id is another job), and a page of jobs
reads from the database only the requests it does not hold yet.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

import pydantic_core

# Requests held, per process: about 1.5 KB each.
CAPACITY = 4096

RequestKey = tuple[str, datetime]


def compact_json(stored: str) -> bytes:
    """The bytes pydantic writes for the value of this stored JSON text."""
    return pydantic_core.to_json(pydantic_core.from_json(stored))


class StoredRequests:
    """Least-recently-used compacted requests by job."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._held: OrderedDict[RequestKey, bytes] = OrderedDict()

    def get(self, key: RequestKey) -> bytes | None:
        """The held bytes of this job's request, if held."""
        held = self._held.get(key)
        if held is not None:
            self._held.move_to_end(key)
        return held

    def add(self, key: RequestKey, stored: str) -> bytes:
        """Hold (and return) the bytes of this job's stored request text."""
        held = self.get(key)
        if held is None:
            held = self._held[key] = compact_json(stored)
            if len(self._held) > self._capacity:
                self._held.popitem(last=False)
        return held


REQUESTS = StoredRequests()
