"""Pure ASGI middlewares: request context (id, log line, metrics), shutdown guard, concurrency
limit, request timeout, body limit."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import Callable

import orjson
import structlog
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ml_platform.errors import error_body
from ml_platform.metrics import Metrics

log = structlog.get_logger()

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


async def send_json_error(
    send: Send, status: int, message: str, details: object = None, *, retry_after: int | None = None
) -> None:
    """Send a complete error response in the API's error shape."""
    body = orjson.dumps(error_body(message, details))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def header_value(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (name in lower case), or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    # Unmatched paths share one label so scanners cannot blow up the metric's cardinality.
    return path if isinstance(path, str) else "unmatched"


class RequestContextMiddleware:
    """Accepts/creates X-Request-ID, logs one line per request and records its metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = header_value(scope, b"x-request-id")
        request_id = offered if offered and _VALID_REQUEST_ID.match(offered) else uuid.uuid4().hex
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        previous = structlog.contextvars.get_contextvars()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.observe_request(
                route=route, method=scope["method"], status=status, seconds=seconds
            )
            log.info(
                "http.request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round(seconds * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(**previous)


def _response_tracker(send: Send) -> tuple[Send, Callable[[], bool]]:
    """A ``send`` that notes when the response started, and a function that tells."""
    started = False

    async def tracking_send(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    return tracking_send, lambda: started


class ShutdownGuardMiddleware:
    """A request cancelled before its response started (the server stopping once its
    graceful-shutdown time is up) is answered with a JSON 503 and ``Retry-After``, never the
    server's bare ``500 text/plain``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracking_send, started = _response_tracker(send)
        try:
            await self.app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            if not started():
                log.warning("http.cancelled_at_shutdown", path=scope["path"])
                with contextlib.suppress(Exception):
                    await send_json_error(
                        send, 503, "the server is shutting down; retry", retry_after=1
                    )
            raise


# Always answered at once: probes must tell the truth under load, and a followed log stream
# lives for minutes (it has its own limit).
_UNLIMITED_PATHS = ("/health", "/ready", "/metrics")
MAX_RETRY_AFTER_SECONDS = 10


class ConcurrencyLimitMiddleware:
    """At most ``limit`` requests run at once, so they never wait for more database
    connections than the pool has; the next ones queue up to ``queue_seconds`` for a turn,
    then are answered 503 with a ``Retry-After`` that grows with the queue."""

    def __init__(self, app: ASGIApp, limit: int, queue_seconds: float) -> None:
        self.app = app
        self.limit = limit
        self.queue_seconds = queue_seconds
        self._slots = asyncio.Semaphore(limit)
        self._waiting = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        path = scope.get("path", "")
        if scope["type"] != "http" or path in _UNLIMITED_PATHS or path.endswith("/stream"):
            await self.app(scope, receive, send)
            return
        self._waiting += 1
        try:
            async with asyncio.timeout(self.queue_seconds):
                await self._slots.acquire()
        except TimeoutError:
            # One second per full round of waiting requests ahead: clients that honour it
            # come back spread out instead of all at once.
            retry_after = min(MAX_RETRY_AFTER_SECONDS, 1 + (self._waiting - 1) // self.limit)
            log.warning("http.overloaded", path=path, limit=self.limit, waiting=self._waiting)
            await send_json_error(
                send,
                503,
                f"more than {self.limit} requests in progress; retry shortly",
                {"limit": self.limit},
                retry_after=retry_after,
            )
            return
        finally:
            self._waiting -= 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()


class RequestTimeoutMiddleware:
    """Answers 504 when a request runs longer than the limit (streaming paths exempt)."""

    def __init__(self, app: ASGIApp, timeout_seconds: float) -> None:
        self.app = app
        self.timeout_seconds = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http" or scope["path"].endswith("/stream"):
            await self.app(scope, receive, send)
            return
        tracking_send, response_started = _response_tracker(send)
        try:
            async with asyncio.timeout(self.timeout_seconds):
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            log.warning("http.request_timeout", path=scope["path"], seconds=self.timeout_seconds)
            if response_started():
                # Headers are out; the only honest thing left is to cut the response short.
                raise
            await send_json_error(
                send,
                504,
                f"request took longer than {self.timeout_seconds:g} s",
                {"timeoutSeconds": self.timeout_seconds},
            )


class BodyTooLargeError(HTTPException):
    """Raised from receive() once the streamed body passes the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


class BodySizeLimitMiddleware:
    """413 for bodies over the limit: by Content-Length up front, else while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header_value(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await send_json_error(send, 400, "invalid Content-Length header")
                return
            if int(declared) > self.max_bytes:
                await send_json_error(
                    send,
                    413,
                    f"request body larger than {self.max_bytes} bytes",
                    {"maxBytes": self.max_bytes},
                )
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)
