"""One connection to Redis that carries the rate limits' calls of every request in flight
(app/rate_limit_store.py): each command written as it comes, the replies handed back in
the order Redis sends them, which is the order of the commands.

Why not redis-py's connection: a limited request pays one round trip to Redis, and with
redis-py's asyncio connection (a StreamReader, its read loop, and a timer per call for
the call's timeout) that round trip cost this process ~80 µs of CPU, where the system
calls of the round trip cost ~30 (issue 10: the limiter must add at most 10% to a
quote's ~450 µs). Here an asyncio Protocol feeds hiredis (the parser redis-py uses)
straight from `data_received`, a command is one `transport.write`, and ONE timer watches
the oldest unanswered call for all of them. redis-py still reads the URL.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from functools import partial
from typing import Any, cast

import hiredis
from redis.asyncio.connection import SSLConnection, parse_url
from redis.exceptions import ResponseError

# URL options honoured beside host, port, path, user, password and db; any other fails
# at startup rather than being silently ignored.
_TLS_OPTIONS = frozenset({"ssl_cert_reqs", "ssl_ca_certs"})
_KNOWN = frozenset({"host", "port", "path", "db", "username", "password", "connection_class"})


def resp(*parts: bytes | str | int) -> bytes:
    """A command in Redis's protocol (RESP): an array of bulk strings."""
    encoded = [part if isinstance(part, bytes) else str(part).encode() for part in parts]
    return b"".join([b"*%d\r\n" % len(encoded), *(b"$%d\r\n%s\r\n" % (len(e), e) for e in encoded)])


class RedisPipeline:
    """Calls on one connection, opened on the first call and again after a failure.

    `call` answers the reply, raises ResponseError for an error reply (NOSCRIPT…),
    ConnectionError or OSError when the connection failed, and TimeoutError when Redis
    did not answer within `timeout` seconds: the connection is then dropped (replies
    owed on it would be out of step) and every call waiting on it fails alike.
    """

    def __init__(self, url: str, timeout: float) -> None:
        self._options: dict[str, Any] = dict(parse_url(url))  # a bad URL fails here, at startup
        unknown = set(self._options) - _KNOWN - _TLS_OPTIONS
        if unknown:
            raise ValueError(f"REDIS_URL: options not supported: {', '.join(sorted(unknown))}")
        self._timeout = timeout
        self._replies: _Replies | None = None
        self._connecting = asyncio.Lock()

    async def call(self, command: bytes) -> Any:
        replies = self._replies
        if replies is None or replies.closed:
            replies = await self._connect()
        return await replies.call(command)

    def close(self) -> None:
        """Fail whatever is waiting and drop the connection; the next call connects again."""
        replies, self._replies = self._replies, None
        if replies is not None:
            replies.close(ConnectionError("the connection to Redis was closed"))

    async def _connect(self) -> _Replies:
        async with self._connecting:  # callers arriving meanwhile share one connection
            if self._replies is not None and not self._replies.closed:
                return self._replies
            async with asyncio.timeout(self._timeout):
                self._replies = await _open(self._options, self._timeout)
            return self._replies


async def _open(options: dict[str, Any], timeout: float) -> _Replies:
    loop = asyncio.get_running_loop()
    protocol = partial(_Replies, loop, timeout)
    if "path" in options:
        _, replies = await loop.create_unix_connection(protocol, options["path"])
    else:
        host, port = options.get("host", "localhost"), options.get("port", 6379)
        tls = _tls(options) if options.get("connection_class") is SSLConnection else None
        _, replies = await loop.create_connection(protocol, host, port, ssl=tls)
    try:
        password, user = options.get("password"), options.get("username")
        if password:
            await replies.call(resp(b"AUTH", *([user] if user else []), password))
        if options.get("db"):
            await replies.call(resp(b"SELECT", options["db"]))
    except BaseException:
        replies.close(ConnectionError("Redis refused the connection's set-up"))
        raise
    return replies


def _tls(options: dict[str, Any]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=options.get("ssl_ca_certs"))
    if options.get("ssl_cert_reqs") in ("none", ssl.CERT_NONE):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class _Replies(asyncio.Protocol):
    """The connection's commands waiting for their replies, oldest first, each with the
    time it must be answered by."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self._loop = loop
        self._timeout = timeout
        self._reader = hiredis.Reader(replyError=ResponseError)
        self._waiting: deque[tuple[float, asyncio.Future[Any]]] = deque()
        self._transport: asyncio.Transport | None = None
        self._watch: asyncio.TimerHandle | None = None
        self._unsent: list[bytes] = []  # commands of this turn of the loop, sent at its end
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    async def call(self, command: bytes) -> Any:
        if self.closed or self._transport is None:
            raise ConnectionError("the connection to Redis is closed")
        future: asyncio.Future[Any] = self._loop.create_future()
        self._waiting.append((self._loop.time() + self._timeout, future))
        # The calls that one turn of the loop makes (every request that arrived together)
        # go out in one write: one system call and one packet instead of one each.
        if not self._unsent:
            self._loop.call_soon(self._send)
        self._unsent.append(command)
        if self._watch is None:
            self._watch = self._loop.call_at(self._waiting[0][0], self._check)
        # A caller that stops waiting (cancelled) leaves its place: its reply is read and
        # dropped, and the replies after it stay in step.
        return await future

    def _send(self) -> None:
        unsent, self._unsent = self._unsent, []
        if not self.closed and self._transport is not None:
            self._transport.write(b"".join(unsent))

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while True:
            try:
                reply = self._reader.gets()
            except hiredis.ProtocolError as error:
                self.close(ConnectionError(f"Redis sent what is not RESP: {error}"))
                return
            if reply is False:
                return
            if not self._waiting:
                self.close(ConnectionError("Redis sent a reply nobody asked for"))
                return
            _, future = self._waiting.popleft()
            if future.done():
                continue
            if isinstance(reply, ResponseError):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.close(ConnectionError(f"Redis closed the connection ({exc or 'EOF'})"))

    def close(self, failure: Exception) -> None:
        self.closed = True
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self._transport is not None:
            self._transport.abort()
        waiting, self._waiting = self._waiting, deque()
        for _, future in waiting:
            if not future.done():
                future.set_exception(failure)

    def _check(self) -> None:
        """The timer: fail everything once the oldest call is late, else watch the
        oldest again (one timer for all calls, not one each)."""
        self._watch = None
        if not self._waiting:
            return
        deadline = self._waiting[0][0]
        if self._loop.time() >= deadline:
            self.close(TimeoutError(f"Redis did not answer within {self._timeout} s"))
            return
        self._watch = self._loop.call_at(deadline, self._check)
