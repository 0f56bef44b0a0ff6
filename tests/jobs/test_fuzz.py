"""Every field of the UI request replaced by every hostile value: never a 5xx."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx

from tests_support import UI_REQUEST

JOBS = "/api/v1/jobs"
HOSTILE_VALUES: list[Any] = [
    None,
    "",
    "x" * 5000,
    "\u0000",
    "ü-名前",
    -1,
    0,
    10**20,
    1.5,
    True,
    [],
    {},
    [{"a": 1}],
]
Path = tuple[str | int, ...]


def leaf_paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every path into the request, containers included."""
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaf_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from leaf_paths(child, (*prefix, index))


def replaced(path: Path, new: Any) -> dict[str, Any]:
    body = copy.deepcopy(UI_REQUEST)
    target: Any = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = new
    return body


async def test_no_field_value_yields_a_server_error(client: httpx.AsyncClient) -> None:
    failures = []
    statuses: set[int] = set()
    for path in leaf_paths(UI_REQUEST):
        for value in HOSTILE_VALUES:
            response = await client.post(JOBS, json=replaced(path, value))
            statuses.add(response.status_code)
            error_shape = set(response.json()) == {"error", "details"}
            if response.status_code >= 500 or (response.status_code >= 400 and not error_shape):
                failures.append((path, value, response.status_code))
    assert not failures, failures[:10]
    assert {201, 422} <= statuses
