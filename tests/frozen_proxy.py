"""A TCP proxy on loopback that can freeze the database behind it.

Paused, it behaves like a hung server or a network that silently drops everything: it
still accepts connections (the kernel completes the handshake) and holds them, but
forwards no byte either way, on new and existing connections alike. Nothing is closed
or refused, so a client only finds out through its own timeouts. Resumed, the bytes
held meanwhile flow on, as they would after a stalled server wakes up.
"""

from __future__ import annotations

import asyncio
import contextlib


class FrozenProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the proxy first"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    def pause(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for writer in list(self._writers):
            writer.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def _accept(self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(self._serve(client_reader, client))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        writers = [client]
        self._writers.add(client)
        try:
            await self._flowing.wait()  # a frozen server accepts, then says nothing
            upstream_reader, upstream = await asyncio.open_connection(*self._upstream)
            writers.append(upstream)
            self._writers.add(upstream)
            await asyncio.gather(
                self._pipe(client_reader, upstream), self._pipe(upstream_reader, client)
            )
        except OSError:
            pass  # a peer went away: so does the other side
        finally:
            for writer in writers:
                self._writers.discard(writer)
                writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()  # held, not dropped, while paused
                writer.write(data)
                await writer.drain()
            await self._flowing.wait()  # even a goodbye waits for the thaw
        finally:
            with contextlib.suppress(OSError):
                writer.close()
