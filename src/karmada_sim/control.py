"""The simulator's control API under `/sim/v1/` (JSON): readiness, time, faults, counters,
Karmada snapshots and restore, saving the state file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import orjson
from starlette.requests import Request
from starlette.responses import Response

from karmada_sim import errors
from karmada_sim.faults import Faults

if TYPE_CHECKING:
    from karmada_sim.http import ApiServer


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.bad_request(f"invalid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be a JSON object")
    return body


def _require(body: dict[str, Any], *names: str) -> list[Any]:
    missing = [n for n in names if n not in body]
    if missing:
        raise errors.bad_request(f"missing fields: {', '.join(missing)}")
    return [body[n] for n in names]


async def handle_control(api: ApiServer, request: Request, path: list[str]) -> Response:
    """Serve one control request; `path` is what follows `/sim/v1/`."""
    method = request.method
    backend = api.backend
    if path == ["clusters"] and method == "GET":
        clusters = [
            {"name": name, "ready": member.ready}
            for name, member in sorted(backend.members.items())
        ]
        return _json({"clusters": clusters})
    if len(path) == 3 and path[0] == "clusters" and path[2] == "ready" and method == "POST":
        (ready,) = _require(await _body(request), "ready")
        if not isinstance(ready, bool):
            raise errors.bad_request("ready must be true or false")
        _known_cluster(api, path[1])
        backend.set_cluster_ready(path[1], ready)
        return _json({"name": path[1], "ready": ready})
    if len(path) == 3 and path[0] == "clusters" and path[2] == "objects" and method == "DELETE":
        body = await _body(request)
        api_version, kind, name = _require(body, "apiVersion", "kind", "name")
        _known_cluster(api, path[1])
        backend.delete_member_object(
            path[1], str(api_version), str(kind), str(body.get("namespace") or ""), str(name)
        )
        return _json({"deleted": {"cluster": path[1], "kind": kind, "name": name}})
    if path == ["advance"] and method == "POST":
        (seconds,) = _require(await _body(request), "seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            raise errors.bad_request("seconds must be a non-negative number")
        backend.advance(float(seconds))
        return _json(
            {"now": backend.clock.timestamp(), "offsetSeconds": backend.clock.offset_seconds}
        )
    if path == ["snapshots"] and method == "POST":
        snapshot_id, resource_version = _recoverable(api).take_snapshot()
        return _json({"id": snapshot_id, "resourceVersion": resource_version}, 201)
    if path == ["restore"] and method == "POST":
        (snapshot_id,) = _require(await _body(request), "snapshot")
        if not isinstance(snapshot_id, int) or isinstance(snapshot_id, bool):
            raise errors.bad_request("snapshot must be a snapshot id")
        return _json({"resourceVersion": _recoverable(api).restore_snapshot(snapshot_id)})
    if path == ["state"] and method == "POST":
        recoverable = _recoverable(api)
        if recoverable.state_file is None:
            raise errors.bad_request("the simulator runs without --state-file")
        recoverable.save_state()
        return _json({"path": str(recoverable.state_file)})
    if path == ["faults"]:
        if method == "PUT":
            api.faults = Faults.from_json(await _body(request))
        elif method == "DELETE":
            api.faults = Faults()
        elif method != "GET":
            raise errors.method_not_allowed()
        return _json(api.faults.to_json())
    if path == ["stats"]:
        if method == "DELETE":
            api.stats.reset()
        elif method != "GET":
            raise errors.method_not_allowed()
        return _json(api.stats.to_json())
    raise errors.path_not_found()


class _Recoverable(Protocol):
    """A backend that keeps snapshots and a state file (the `Simulator`)."""

    state_file: Path | None

    def take_snapshot(self) -> tuple[int, str]: ...

    def restore_snapshot(self, snapshot_id: int) -> str: ...

    def save_state(self) -> None: ...


def _recoverable(api: ApiServer) -> _Recoverable:
    if not hasattr(api.backend, "take_snapshot"):
        raise errors.path_not_found()
    return cast(_Recoverable, api.backend)


def _known_cluster(api: ApiServer, name: str) -> None:
    if name not in api.backend.members:
        raise errors.ApiError(
            404,
            "NotFound",
            f'clusters.cluster.karmada.io "{name}" not found',
            {"name": name, "group": "cluster.karmada.io", "kind": "clusters"},
        )
