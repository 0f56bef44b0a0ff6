"""The simulator's Kubernetes REST API as an ASGI app: routing, CRUD, watch, logs, proxy.

Serves the Karmada control plane from `backend.karmada` and each member cluster through
`/apis/cluster.karmada.io/v1alpha1/clusters/{name}/proxy/...` with the same handlers.
All handlers run on the simulator's event loop, so stores are used without locks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson
import structlog
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from karmada_sim import decoding, discovery, errors, openapi, tables
from karmada_sim.clock import Clock
from karmada_sim.control import handle_control
from karmada_sim.faults import Faults, RequestStats
from karmada_sim.podlogs import LogOptions, parse_bool, render, select_lines, truncate
from karmada_sim.resources import CLUSTER, JOB, NAMESPACE, POD, Resource, by_plural
from karmada_sim.store import Store, parse_resource_version

log = structlog.get_logger()

JSON = "application/json"
_PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
}
# Without timeoutSeconds a real apiserver ends a watch after 30-60 minutes.
DEFAULT_WATCH_SECONDS = 1800.0
# How often a `follow` log stream looks for new lines (wall time).
LOG_POLL_SECONDS = 0.1
# What the apiserver warns when a Job is deleted without a propagation policy.
_JOB_ORPHAN_WARNING = (
    '299 - "child pods are preserved by default when jobs are deleted; set '
    "propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress "
    'this warning"'
)
# Queued into open watch streams to end them at shutdown.
_CLOSE = "CLOSE"


class Member(Protocol):
    """What the API layer needs from a member cluster."""

    @property
    def ready(self) -> bool:
        """Whether the cluster is Ready (its proxy answers 503 otherwise)."""

    @property
    def store(self) -> Store:
        """The member's API objects."""


class Backend(Protocol):
    """What the API layer needs from the simulator (a thin seam; `Simulator` satisfies it)."""

    @property
    def clock(self) -> Clock:
        """Simulated time."""

    @property
    def karmada(self) -> Store:
        """The Karmada control plane's objects."""

    @property
    def members(self) -> Mapping[str, Member]:
        """Member clusters by name."""

    def store_for(self, cluster: str | None) -> Store:
        """The store of a member cluster (None: Karmada); unknown names raise a 404 ApiError."""

    def pod_log(
        self, cluster: str, namespace: str, pod: str, container: str | None
    ) -> list[tuple[datetime, str]]:
        """The (time, line) pairs a member pod has logged so far."""

    def set_cluster_ready(self, name: str, ready: bool) -> None:
        """Flip a member cluster Ready/NotReady."""

    def delete_member_object(
        self, cluster: str, api_version: str, kind: str, namespace: str, name: str
    ) -> None:
        """Delete an object in a member cluster behind Karmada's back."""

    def advance(self, seconds: float) -> None:
        """Move simulated time forward and reconcile."""


@dataclass(frozen=True)
class Target:
    """The API server a request is addressed to: Karmada itself or a member through the proxy."""

    store: Store
    cluster: str | None = None

    def label(self, res: Resource) -> str:
        """`rayjobs.ray.io`, or `member1/pods` through the proxy (for request counters)."""
        return f"{self.cluster}/{res.group_resource}" if self.cluster else res.group_resource


@dataclass(frozen=True)
class Address:
    """A resolved resource URL."""

    res: Resource
    namespace: str | None
    name: str | None
    subresource: str | None


class DroppedConnection(Exception):
    """Raised after a partial response to make the server close the connection."""


def json_response(body: bytes | dict[str, Any] | list[Any], status: int = 200) -> Response:
    """A JSON response from bytes or a document."""
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(content=content, status_code=status, media_type=JSON)


def error_response(err: errors.ApiError) -> Response:
    """The Status body for an ApiError (with Retry-After for 429)."""
    response = json_response(err.status(), err.code)
    retry = err.details.get("retryAfterSeconds")
    if retry is not None:
        response.headers["Retry-After"] = str(retry)
    return response


