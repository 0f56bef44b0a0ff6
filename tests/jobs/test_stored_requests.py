"""The per-process store of compacted requests (a pure LRU)."""

from __future__ import annotations

from datetime import UTC, datetime

from ml_platform.jobs.stored_requests import StoredRequests

CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def test_requests_are_compacted_once_and_the_least_recently_used_goes_first() -> None:
    held = StoredRequests(capacity=2)
    assert held.add(("a", CREATED), '{"x": 1,  "y": [1, 2]}') == b'{"x":1,"y":[1,2]}'
    # Held bytes win over a text given again for the same job.
    assert held.add(("a", CREATED), '{"other": true}') == b'{"x":1,"y":[1,2]}'
    held.add(("b", CREATED), "{}")
    assert held.get(("a", CREATED)) is not None  # a is now the most recently used
    held.add(("c", CREATED), "[]")
    assert held.get(("b", CREATED)) is None
    assert held.get(("a", CREATED)) == b'{"x":1,"y":[1,2]}'
    assert held.get(("c", CREATED)) == b"[]"
    assert held.get(("a", datetime(2026, 1, 2, tzinfo=UTC))) is None
