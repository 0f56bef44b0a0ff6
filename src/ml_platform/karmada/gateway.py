"""The Karmada gateway: the only module that talks to Kubernetes.

The official ``kubernetes`` client is synchronous, so every call runs in a dedicated thread pool
with a timeout on the socket and on the wait, and every WATCH or followed log in a thread of its
own (``stream.Stream``): the gateway owns all of them, and callers only ``await`` and
``async for``. Kubernetes errors become domain errors:
``KarmadaUnavailable`` for what a later retry may fix (connection failures, timeouts, 5xx, 429),
``KarmadaRejected`` for what it never will (422 Invalid, 400, 403, a name owned by someone else).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import threading
import urllib.parse
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import structlog
import urllib3
from kubernetes import client, config
from kubernetes.client import rest
from kubernetes.client.exceptions import ApiException

from ml_platform.karmada.errors import KarmadaRejected, KarmadaUnavailable
from ml_platform.karmada.resources import CLUSTER, POD, ApiResource, resource_for
from ml_platform.karmada.stream import Stream, split_lines
from ml_platform.workloads.common import JOB_ID_LABEL

log = structlog.get_logger()

T = TypeVar("T")

CLUSTER_PROXY_PATH = "/apis/cluster.karmada.io/v1alpha1/clusters/{cluster}/proxy"
LIST_PAGE_SIZE = 500


# Creates ask the API server to refuse fields it does not know (an older CRD, a typo) rather
# than silently drop them: a job never runs with part of its manifest cut away.
_STRICT = (("fieldValidation", "Strict"),)


def _list_query(label_selector: str, token: str) -> list[tuple[str, Any]]:
    """Query of one LIST page: page size, optional selector, the ``continue`` token if any."""
    query: list[tuple[str, Any]] = [("limit", LIST_PAGE_SIZE)]
    if label_selector:
        query.append(("labelSelector", label_selector))
    if token:
        query.append(("continue", token))
    return query


@dataclass(frozen=True)
class ObjectRef:
    """Where an object lives in the Karmada API server."""

    resource: ApiResource
    namespace: str | None
    name: str

    @classmethod
    def of(cls, manifest: Mapping[str, Any]) -> ObjectRef:
        """The reference of a rendered manifest."""
        metadata = manifest["metadata"]
        return cls(
            resource_for(manifest["apiVersion"], manifest["kind"]),
            metadata.get("namespace"),
            metadata["name"],
        )

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.resource.kind} {where}{self.name}"


@dataclass(frozen=True)
class ClusterInfo:
    """A Karmada member cluster as the API shows it."""

    name: str
    ready: bool
    region: str | None
    zone: str | None
    kubernetes_version: str | None
    allocatable: Mapping[str, str]
    allocated: Mapping[str, str]


def _status_body(exc: ApiException) -> dict[str, Any]:
    """The Kubernetes ``Status`` body of a failed call ({} when it is not JSON)."""
    try:
        body = orjson.loads(exc.body or b"{}")
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


def _is_transient(exc: ApiException) -> bool:
    # status 0: the client never got an HTTP answer; 401/403 are configuration an operator fixes.
    return exc.status in (0, 401, 403, 408, 429) or exc.status >= 500


def translate(exc: Exception, *, action: str) -> Exception:
    """A domain error for a failed client call."""
    if isinstance(exc, ApiException):
        body = _status_body(exc)
        # The Status message, else the HTTP reason.
        message = f"{action}: {body.get('message') or exc.reason or f'HTTP {exc.status}'}"
        if _is_transient(exc):
            return KarmadaUnavailable(message, details={"status": exc.status})
        return KarmadaRejected(
            message, details={"status": exc.status, "reason": body.get("reason")}
        )
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError | TimeoutError):
        return KarmadaUnavailable(f"{action}: Karmada API server unreachable ({exc})")
    return exc


class KarmadaGateway:
    """Async facade over the Karmada API server and, through its cluster proxy, the members."""

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        timeout_seconds: float = 10.0,
        max_threads: int = 16,
    ) -> None:
        self._api = api_client
        self._timeout = timeout_seconds
        self._executor = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="karmada")
        self._members: dict[str, client.ApiClient] = {}
        # Streams not yet collected: ``close()`` ends the ones still open.
        self._streams: weakref.WeakSet[Stream[Any]] = weakref.WeakSet()
        # Requests sent so far (the monitor reports its calls per tick from the difference).
        self.calls = 0
        self._calls_lock = threading.Lock()

    @classmethod
    def from_kubeconfig(cls, path: str | None, *, timeout_seconds: float) -> KarmadaGateway:
        """A gateway for the kubeconfig at ``path``, or the in-cluster service account."""
        configuration = client.Configuration()
        if path is None:
            config.load_incluster_config(client_configuration=configuration)
        else:
            config.load_kube_config(config_file=path, client_configuration=configuration)
        configuration.retries = False  # retries belong to the monitor, with backoff
        return cls(client.ApiClient(configuration), timeout_seconds=timeout_seconds)

    @property
    def host(self) -> str:
        """The Karmada API server URL (for logs and /health; holds no secret)."""
        return str(self._api.configuration.host)

    async def close(self) -> None:
        """End the open streams, release the connection pools and the worker threads."""
        try:
            await asyncio.gather(*(stream.aclose() for stream in list(self._streams)))
        finally:  # a stream that failed to close must not keep the pools and threads
            self._executor.shutdown(wait=False, cancel_futures=True)
            for api in (self._api, *self._members.values()):
                api.close()

    async def _call(self, action: str, fn: Callable[..., T], *args: Any) -> T:
        """Run one blocking call in the pool, bounded by the timeout, errors translated."""
        self._count_call()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, functools.partial(fn, *args))
        try:
            async with asyncio.timeout(self._timeout + 1.0):
                return await future
        except TimeoutError as exc:
            raise KarmadaUnavailable(f"{action}: timed out after {self._timeout:g}s") from exc
        except Exception as exc:
            translated = translate(exc, action=action)
            if translated is exc:
                raise
            raise translated from exc

    def _send(
        self,
        api: client.ApiClient,
        method: str,
        path: str,
        query: Sequence[tuple[str, Any]] = (),
        body: Mapping[str, Any] | None = None,
    ) -> rest.RESTResponse:
        """One HTTP request with the client's auth; non-2xx raises ``ApiException``."""
        headers = {"Accept": "application/json, */*"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        serialized = api.param_serialize(
            method,
            path,
            query_params=list(query),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = api.call_api(
            *serialized, _request_timeout=(min(self._timeout, 5.0), self._timeout)
        )
        response.read()
        if not 200 <= response.status < 300:
            raise ApiException(http_resp=response)
        return response

    def _json(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, Any]] = (),
        body: Mapping[str, Any] | None = None,
        api: client.ApiClient | None = None,
    ) -> dict[str, Any]:
        response = self._send(api or self._api, method, path, query, body)
        parsed: Any = orjson.loads(response.data) if response.data else {}
        return parsed if isinstance(parsed, dict) else {}

    # --- objects in the Karmada control plane -------------------------------------------------

    async def create(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        """Create ``manifest``; an existing object carrying the same job-id label counts as done.

        Returns the object as stored. Raises ``KarmadaRejected`` when the name is taken by an
        object that is not ours, or the API server refuses the object for good (including a
        field its schema does not know: creates are sent with ``fieldValidation=Strict``).
        """
        ref = ObjectRef.of(manifest)
        try:
            created = await self._call(
                f"create {ref}",
                self._json,
                "POST",
                ref.resource.path(ref.namespace),
                _STRICT,
                manifest,
            )
        except KarmadaRejected as exc:
            if _reason(exc) != "AlreadyExists":
                raise
            existing = await self.get(ref)
            if existing is None:  # deleted in between: the next attempt creates it
                raise KarmadaUnavailable(f"create {ref}: object vanished during create") from exc
            ours = manifest["metadata"].get("labels", {}).get(JOB_ID_LABEL)
            theirs = existing.get("metadata", {}).get("labels", {}).get(JOB_ID_LABEL)
            if ours is None or ours != theirs:
                raise KarmadaRejected(
                    f"create {ref}: the name is taken by an object ml-platform does not own",
                    details={"status": 409, "reason": "AlreadyExists"},
                ) from exc
            log.info("karmada.create.exists", object=str(ref))
            return existing
        log.info("karmada.created", object=str(ref))
        return created

    async def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        try:
            return await self._call(
                f"get {ref}", self._json, "GET", ref.resource.path(ref.namespace, ref.name)
            )
        except KarmadaRejected as exc:
            if _http_status(exc) == 404:
                return None
            raise

    async def delete(self, ref: ObjectRef, *, job_id: str | None = None) -> bool:
        """Delete the object (dependents in the background). True once it is gone.

        A 404 counts as gone; an object held by finalizers is reported as not gone yet, so the
        caller asks again later. With ``job_id`` only that job's object is deleted: one under
        the same name without that job-id label is not ours and counts as gone, and the delete
        is conditional on the uid seen, so an object put in its place meanwhile is left alone.
        """
        options: dict[str, Any] = {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "propagationPolicy": "Background",
        }
        if job_id is not None:
            existing = await self.get(ref)
            if existing is None:
                return True
            metadata = existing.get("metadata") or {}
            if (metadata.get("labels") or {}).get(JOB_ID_LABEL) != job_id:
                log.warning("karmada.delete.not_ours", object=str(ref), job_id=job_id)
                return True
            options["preconditions"] = {"uid": metadata.get("uid")}
        try:
            await self._call(
                f"delete {ref}",
                self._json,
                "DELETE",
                ref.resource.path(ref.namespace, ref.name),
                (),
                options,
            )
        except KarmadaRejected as exc:
            status = _http_status(exc)
            if status == 404:
                return True
            if status == 409 and job_id is not None:
                return False  # replaced since we looked: look again next time
            raise
        return await self.get(ref) is None

    async def list_objects(
        self,
        resource: ApiResource,
        *,
        label_selector: str = "",
        namespace: str | None = None,
        cluster: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every object of a kind (all namespaces unless given), following ``continue`` tokens;
        in a member cluster (through Karmada's proxy) when ``cluster`` is given."""
        api = self._api if cluster is None else self._member(cluster)
        where = "" if cluster is None else f" in cluster {cluster}"
        items: list[dict[str, Any]] = []
        token = ""
        while True:
            page = await self._call(
                f"list {resource.plural}{where}",
                self._json,
                "GET",
                resource.path(namespace),
                _list_query(label_selector, token),
                None,
                api,
            )
            items.extend(page.get("items") or ())
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                return items

    async def list_with_version(self, resource: ApiResource) -> tuple[list[dict[str, Any]], str]:
        """Every object of a small kind in one LIST without resourceVersion (a consistent read:
        the server answers from etcd's current state), and that LIST's resourceVersion."""
        page = await self._call(f"list {resource.plural}", self._json, "GET", resource.path(None))
        version = str((page.get("metadata") or {}).get("resourceVersion") or "")
        return list(page.get("items") or ()), version

    async def list_pages(
        self, resource: ApiResource, *, label_selector: str = ""
    ) -> AsyncIterator[tuple[list[dict[str, Any]], str]]:
        """The pages of a LIST of a kind in all namespaces, following ``continue`` tokens, each
        with the list's resourceVersion (a caller that converts each page never holds the whole
        list as documents)."""
        token = ""
        while True:
            page = await self._call(
                f"list {resource.plural}",
                self._json,
                "GET",
                resource.path(None),
                _list_query(label_selector, token),
            )
            metadata = page.get("metadata") or {}
            yield list(page.get("items") or ()), str(metadata.get("resourceVersion") or "")
            token = metadata.get("continue") or ""
            if not token:
                return

    def watch(
        self,
        resource: ApiResource,
        *,
        resource_version: str,
        label_selector: str = "",
        allow_bookmarks: bool = True,
        timeout_seconds: int = 45,
    ) -> Stream[WatchEvent]:
        """A WATCH of a kind in all namespaces from ``resource_version``, as a ``Stream`` of
        ``WatchEvent``: ``async with gateway.watch(...) as events: async for event in events``.
        The server ends it after ``timeout_seconds``; an ERROR event (410 Expired) is yielded
        like any other."""
        query: list[tuple[str, Any]] = [
            ("watch", "true"),
            ("resourceVersion", resource_version),
            ("timeoutSeconds", timeout_seconds),
        ]
        if allow_bookmarks:
            query.append(("allowWatchBookmarks", "true"))
        if label_selector:
            query.append(("labelSelector", label_selector))
        action = f"watch {resource.plural}"

        def opener() -> urllib3.BaseHTTPResponse:
            self._count_call()
            # The read timeout outlives the server-side timeout: a silent stream is a dead one.
            return _open_stream(
                self._api,
                resource.path(None),
                query,
                accept="application/json",
                timeout=(min(self._timeout, 5.0), timeout_seconds + 15),
                action=action,
            )

        return self._stream(
            f"karmada-watch-{resource.plural}", opener, _watch_events, 65536, action
        )

    def _stream(
        self,
        name: str,
        opener: Callable[[], urllib3.BaseHTTPResponse],
        decoder: Callable[[Iterator[bytes]], Iterator[list[T]]],
        chunk_size: int,
        action: str,
    ) -> Stream[T]:
        stream = Stream(
            name=name,
            opener=opener,
            decoder=decoder,
            chunk_size=chunk_size,
            failure=functools.partial(translate, action=action),
        )
        self._streams.add(stream)
        return stream

    def _count_call(self) -> None:
        with self._calls_lock:
            self.calls += 1

    async def clusters(self) -> list[ClusterInfo]:
        """The member clusters Karmada knows, with readiness, location and capacity."""
        return [cluster_info(item) for item in await self.list_objects(CLUSTER)]

    # --- member clusters, through Karmada's cluster proxy -------------------------------------

    def _member(self, cluster: str) -> client.ApiClient:
        api = self._members.get(cluster)
        if api is None:
            main = self._api.configuration
            configuration = copy.copy(main)
            configuration.host = configuration.host.rstrip("/") + CLUSTER_PROXY_PATH.format(
                cluster=urllib.parse.quote(cluster, safe="")
            )
            configuration.refresh_api_key_hook = _member_token_refresh(main)
            api = client.ApiClient(configuration)
            self._members[cluster] = api
        return api

    async def pod_log(
        self,
        cluster: str,
        *,
        namespace: str,
        pod: str,
        container: str | None = None,
        tail_lines: int | None = None,
        limit_bytes: int | None = None,
    ) -> str:
        """A pod's log from a member cluster, as text."""
        query = _log_query(container=container, tail_lines=tail_lines, limit_bytes=limit_bytes)
        path = POD.path(namespace, pod) + "/log"
        response = await self._call(
            f"read log of pod {namespace}/{pod} in cluster {cluster}",
            self._send,
            self._member(cluster),
            "GET",
            path,
            query,
        )
        return bytes(response.data or b"").decode("utf-8", errors="replace")

    def follow_pod_log(
        self,
        cluster: str,
        *,
        namespace: str,
        pod: str,
        container: str | None = None,
        tail_lines: int | None = None,
    ) -> Stream[str]:
        """Follow a pod's log in a member cluster, as a ``Stream`` of its lines (without the
        newline; an unfinished last line comes when the log ends):
        ``async with gateway.follow_pod_log(...) as lines: async for line in lines``."""
        api = self._member(cluster)
        action = f"follow log of pod {namespace}/{pod}"
        query = [*_log_query(container=container, tail_lines=tail_lines), ("follow", "true")]

        def opener() -> urllib3.BaseHTTPResponse:
            self._count_call()
            # A member that never answers must not hold the thread: the headers have a timeout.
            response = _open_stream(
                api,
                POD.path(namespace, pod) + "/log",
                query,
                accept="*/*",
                timeout=(min(self._timeout, 5.0), self._timeout),
                action=action,
            )
            # The log itself has none: a driver may print nothing for hours.
            _clear_read_timeout(response)
            return response

        return self._stream(f"karmada-log-{pod}", opener, _log_lines, 4096, action)


def _open_stream(
    api: client.ApiClient,
    path: str,
    query: list[tuple[str, Any]],
    *,
    accept: str,
    timeout: tuple[float, float | None],
    action: str,
) -> urllib3.BaseHTTPResponse:
    """Start a streaming GET (blocking); the unread urllib3 response, or a domain error."""
    serialized = api.param_serialize(
        "GET",
        path,
        query_params=query,
        header_params={"Accept": accept},
        auth_settings=["BearerToken"],
    )
    try:
        response = api.call_api(*serialized, _request_timeout=timeout)
    except Exception as exc:
        raise translate(exc, action=action) from exc
    if not 200 <= response.status < 300:
        response.read()
        response.response.release_conn()
        raise translate(ApiException(http_resp=response), action=action)
    return response.response


def _clear_read_timeout(response: urllib3.BaseHTTPResponse) -> None:
    """Let reads of the response's body wait as long as the server stays silent."""
    connection = response.connection if isinstance(response, urllib3.HTTPResponse) else None
    if connection is not None and connection.sock is not None:
        connection.sock.settimeout(None)


@dataclass(frozen=True)
class WatchEvent:
    """One event of a WATCH: ADDED, MODIFIED, DELETED, BOOKMARK (only the resourceVersion in
    the object's metadata) or ERROR (the object is a ``Status``, e.g. 410 Expired)."""

    type: str
    object: dict[str, Any]


def _watch_events(chunks: Iterator[bytes]) -> Iterator[list[WatchEvent]]:
    """Watch events from the response's chunks; an event cut off by the end is dropped (the
    caller resumes from the last version it saw)."""
    for lines in split_lines(chunks, keep_rest=False):
        events = []
        for line in lines:
            if not line.strip():
                continue
            event = orjson.loads(line)
            if isinstance(event, dict) and isinstance(event.get("object"), dict):
                events.append(WatchEvent(str(event.get("type") or ""), event["object"]))
        if events:
            yield events


def _log_lines(chunks: Iterator[bytes]) -> Iterator[list[str]]:
    for lines in split_lines(chunks, keep_rest=True):
        yield [line.decode("utf-8", errors="replace") for line in lines]


def _member_token_refresh(
    main: client.Configuration,
) -> Callable[[client.Configuration], None]:
    """A token-refresh hook for a member client. The kubeconfig loader's own hook also resets
    ``host`` to the Karmada server, which would send "member" calls to Karmada itself; this one
    refreshes the main configuration and copies only its credentials."""
    hook = main.refresh_api_key_hook

    def refresh(member: client.Configuration) -> None:
        if hook is not None:
            hook(main)
        member.api_key = dict(main.api_key)
        member.api_key_prefix = dict(main.api_key_prefix)

    return refresh


def _log_query(
    *, container: str | None, tail_lines: int | None, limit_bytes: int | None = None
) -> list[tuple[str, Any]]:
    query: list[tuple[str, Any]] = []
    if container:
        query.append(("container", container))
    if tail_lines is not None:
        query.append(("tailLines", tail_lines))
    if limit_bytes is not None:
        query.append(("limitBytes", limit_bytes))
    return query


def _http_status(exc: KarmadaRejected | KarmadaUnavailable) -> int | None:
    return exc.details.get("status") if isinstance(exc.details, dict) else None


def _reason(exc: KarmadaRejected) -> str | None:
    return exc.details.get("reason") if isinstance(exc.details, dict) else None


def cluster_info(item: Mapping[str, Any]) -> ClusterInfo:
    """A ``Cluster`` object reduced to what the API shows."""
    spec = item.get("spec") or {}
    status = item.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or ()
    )
    zones: Sequence[str] = spec.get("zones") or ([spec["zone"]] if spec.get("zone") else [])
    summary = status.get("resourceSummary") or {}
    return ClusterInfo(
        name=item.get("metadata", {}).get("name", ""),
        ready=ready,
        region=spec.get("region"),
        zone=zones[0] if zones else None,
        kubernetes_version=status.get("kubernetesVersion"),
        allocatable=dict(summary.get("allocatable") or {}),
        allocated=dict(summary.get("allocated") or {}),
    )
