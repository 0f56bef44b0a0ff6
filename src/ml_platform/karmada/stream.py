"""A streaming HTTP response read by a thread of its own and consumed as an async iterator.

The ``kubernetes`` client is synchronous, and a WATCH or a followed log blocks in a read for as
long as the server is silent (hours, for a quiet driver): a pool thread would be lost to it. So
each stream has one thread, started when the stream is entered and ended when it is closed:
closing shuts the socket down, which makes a blocked read return at once. (A thread still
waiting for the response's headers ends when they come or the opener's timeout runs out.)
The thread hands the decoded items to the event loop in batches (one per chunk read), at most
``READ_AHEAD_BATCHES`` ahead of the consumer: a slow consumer slows the read instead of
filling memory.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import structlog
import urllib3

log = structlog.get_logger()

T = TypeVar("T")

# Sends the request (blocking) and returns the unread response, or raises a domain error.
Opener = Callable[[], urllib3.BaseHTTPResponse]
# Turns the response's chunks of bytes into batches of items (blocking, in the thread).
Decoder = Callable[[Iterator[bytes]], Iterator[list[T]]]

READ_AHEAD_BATCHES = 64
# ``aclose`` waits this long for the thread. One still waiting for the server's answer cannot be
# interrupted: it ends by itself when the answer comes or the opener's timeouts run out (so a
# caller that must know when the thread is gone uses ``when_ended``).
CLOSE_WAIT_SECONDS = 2.0

_OPENED = object()
_END = object()


def split_lines(chunks: Iterator[bytes], *, keep_rest: bool) -> Iterator[list[bytes]]:
    """The complete lines (without ``\\n``) of each chunk; with ``keep_rest`` also an unfinished
    last line when the response ends."""
    rest = b""
    for chunk in chunks:
        *lines, rest = (rest + chunk).split(b"\n")
        if lines:
            yield lines
    if rest and keep_rest:
        yield [rest]


class Stream(Generic[T]):
    """An open-able streaming response: ``async with stream: async for item in stream``.

    Entering starts the request in the stream's thread; ``open()`` (or the first item) waits
    for the server's answer and raises its domain error. Leaving the block, ``aclose()`` or
    cancelling a consumer waiting for an item ends the thread; ``close()`` asks for the end
    without waiting. ``when_ended`` runs a callback once the thread has really ended.
    """

    def __init__(
        self,
        *,
        name: str,
        opener: Opener,
        decoder: Decoder[T],
        chunk_size: int,
        failure: Callable[[Exception], Exception],
    ) -> None:
        self.name = name
        self._opener = opener
        self._decoder = decoder
        self._chunk_size = chunk_size
        self._failure = failure
        self._lock = threading.Lock()
        self._space = threading.Semaphore(READ_AHEAD_BATCHES)
        self._raw: urllib3.BaseHTTPResponse | None = None
        self._closed = False
        self._started = False
        self._thread: threading.Thread | None = None
        self._on_end: list[Callable[[], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._ended = asyncio.Event()
        self._opened = False
        self._finished = False
        self._batch: collections.deque[T] = collections.deque()

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called (the thread may still be ending)."""
        return self._closed

    def start(self) -> None:
        """Start the thread, which sends the request (idempotent)."""
        if self._started:
            return
        self._started = True
        self._loop = asyncio.get_running_loop()
        if self._closed:  # closed before it started: send nothing, end at once
            self._arrive(_END)
            return
        self._thread = threading.Thread(target=self._read, name=self.name, daemon=True)
        self._thread.start()

    def when_ended(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the event loop once the thread has ended: at once if it has,
        or if the stream was closed before it started (then no thread ever runs)."""
        if self._ended.is_set() or (self._closed and not self._started):
            callback()
        else:
            self._on_end.append(callback)

    async def open(self) -> None:
        """Wait until the server answered; raises the domain error of a failed request."""
        self.start()
        if self._opened:
            return
        item = await self._next()
        self._opened = True
        if item is _END:  # closed before it opened: nothing to read
            self._finished = True
        elif isinstance(item, Exception):
            self._finished = True
            raise item

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        await self.open()
        while not self._batch:
            if self._finished or self._closed:
                raise StopAsyncIteration
            item = await self._next()
            if item is _END:
                self._finished = True
                raise StopAsyncIteration
            if isinstance(item, Exception):
                self._finished = True
                raise item
            self._space.release()
            self._batch.extend(item)
        return self._batch.popleft()

    async def _next(self) -> Any:
        try:
            return await self._queue.get()
        except asyncio.CancelledError:
            self.close()  # the consumer is gone: so is the reason to read
            raise

    def close(self) -> None:
        """End the stream soon (idempotent, never waits, from any thread): a blocked read
        returns at once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            raw = self._raw
        self._space.release()  # a thread waiting for the consumer wakes and sees the close
        if raw is not None:
            _interrupt(raw)
        if not self._started:
            self._run_end_callbacks()

    async def aclose(self) -> None:
        """Close, then wait (briefly) until the thread has ended."""
        self.close()
        if self._thread is None or self._ended.is_set() or not self._thread.is_alive():
            return
        try:
            async with asyncio.timeout(CLOSE_WAIT_SECONDS):
                await self._ended.wait()
        except TimeoutError:
            log.warning("karmada.stream.slow_to_end", stream=self.name)
            return
        # Posting the end is the thread's last act: this join returns at once.
        self._thread.join(CLOSE_WAIT_SECONDS)

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- the thread ------------------------------------------------------------------------

    def _read(self) -> None:
        raw: urllib3.BaseHTTPResponse | None = None
        try:
            raw = self._opener()
            with self._lock:
                if not self._closed:
                    self._raw = raw
            if self._closed:
                return
            self._post(_OPENED)
            for batch in self._decoder(self._chunks(raw)):
                if not self._closed:  # closed (or the loop gone): nobody will make room
                    self._space.acquire()
                if self._closed:
                    return
                self._post(batch)
        except Exception as exc:  # handed to the consumer, who raises it
            if not self._closed:
                self._post(exc)
        finally:
            if raw is not None:
                # Closed, never released: a half-read connection must not go back to the pool.
                raw.close()
            self._post(_END)

    def _chunks(self, raw: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
        try:
            yield from raw.stream(self._chunk_size, decode_content=True)
        except Exception as exc:
            if self._closed:  # the read our own close interrupted
                return
            raise self._failure(exc) from exc

    def _post(self, item: Any) -> None:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(self._arrive, item)
        except RuntimeError:  # the event loop is closed: nobody is listening any more
            self.close()  # and a read that would block for the next item returns at once

    def _arrive(self, item: Any) -> None:
        self._queue.put_nowait(item)
        if item is _END:
            self._ended.set()
            self._run_end_callbacks()

    def _run_end_callbacks(self) -> None:
        callbacks, self._on_end = self._on_end, []
        for callback in callbacks:
            callback()


def _interrupt(raw: urllib3.BaseHTTPResponse) -> None:
    """Shut the response's socket down: a read blocked on it returns at once."""
    try:
        raw.shutdown()
    except Exception:  # already closed or released: no read is blocked on it
        log.debug("karmada.stream.shutdown_skipped")
