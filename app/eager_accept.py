"""uvloop, but accepting every pending connection in the turn of the loop that sees them.

libuv (under uvloop) accepts ONE connection per turn since v1.45 (libuv pull request
3696). Under load a turn serves every request that is ready, so the n-th of a burst of
new connections waits n turns in the kernel's queue (app/serving.py has the numbers).
asyncio's own loop accepts them all at once, but each of its round trips to PostgreSQL
costs this process ~40 µs more CPU than uvloop's. So the api runs on this loop: uvloop
for everything, and for a plain TCP server (uvicorn's, without TLS) a listening socket
of our own, read as asyncio reads it (`_accept`), each connection then handed to uvloop
(`connect_accepted_socket`), which serves it as it would have.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from typing import Any

import uvloop

log = logging.getLogger("app.eager_accept")

# Out of file descriptors or memory: asyncio stops accepting for a second, and so do we.
_RESOURCES_EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
PAUSE_SECONDS = 1.0


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvicorn's loop factory (`--loop app.eager_accept:new_event_loop`)."""
    return EagerAcceptLoop()


class EagerAcceptLoop(uvloop.Loop):
    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: Any,
        host: str | list[str] | None = None,
        port: int | None = None,
        *,
        sock: socket.socket | None = None,
        backlog: int = 100,
        ssl: Any = None,
        **options: Any,
    ) -> asyncio.AbstractServer:
        if ssl is not None or options.get("start_serving") is False or options.get("reuse_port"):
            # Not what uvicorn asks here: uvloop's own server, one accept per turn.
            uvloop_create_server: Any = super().create_server  # typed by overloads only
            server: asyncio.AbstractServer = await uvloop_create_server(
                protocol_factory, host, port, sock=sock, backlog=backlog, ssl=ssl, **options
            )
            return server
        listeners = [sock] if sock is not None else _bind(host, port, options)
        return EagerAcceptServer(self, listeners, protocol_factory, backlog)


def _bind(
    host: str | list[str] | None, port: int | None, options: dict[str, Any]
) -> list[socket.socket]:
    """Listening sockets for host and port, as asyncio's create_server binds them: one per
    address the host resolves to (all interfaces for None or "")."""
    hosts: list[str | None] = [host] if isinstance(host, str) or host is None else list(host)
    family = options.get("family", socket.AF_UNSPEC)
    flags = options.get("flags", socket.AI_PASSIVE)
    addresses = {
        (info[0], info[4])
        for name in hosts
        for info in socket.getaddrinfo(name or None, port, family, socket.SOCK_STREAM, 0, flags)
    }
    listeners: list[socket.socket] = []
    try:
        for address_family, address in sorted(addresses, key=str):
            listener = socket.socket(address_family, socket.SOCK_STREAM)
            listeners.append(listener)
            if options.get("reuse_address", True):
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if address_family == socket.AF_INET6:
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            listener.bind(address)
    except BaseException:
        for listener in listeners:
            listener.close()
        raise
    return listeners


class EagerAcceptServer(asyncio.AbstractServer):
    """Listening sockets whose pending connections are all accepted when one is ready."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        listeners: list[socket.socket],
        protocol_factory: Any,
        backlog: int,
    ) -> None:
        self._loop = loop
        self._listeners = listeners
        self._protocol_factory = protocol_factory
        self._backlog = backlog
        self._handing_over: set[asyncio.Task[Any]] = set()  # the loop keeps only weak ones
        self._closed: asyncio.Future[None] = loop.create_future()
        for listener in listeners:
            listener.setblocking(False)
            listener.listen(backlog)
            loop.add_reader(listener.fileno(), self._accept, listener)

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return tuple(self._listeners)

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return bool(self._listeners)

    async def start_serving(self) -> None:
        """Serving from the start already."""

    async def serve_forever(self) -> None:
        await asyncio.shield(self._closed)

    def close(self) -> None:
        """Stop accepting: the connections accepted stay theirs to finish."""
        listeners, self._listeners = self._listeners, []
        for listener in listeners:
            self._loop.remove_reader(listener.fileno())
            listener.close()
        if not self._closed.done():
            self._closed.set_result(None)

    async def wait_closed(self) -> None:
        if self._handing_over:
            await asyncio.wait(self._handing_over)

    def _accept(self, listener: socket.socket) -> None:
        for _ in range(self._backlog):
            try:
                connection, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return  # none left: the next one wakes the reader again
            except ConnectionAbortedError:
                continue  # gone before it was taken
            except OSError as error:
                if error.errno not in _RESOURCES_EXHAUSTED:
                    raise
                log.error("accepting connections paused for %.0f s: %s", PAUSE_SECONDS, error)
                self._loop.remove_reader(listener.fileno())
                self._loop.call_later(PAUSE_SECONDS, self._resume, listener)
                return
            connection.setblocking(False)
            handover = self._loop.create_task(self._hand_over(connection))
            self._handing_over.add(handover)
            handover.add_done_callback(self._handing_over.discard)

    async def _hand_over(self, connection: socket.socket) -> None:
        """uvloop serves the connection from here on, and closes it when done."""
        try:
            await self._loop.connect_accepted_socket(self._protocol_factory, connection)
        except Exception as error:  # the client hung up at once, most often
            log.debug("an accepted connection could not be served: %r", error)
            connection.close()

    def _resume(self, listener: socket.socket) -> None:
        if listener in self._listeners:
            self._loop.add_reader(listener.fileno(), self._accept, listener)