async def read_json(request: Request) -> Any:
    """The request body as JSON; malformed JSON is a 400 as the apiserver answers it."""
    raw = await request.body()
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from exc


async def read_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object (create and replace)."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be a JSON object")
    return body


class ApiServer:
    """The ASGI application: the Kubernetes API of the simulator plus its control API."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.faults = Faults()
        self.stats = RequestStats()
        # Open watch queues, so shutting down can end their streams cleanly.
        self._streams: set[asyncio.Queue[tuple[str, dict[str, Any]]]] = set()
        self.closing = False
        # Seconds between BOOKMARK events on watches that allow them (the apiserver: ~1 min).
        self.bookmark_interval = 60.0

    def close_streams(self) -> None:
        """End every open watch and log stream (before the server shuts down)."""
        self.closing = True
        for queue in self._streams:
            queue.put_nowait((_CLOSE, {}))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        path = scope["path"]
        faults = self.faults
        if faults.applies_to(path):
            if faults.latency_seconds:
                await asyncio.sleep(faults.latency_seconds)
            if faults.should_drop():
                self.stats.dropped_connections += 1
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": b"{", "more_body": True})
                raise DroppedConnection(path)
            injected = faults.injected_error()
            if injected is not None:
                self.stats.injected_errors += 1
                await error_response(injected)(scope, receive, send)
                return
        response = await self.handle(request, path)
        await response(scope, receive, send)

    async def handle(self, request: Request, path: str) -> Response:
        """Route one request and turn ApiErrors into Status responses."""
        started = time.perf_counter()
        try:
            segments = [s for s in path.split("/") if s]
            if segments[:2] == ["sim", "v1"]:
                return await handle_control(self, request, segments[2:])
            return await self.dispatch(request, segments, Target(self.backend.karmada))
        except errors.ApiError as err:
            return error_response(err)
        except Exception as exc:
            log.exception("sim.http.internal_error", path=path)
            return error_response(errors.internal_error(str(exc)))
        finally:
            elapsed = time.perf_counter() - started
            if elapsed > 0.5:
                log.warning("sim.http.slow_request", path=path, seconds=round(elapsed, 3))

    # ------------------------------------------------------------------------- routing

    async def dispatch(self, request: Request, segments: list[str], target: Target) -> Response:
        """Serve discovery or a resource path against one API server."""
        if not segments:
            return json_response({"paths": ["/api", "/api/v1", "/apis", "/version"]})
        head = segments[0]
        if head == "version" and len(segments) == 1:
            self.stats.record("get", "version")
            return json_response(discovery.KUBERNETES_VERSION)
        if head == "openapi" and segments[1:2] == ["v3"]:
            self.stats.record("discovery", "openapi")
            if len(segments) == 2:
                return json_response(openapi.root())
            document = openapi.group_version("/".join(segments[2:]))
            if document is None:
                raise errors.path_not_found()
            return json_response(document)
        if head in ("healthz", "readyz", "livez") and len(segments) == 1:
            return Response(b"ok", media_type="text/plain")
        if head == "api":
            if len(segments) == 1:
                self.stats.record("discovery", "api")
                return json_response(discovery.api_versions())
            group, version, rest = "", segments[1], segments[2:]
        elif head == "apis":
            if len(segments) == 1:
                self.stats.record("discovery", "apis")
                return json_response(discovery.api_group_list())
            if len(segments) == 2:
                doc = discovery.api_group(segments[1])
                if doc is None:
                    raise errors.path_not_found()
                return json_response(doc)
            group, version, rest = segments[1], segments[2], segments[3:]
        else:
            raise errors.path_not_found()
        if not rest:
            doc = discovery.api_resource_list(group, version)
            if doc is None:
                raise errors.path_not_found()
            self.stats.record("discovery", f"{group}/{version}" if group else version)
            return json_response(doc)
        if (
            target.cluster is None
            and (group, version) == (CLUSTER.group, CLUSTER.version)
            and len(rest) >= 3
            and rest[0] == CLUSTER.plural
            and rest[2] == "proxy"
        ):
            return await self.proxy(request, rest[1], rest[3:])
        return await self.serve_resource(request, resolve(group, version, rest), target)

    async def proxy(self, request: Request, cluster: str, rest: list[str]) -> Response:
        """The Karmada cluster proxy: the member's API under `clusters/{name}/proxy/`."""
        if self.backend.karmada.find(CLUSTER, None, cluster) is None:
            raise errors.not_found(CLUSTER, cluster)
        member = self.backend.members.get(cluster)
        if member is None:
            raise errors.not_found(CLUSTER, cluster)
        if not member.ready:
            raise errors.service_unavailable(
                f"cluster({cluster}) is not ready: the member cluster cannot be reached"
            )
        return await self.dispatch(request, rest, Target(self.backend.store_for(cluster), cluster))

    async def serve_resource(self, request: Request, addr: Address, target: Target) -> Response:
        """CRUD, watch and subresources on one resource path."""
        method = request.method
        res = addr.res
        if addr.subresource is not None:
            return await self.serve_subresource(request, addr, target)
        if addr.name is None:
            if method == "GET":
                if parse_bool(request.query_params.get("watch")):
                    self.stats.record("watch", target.label(res))
                    return self.watch(request, addr, target)
                self.stats.record("list", target.label(res))
                return await self.list_objects(request, addr, target)
            self.require_writable(res)
            if method == "POST":
                if res.namespaced and addr.namespace is None:
                    raise errors.method_not_allowed()
                self.stats.record("create", target.label(res))
                return await self.create(request, addr, target)
            if method == "DELETE":
                self.stats.record("deletecollection", target.label(res))
                return await self.delete_collection(request, addr, target)
            raise errors.method_not_allowed()
        if method == "GET":
            self.stats.record("get", target.label(res))
            entry = target.store.get_entry(res, addr.namespace, addr.name)
            if tables.wants_table(request.headers.get("accept", "")):
                return json_response(
                    tables.table(
                        res,
                        [entry.obj],
                        self.backend.clock.now(),
                        resource_version=target.store.resource_version,
                    )
                )
            return json_response(entry.raw)
        self.require_writable(res)
        if method == "PUT":
            self.stats.record("update", target.label(res))
            return await self.replace(request, addr, target)
        if method == "PATCH":
            self.stats.record("patch", target.label(res))
            return await self.patch(request, addr, target)
        if method == "DELETE":
            self.stats.record("delete", target.label(res))
            return await self.delete(request, addr, target)
        raise errors.method_not_allowed()

    async def serve_subresource(self, request: Request, addr: Address, target: Target) -> Response:
        """`/status` (get, put, patch) and `pods/{name}/log`."""
        method = request.method
        res = addr.res
        assert addr.name is not None
        if addr.subresource == "log" and res == POD:
            if method != "GET":
                raise errors.method_not_allowed()
            self.stats.record("log", target.label(res))
            return await self.pod_log(request, addr, target)
        if addr.subresource != "status" or not res.status_subresource:
            raise errors.path_not_found()
        if method == "GET":
            self.stats.record("get", target.label(res) + "/status")
            return json_response(target.store.get_entry(res, addr.namespace, addr.name).raw)
        self.require_writable(res)
        if method == "PUT":
            self.stats.record("update", target.label(res) + "/status")
            return await self.replace(request, addr, target)
        if method == "PATCH":
            self.stats.record("patch", target.label(res) + "/status")
            return await self.patch(request, addr, target)
        raise errors.method_not_allowed()

    @staticmethod
    def require_writable(res: Resource) -> None:
        """Objects made by the simulator itself (bindings, clusters) are read-only over HTTP."""
        if res.read_only:
            raise errors.method_not_allowed()

    # ------------------------------------------------------------------------- handlers

    async def list_objects(self, request: Request, addr: Address, target: Target) -> Response:
        """LIST with selectors, pagination and resourceVersion semantics; the body is joined
        from cached JSON bytes."""
        query = request.query_params
        limit = parse_limit(query.get("limit"))
        version, match = list_version(query)
        exact = None
        # resourceVersion "0" is served from the watch cache, possibly stale, and the cache
        # cannot paginate: `limit` is ignored (cacher.shouldDelegateList, API concepts
        # "Semantics for get and list").
        any_version = query.get("resourceVersion") == "0" and not query.get("continue")
        if match == "Exact":
            exact = version
        elif version:
            # NotOlderThan (the default for a version other than "0"): served from the watch
            # cache once it has caught up; 504 when it does not within the wait.
            await target.store.watch_cache.wait_fresh(version)
        if any_version:
            limit = 0
        page = target.store.list(
            addr.res,
            namespace=addr.namespace,
            label_selector=query.get("labelSelector", ""),
            field_selector=query.get("fieldSelector", ""),
            limit=limit,
            continue_token=query.get("continue", ""),
            exact_resource_version=exact,
            from_cache=any_version,
        )
        meta: dict[str, Any] = {"resourceVersion": page.resource_version}
        if page.continue_token:
            meta["continue"] = page.continue_token
            if page.remaining is not None:
                meta["remainingItemCount"] = page.remaining
        res = addr.res
        if tables.wants_table(request.headers.get("accept", "")):
            return json_response(
                tables.table(
                    res,
                    (entry.obj for entry in page.entries),
                    self.backend.clock.now(),
                    resource_version=page.resource_version,
                    continue_token=page.continue_token,
                )
            )
        head = orjson.dumps(
            {"apiVersion": res.api_version, "kind": res.list_kind, "metadata": meta}
        )
        body = b"".join((head[:-1], b',"items":[', b",".join(page.raw_items), b"]}"))
        return json_response(body)

    def watch(self, request: Request, addr: Address, target: Target) -> Response:
        """A newline-delimited stream of watch events, until timeoutSeconds or disconnect."""
        query = request.query_params
        timeout = DEFAULT_WATCH_SECONDS
        if query.get("timeoutSeconds"):
            timeout = float(parse_limit(query.get("timeoutSeconds"), name="timeoutSeconds"))
        store = target.store
        watcher = store.open_watch(
            addr.res,
            namespace=addr.namespace,
            label_selector=query.get("labelSelector", ""),
            field_selector=query.get("fieldSelector", ""),
            resource_version=query.get("resourceVersion", ""),
        )

        queue = watcher.queue
        self._streams.add(queue)

        bookmarks = parse_bool(query.get("allowWatchBookmarks"))
        res = addr.res
        as_table = tables.wants_table(request.headers.get("accept", ""))
        clock = self.backend.clock
        cache = store.watch_cache
        raw_version = query.get("resourceVersion", "")
        version = int(raw_version) if raw_version not in ("", "0") else 0

        async def events() -> AsyncIterator[bytes]:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            next_bookmark = _next_bookmark(loop.time(), deadline, self.bookmark_interval)
            try:
                if version:
                    try:
                        await cache.wait_fresh(version)
                    except errors.ApiError as exc:
                        # After a parsed version, errors come as an ERROR event in the stream.
                        yield orjson.dumps({"type": "ERROR", "object": exc.status()}) + b"\n"
                        return
                while not self.closing:
                    now = loop.time()
                    if now >= deadline:
                        return
                    wake = min(deadline, next_bookmark) if bookmarks else deadline
                    try:
                        kind, obj = await asyncio.wait_for(queue.get(), max(wake - now, 0.0))
                    except TimeoutError:
                        if bookmarks and loop.time() >= next_bookmark:
                            # The queue is empty: every event up to the cache's version is sent.
                            next_bookmark = _next_bookmark(
                                loop.time(), deadline, self.bookmark_interval
                            )
                            rv = max(cache.resource_version, watcher.after_rv)
                            yield bookmark_event(res, str(rv))
                        continue
                    if kind == _CLOSE:
                        return
                    if as_table and kind != "ERROR":
                        rv = obj["metadata"]["resourceVersion"]
                        obj = tables.table(res, [obj], clock.now(), resource_version=rv)
                    yield orjson.dumps({"type": kind, "object": obj}) + b"\n"
                    if kind == "ERROR":
                        return
            finally:
                self._streams.discard(queue)
                store.close_watch(watcher)

        return StreamingResponse(events(), media_type=JSON)

    async def create(self, request: Request, addr: Address, target: Target) -> Response:
        """POST on a collection: 201 with the object as stored (or as it would be, dryRun)."""
        dry_run, directive = write_options(request)
        obj = await read_object(request)
        res = addr.res
        check_type(obj, res)
        decoded = decoding.decode(res, obj, directive=directive)
        obj = decoded.obj
        if res.status_subresource:
            obj.pop("status", None)
        created = target.store.create(res, obj, namespace=addr.namespace, dry_run=dry_run)
        return with_warnings(json_response(created, 201), decoded.warnings)

    async def replace(self, request: Request, addr: Address, target: Target) -> Response:
        """PUT an object or its status."""
        dry_run, directive = write_options(request)
        obj = await read_object(request)
        check_type(obj, addr.res)
        decoded = decoding.decode(addr.res, obj, directive=directive)
        obj = decoded.obj
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if meta.get("name") and meta["name"] != addr.name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({addr.name})"
            )
        meta["name"] = addr.name
        if addr.res.namespaced:
            if meta.get("namespace") and meta["namespace"] != addr.namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            meta["namespace"] = addr.namespace
        replaced = target.store.replace(
            addr.res, obj, subresource=addr.subresource, dry_run=dry_run
        )
        return with_warnings(json_response(replaced), decoded.warnings)

    async def patch(self, request: Request, addr: Address, target: Target) -> Response:
        """PATCH with merge, JSON or (built-in kinds) strategic-merge semantics."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        patch_type = _PATCH_TYPES.get(content_type)
        if patch_type is None or (patch_type == "strategic" and addr.res.custom):
            raise errors.unsupported_media_type(strategic=not addr.res.custom)
        dry_run, directive = write_options(request)
        body = await read_json(request)
        assert addr.name is not None
        warnings: list[str] = []

        def admit(patched: dict[str, Any]) -> dict[str, Any]:
            decoded = decoding.decode(addr.res, patched, directive=directive, patched=True)
            warnings.extend(decoded.warnings)
            return decoded.obj

        patched = target.store.patch(
            addr.res,
            addr.namespace,
            addr.name,
            body,
            patch_type=patch_type,
            subresource=addr.subresource,
            dry_run=dry_run,
            admit=admit,
        )
        return with_warnings(json_response(patched), warnings)

    async def delete(self, request: Request, addr: Address, target: Target) -> Response:
        """DELETE one object: the object while finalizers hold it, else Status Success."""
        assert addr.name is not None
        policy, preconditions, dry_run = await delete_options(request)
        res = addr.res
        last = target.store.delete(
            res,
            addr.namespace,
            addr.name,
            propagation_policy=policy,
            preconditions=preconditions,
            dry_run=dry_run,
        )
        # A foreground delete answers the object marked with its finalizer, as the apiserver
        # does before its garbage collector (here inside the request) removes it.
        marked = policy == "Foreground"
        remains = (
            bool(last["metadata"].get("finalizers"))
            if dry_run
            else target.store.find(res, addr.namespace, addr.name) is not None
        )
        if res == POD or marked or remains:
            response = json_response(last)
        else:
            response = json_response(errors.success_status(res, addr.name, last["metadata"]["uid"]))
        if res == JOB and policy is None:
            response.headers["Warning"] = _JOB_ORPHAN_WARNING
        return response

    async def delete_collection(self, request: Request, addr: Address, target: Target) -> Response:
        """DELETE on a collection: delete every selected object; answer with their list."""
        policy, _, dry_run = await delete_options(request)
        query = request.query_params
        res = addr.res
        page = target.store.list(
            res,
            namespace=addr.namespace,
            label_selector=query.get("labelSelector", ""),
            field_selector=query.get("fieldSelector", ""),
        )
        deleted = []
        for obj in page.items:
            meta = obj["metadata"]
            deleted.append(
                target.store.delete(
                    res,
                    meta.get("namespace"),
                    meta["name"],
                    propagation_policy=policy,
                    dry_run=dry_run,
                )
            )
        return json_response(
            {
                "apiVersion": res.api_version,
                "kind": res.list_kind,
                "metadata": {"resourceVersion": target.store.resource_version},
                "items": deleted,
            }
        )

    async def pod_log(self, request: Request, addr: Address, target: Target) -> Response:
        """`pods/{name}/log` with container, tailLines, sinceSeconds, timestamps, limitBytes,
        follow."""
        assert addr.name is not None
        assert addr.namespace is not None
        options = LogOptions.from_query(dict(request.query_params))
        store = target.store
        store.get_entry(POD, addr.namespace, addr.name)
        cluster = target.cluster
        if cluster is None:
            # The control plane runs no containers, so its pods have nothing to say.
            return Response(b"", media_type="text/plain")
        name, namespace = addr.name, addr.namespace

        def produced() -> list[tuple[datetime, str]]:
            return self.backend.pod_log(cluster, namespace, name, options.container)

        clock = self.backend.clock
        lines = produced()
        first = truncate(
            render(select_lines(lines, options, clock.now()), options), options.limit_bytes
        )
        if not options.follow:
            return Response(first, media_type="text/plain")

        async def stream() -> AsyncIterator[bytes]:
            budget = None if options.limit_bytes is None else options.limit_bytes - len(first)
            seen = len(lines)
            if first:
                yield first
            while (budget is None or budget > 0) and not self.closing:
                await asyncio.sleep(LOG_POLL_SECONDS)
                pod = store.find(POD, namespace, name)
                try:
                    current = produced()
                except errors.ApiError:
                    return
                fresh = current[seen:]
                seen = len(current)
                if fresh:
                    chunk = truncate(render(fresh, options), budget)
                    if budget is not None:
                        budget -= len(chunk)
                    yield chunk
                elif pod is None or pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                    return

        return StreamingResponse(stream(), media_type="text/plain")


def _next_bookmark(now: float, deadline: float, interval: float) -> float:
    """When the apiserver's cacher sends a watch its next bookmark: every `interval` (a minute),
    or 2 s before the watch's deadline when that comes first (cacheWatcher.nextBookmarkTime);
    never again once that moment has passed."""
    moment = min(now + interval, deadline - 2.0)
    return moment if moment > now else float("inf")


def bookmark_event(res: Resource, resource_version: str) -> bytes:
    """A BOOKMARK watch event: only kind, apiVersion and metadata.resourceVersion."""
    event = {
        "type": "BOOKMARK",
        "object": {
            "kind": res.kind,
            "apiVersion": res.api_version,
            "metadata": {"resourceVersion": resource_version},
        },
    }
    return orjson.dumps(event) + b"\n"


def resolve(group: str, version: str, rest: list[str]) -> Address:
    """Turn the path after `/api/v1` or `/apis/{g}/{v}` into a resource address."""
    if rest[0] == "namespaces" and len(rest) >= 3:
        res = by_plural(group, version, rest[2])
        if res is not None and res.namespaced and len(rest) <= 5:
            return Address(
                res,
                rest[1],
                rest[3] if len(rest) > 3 else None,
                rest[4] if len(rest) > 4 else None,
            )
        if group == "" and len(rest) == 3:
            return Address(NAMESPACE, None, rest[1], rest[2])
        raise errors.path_not_found()
    res = by_plural(group, version, rest[0])
    if res is None or len(rest) > 3 or (res.namespaced and len(rest) > 1):
        raise errors.path_not_found()
    return Address(
        res, None, rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None
    )


def list_version(query: Mapping[str, str]) -> tuple[int, str]:
    """The LIST's resourceVersion (0 when unset or "0") and resourceVersionMatch, validated
    as the apiserver validates ListOptions (422 Invalid)."""
    raw = query.get("resourceVersion", "")
    match = query.get("resourceVersionMatch", "")
    problems: list[tuple[str, str]] = []  # (reason, detail)
    if match in ("NotOlderThan", "Exact"):
        forbidden = "FieldValueForbidden"
        if not raw:
            problems.append(
                (forbidden, "resourceVersionMatch is forbidden unless resourceVersion is provided")
            )
        if query.get("continue"):
            problems.append(
                (forbidden, "resourceVersionMatch is forbidden when continue is provided")
            )
        if match == "Exact" and raw == "0":
            problems.append(
                (forbidden, 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"')
            )
    elif match:
        problems.append(
            (
                "FieldValueNotSupported",
                f'Unsupported value: "{match}": supported values: "Exact", "NotOlderThan", ""',
            )
        )
    if problems:
        prefix = {"FieldValueForbidden": "Forbidden: ", "FieldValueNotSupported": ""}
        raise errors.ApiError(
            422,
            "Invalid",
            'ListOptions.meta.k8s.io "" is invalid: '
            + ", ".join(f"resourceVersionMatch: {prefix[r]}{text}" for r, text in problems),
            {
                "group": "meta.k8s.io",
                "kind": "ListOptions",
                "causes": [
                    {"reason": r, "message": text, "field": "resourceVersionMatch"}
                    for r, text in problems
                ],
            },
        )
    return (parse_resource_version(raw) if raw else 0), match


def parse_limit(raw: str | None, *, name: str = "limit") -> int:
    """A non-negative integer query parameter (absent: 0)."""
    if raw is None or raw == "":
        return 0
    try:
        value = int(raw)
    except ValueError as exc:
        raise errors.bad_request(f'invalid value for {name}: "{raw}"') from exc
    return max(value, 0)


def check_type(obj: dict[str, Any], res: Resource) -> None:
    """A body's apiVersion/kind, when given, must be the URL's."""
    api_version = obj.get("apiVersion")
    if api_version and api_version != res.api_version:
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({res.api_version})"
        )
    kind = obj.get("kind")
    if kind and kind != res.kind:
        raise errors.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({res.kind})"
        )


async def delete_options(
    request: Request,
) -> tuple[str | None, dict[str, Any] | None, bool]:
    """propagationPolicy, preconditions and dryRun from the DeleteOptions body or the query."""
    body = await read_json(request)
    options = body if isinstance(body, dict) else {}
    policy = request.query_params.get("propagationPolicy") or options.get("propagationPolicy")
    preconditions = options.get("preconditions")
    if preconditions is not None and not isinstance(preconditions, dict):
        raise errors.bad_request("preconditions must be an object")
    dry_run = request.query_params.getlist("dryRun") or list(options.get("dryRun") or [])
    return policy, preconditions, decoding.dry_run(dry_run)


def write_options(request: Request) -> tuple[bool, str]:
    """`dryRun` and `fieldValidation` of a create, update or patch."""
    query = request.query_params
    return decoding.dry_run(query.getlist("dryRun")), decoding.field_validation(
        query.get("fieldValidation")
    )


def with_warnings(response: Response, warnings: list[str]) -> Response:
    """One `Warning: 299 - "..."` header per warning, as the apiserver sends them."""
    for text in warnings:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        response.headers.append("Warning", f'299 - "{escaped}"')
    return response
